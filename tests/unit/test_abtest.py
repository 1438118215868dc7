"""A/B tests: the config's rules, deterministic assignment, and the significance decision.

Every p-value is checked against a hand computation from the normal (or, for three variants,
the chi-square with two degrees of freedom, whose tail is exp(-x/2)) distribution, written out
with :mod:`math` only, so the test does not trust the library the module uses.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pydantic
import pytest

from shared.domain.abtest import (
    ABTestConfig,
    Assignment,
    Funnel,
    VariantCounts,
    assign,
    counts_from_funnel,
    decide,
    unit_hash,
)

SEED: dict[str, Any] = {
    "enabled": True,
    "test_percentage": 20.0,
    "variants": [
        {"name": "A", "percentage": 50.0, "template_id": "uuid-template-a"},
        {"name": "B", "percentage": 50.0, "template_id": "uuid-template-b"},
    ],
    "metric_to_optimize": "conversion_rate",
    "minimum_sample_size": 100,
    "significance_level": 0.95,
}


def config(**changes: Any) -> ABTestConfig:
    return ABTestConfig.model_validate({**SEED, **changes})


def variants(*shares: float) -> list[dict[str, Any]]:
    return [
        {"name": chr(ord("A") + index), "percentage": share, "template_id": f"t-{index}"}
        for index, share in enumerate(shares)
    ]


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided pooled two-proportion z-test, from the normal distribution by hand."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = abs(x1 / n1 - x2 / n2) / se
    return math.erfc(z / math.sqrt(2))


def pearson_statistic(rows: list[tuple[int, int]]) -> float:
    """Pearson's chi-square of a k x 2 table of (successes, sample)."""
    total = sum(n for _, n in rows)
    successes = sum(x for x, _ in rows)
    statistic = 0.0
    for x, n in rows:
        for observed, column_total in ((x, successes), (n - x, total - successes)):
            expected = n * column_total / total
            statistic += (observed - expected) ** 2 / expected
    return statistic


# -- config -------------------------------------------------------------------------------------


def test_the_seed_payload_is_accepted_with_its_meaning() -> None:
    parsed = config()
    assert parsed.variant_names == ["A", "B"]
    assert parsed.alpha == pytest.approx(0.05)
    assert parsed.confidence == pytest.approx(0.95)
    assert parsed.fallback == "A"
    assert parsed.template_ids == ["uuid-template-a", "uuid-template-b"]


@pytest.mark.parametrize(
    ("level", "alpha"),
    [(0.95, 0.05), (0.99, 0.01), (0.5, 0.5), (0.05, 0.05), (0.01, 0.01), (0.1, 0.1)],
)
def test_significance_level_is_a_confidence_from_one_half_up_else_alpha(
    level: float, alpha: float
) -> None:
    assert config(significance_level=level).alpha == pytest.approx(alpha)


def test_open_rate_is_an_alias_of_read_rate() -> None:
    assert config(metric_to_optimize="open_rate").metric_to_optimize == "read_rate"


def test_template_ids_are_listed_once_in_variant_order() -> None:
    shared_template = variants(40, 30, 30)
    shared_template[2]["template_id"] = "t-0"
    assert config(variants=shared_template).template_ids == ["t-0", "t-1"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"variants": variants(100)}, "variants", "at least 2"),
        ({"variants": variants(*[10] * 11)}, "variants", "at most 10"),
        ({"variants": variants(50, 40)}, "variants", "add up to 100, they add up to 90"),
        ({"variants": variants(50, 50.02)}, "variants", "add up to 100"),
        (
            {"variants": [{**v, "name": "A"} for v in variants(50, 50)]},
            "variants",
            "variants[1].name: 'A' is already the name of variants[0]",
        ),
        ({"test_percentage": 0}, "test_percentage", "greater than 0"),
        ({"test_percentage": 100.5}, "test_percentage", "less than or equal to 100"),
        ({"metric_to_optimize": "revenue"}, "metric_to_optimize", "delivery_rate"),
        ({"minimum_sample_size": 0}, "minimum_sample_size", "greater than or equal to 1"),
        ({"significance_level": 1.0}, "significance_level", "less than 1"),
        ({"significance_level": 95}, "significance_level", "less than 1"),
        ({"significance_level": 0}, "significance_level", "greater than 0"),
        ({"fallback_variant": "C"}, "fallback_variant", "'C' is not one of the variants (A, B)"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_invalid_configs_name_the_field(changes: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        config(**changes)
    errors = raised.value.errors()
    assert len(errors) == 1, errors
    assert ".".join(str(part) for part in errors[0]["loc"]) == field
    assert message in errors[0]["msg"]


def test_a_fallback_variant_can_be_chosen() -> None:
    assert config(fallback_variant="B").fallback == "B"


def test_shares_like_thirds_are_accepted() -> None:
    assert len(config(variants=variants(33.33, 33.33, 33.34)).variants) == 3


# -- assignment ---------------------------------------------------------------------------------

IDS = [f"customer-{index}" for index in range(100_000)]


def test_assignment_is_deterministic() -> None:
    settings = config(variants=variants(20, 30, 50), test_percentage=50)
    first = [assign("campaign-1", customer, settings) for customer in IDS[:2000]]
    again = [assign("campaign-1", customer, settings) for customer in IDS[:2000]]
    assert first == again
    other_campaign = [assign("campaign-2", customer, settings) for customer in IDS[:2000]]
    changed = sum(a != b for a, b in zip(first, other_campaign, strict=True))
    assert 800 < changed < 1600  # another campaign re-deals the cards


def test_group_and_variant_shares_match_the_config_on_100k_ids() -> None:
    settings = config(variants=variants(20, 30, 50), test_percentage=20)
    assignments = [assign("campaign-1", customer, settings) for customer in IDS]
    groups = Counter(assignment.group for assignment in assignments)
    tested = Counter(assignment.variant for assignment in assignments if assignment.in_test)

    # Five binomial standard deviations: a correct hash fails this about once in 3.5 million.
    def within(count: int, n: int, share: float) -> bool:
        return abs(count - n * share) < 5 * math.sqrt(n * share * (1 - share))

    assert within(groups["test"], len(IDS), 0.2), groups
    assert all(a.variant is None for a in assignments if not a.in_test)
    n_test = groups["test"]
    for name, share in (("A", 0.2), ("B", 0.3), ("C", 0.5)):
        assert within(tested[name], n_test, share), tested


def test_group_and_variant_are_independent() -> None:
    """The variant hash splits the test group and the rollout group alike (no correlation)."""
    table = Counter(
        (
            unit_hash("ab-group", "campaign-1", customer) < 0.2,
            unit_hash("ab-variant", "campaign-1", customer) < 0.5,
        )
        for customer in IDS
    )
    rows = [
        (table[(group, True)], table[(group, True)] + table[(group, False)])
        for group in (True, False)
    ]
    statistic = pearson_statistic(rows)
    p = math.erfc(math.sqrt(statistic / 2))  # chi-square, one degree of freedom
    assert p > 0.001, (table, p)


def test_everyone_is_tested_at_100_percent_and_variants_follow_cumulative_shares() -> None:
    settings = config(variants=variants(10, 90), test_percentage=100)
    for customer in IDS[:3000]:
        got = assign("c", customer, settings)
        expected = "A" if unit_hash("ab-variant", "c", customer) < 0.1 else "B"
        assert got == Assignment("test", expected)


def test_hash_fields_cannot_run_into_each_other() -> None:
    assert unit_hash("ab-group", "ab", "c") != unit_hash("ab-group", "a", "bc")
    assert 0 <= unit_hash("ab-group", "", "") < 1


def test_a_disabled_test_assigns_nobody() -> None:
    with pytest.raises(ValueError, match="disabled"):
        assign("c", "x", config(enabled=False))


# -- the funnel ---------------------------------------------------------------------------------


def test_each_metric_is_measured_on_its_denominator() -> None:
    funnel = Funnel(sent=1000, delivered=900, read=600, clicked=90, converted=45)
    assert counts_from_funnel("delivery_rate", funnel) == VariantCounts(1000, 900)
    assert counts_from_funnel("read_rate", funnel) == VariantCounts(900, 600)
    assert counts_from_funnel("click_through_rate", funnel) == VariantCounts(900, 90)
    assert counts_from_funnel("conversion_rate", funnel) == VariantCounts(900, 45)
    assert VariantCounts(900, 45).rate == pytest.approx(0.05)
    assert VariantCounts(0, 0).rate == 0.0


@pytest.mark.parametrize(("sample", "successes"), [(10, 11), (10, -1), (-1, 0)])
def test_impossible_counts_are_refused(sample: int, successes: int) -> None:
    with pytest.raises(ValueError, match="successes <= sample"):
        VariantCounts(sample, successes)


def test_a_funnel_with_more_reads_than_deliveries_is_refused() -> None:
    with pytest.raises(ValueError, match="successes <= sample"):
        counts_from_funnel("read_rate", Funnel(sent=10, delivered=5, read=6))


# -- the decision -------------------------------------------------------------------------------


def test_a_significant_difference_names_the_winner_with_the_z_test_p_value() -> None:
    decision = decide(config(), {"A": VariantCounts(1000, 200), "B": VariantCounts(1000, 250)})
    expected = two_proportion_p(200, 1000, 250, 1000)
    assert expected == pytest.approx(0.00742, abs=1e-5)  # z = 2.677
    assert decision.status == "winner"
    assert decision.winner == decision.rollout_variant == "B"
    assert decision.p_value == pytest.approx(expected, rel=1e-9)
    assert decision.confidence_level == pytest.approx(100 * (1 - expected))
    assert (decision.best, decision.runner_up) == ("B", "A")
    assert decision.rates == {"A": 0.2, "B": 0.25}


def test_the_confidence_needed_follows_the_significance_level() -> None:
    counts = {"A": VariantCounts(500, 50), "B": VariantCounts(500, 73)}
    p = two_proportion_p(50, 500, 73, 500)
    assert 0.01 < p < 0.05
    assert decide(config(significance_level=0.95), counts).status == "winner"
    assert decide(config(significance_level=0.05), counts).status == "winner"
    assert decide(config(significance_level=0.99), counts).status == "no_winner"
    assert decide(config(significance_level=0.01), counts).status == "no_winner"


def test_no_significant_difference_rolls_out_the_fallback() -> None:
    counts = {"A": VariantCounts(400, 40), "B": VariantCounts(400, 48)}
    default = decide(config(), counts)
    assert default.status == "no_winner"
    assert default.winner is None
    assert default.rollout_variant == "A"
    assert default.best == "B"
    assert default.p_value == pytest.approx(two_proportion_p(40, 400, 48, 400), rel=1e-9)
    assert decide(config(fallback_variant="B"), counts).rollout_variant == "B"


def test_a_variant_below_the_minimum_sample_keeps_the_test_collecting() -> None:
    counts = {"A": VariantCounts(1000, 200), "B": VariantCounts(99, 60)}
    decision = decide(config(), counts)
    assert decision.status == "collecting"
    assert decision.winner is None
    assert decision.rollout_variant is None
    assert decision.p_value == pytest.approx(two_proportion_p(200, 1000, 60, 99), rel=1e-9)
    assert decide(config(), {"A": VariantCounts(1000, 200)}).status == "collecting"


def test_nothing_measured_yet() -> None:
    decision = decide(config(), {})
    assert decision.status == "collecting"
    assert decision.p_value is None
    assert decision.confidence_level is None
    assert decision.rates == {"A": 0.0, "B": 0.0}


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param({"A": (500, 0), "B": (800, 0)}, id="zero-successes-everywhere"),
        pytest.param({"A": (500, 500), "B": (800, 800)}, id="all-successes-everywhere"),
        pytest.param({"A": (500, 50), "B": (800, 80)}, id="identical-rates"),
    ],
)
def test_no_difference_at_all_has_p_value_one(counts: dict[str, tuple[int, int]]) -> None:
    decision = decide(config(), {name: VariantCounts(*pair) for name, pair in counts.items()})
    assert decision.status == "no_winner"
    assert decision.p_value == pytest.approx(1.0)
    assert decision.confidence_level == pytest.approx(0.0, abs=1e-9)
    assert decision.rollout_variant == "A"
    assert decision.best == "A"  # a tie keeps the configured order


def test_three_variants_need_the_omnibus_and_the_adjusted_best_against_runner_up() -> None:
    settings = config(variants=variants(34, 33, 33))
    counts = {
        "A": VariantCounts(1000, 100),
        "B": VariantCounts(1000, 150),
        "C": VariantCounts(1000, 110),
    }
    decision = decide(settings, counts)

    omnibus = math.exp(-pearson_statistic([(100, 1000), (150, 1000), (110, 1000)]) / 2)
    pair = min(1.0, 2 * two_proportion_p(150, 1000, 110, 1000))
    assert (decision.best, decision.runner_up) == ("B", "C")
    assert decision.p_value == pytest.approx(max(omnibus, pair), rel=1e-9)
    assert pair > omnibus  # here the pairwise comparison is the binding one
    assert decision.p_value is not None
    assert decision.p_value < 0.05
    assert decision.status == "winner"
    assert decision.winner == "B"


def test_three_variants_where_only_the_worst_differs_have_no_winner() -> None:
    settings = config(variants=variants(34, 33, 33))
    counts = {
        "A": VariantCounts(1000, 150),
        "B": VariantCounts(1000, 152),
        "C": VariantCounts(1000, 80),
    }
    decision = decide(settings, counts)
    omnibus = math.exp(-pearson_statistic([(150, 1000), (152, 1000), (80, 1000)]) / 2)
    assert omnibus < 0.001  # some variant differs ...
    assert two_proportion_p(152, 1000, 150, 1000) > 0.5
    assert decision.p_value == 1.0  # 2 x p, capped: Bonferroni over the two comparisons
    assert decision.status == "no_winner"  # ... but the best is not better than the runner-up
    assert decision.rollout_variant == "A"


def test_counts_of_unknown_variants_are_refused() -> None:
    with pytest.raises(ValueError, match="does not have"):
        decide(config(), {"Z": VariantCounts(1, 1)})


def test_every_field_is_documented_for_openapi() -> None:
    schema = ABTestConfig.model_json_schema()
    for properties in (schema["properties"], schema["$defs"]["ABVariant"]["properties"]):
        assert all(field.get("description") for field in properties.values()), properties
