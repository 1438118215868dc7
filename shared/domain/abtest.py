"""A/B tests of a campaign's templates: who gets which variant, and when a winner is known.

A test sends each variant to a small slice of the audience (the *test group*), waits until
every variant has been measured on enough customers, and then sends the winner — or, when no
variant is significantly better, the fallback — to everyone else (the *rollout group*).

Assignment is a pure function of (campaign, customer): a re-run, a redelivered message or a
second worker computes the same group and variant, so no assignment table is needed and a
customer never sees two variants of one campaign. Two independent hashes decide the group and
the variant, so the variants' shares inside the test group do not depend on how the test
percentage slices the audience.

The decision is a frequentist test on one metric (higher is better for all of them):

* two variants: the two-sided two-proportion z-test, computed as a 2x2 chi-square without
  continuity correction (the same p-value: chi-square with one degree of freedom is z squared);
* more variants: a k x 2 chi-square first (is there any difference at all?), then the best
  variant against the runner-up, Bonferroni-adjusted for the k - 1 comparisons the best could
  have been made against. A winner needs both to be significant, so the reported p-value is the
  larger of the two (an intersection-union test) and controls the error of naming a winner.

For two variants both steps are the same test, so the p-value is exactly the z-test's.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from scipy import stats  # untyped: results become float where they leave this module

Metric = Literal["delivery_rate", "read_rate", "click_through_rate", "conversion_rate"]
METRICS: tuple[Metric, ...] = (
    "delivery_rate",
    "read_rate",
    "click_through_rate",
    "conversion_rate",
)
_METRIC_ALIASES = {"open_rate": "read_rate", "ctr": "click_through_rate"}

PERCENT_TOLERANCE = 0.01
"""How far from 100 the variants' percentages may add up (two-decimal shares like 33.33)."""


class ABVariant(BaseModel):
    """One arm of the test: a name and the approved template its customers receive."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,31}$",
        description="Unique within the test, e.g. `A`; recorded with every message sent.",
        examples=["A"],
    )
    percentage: float = Field(
        gt=0,
        le=100,
        description="Share of the TEST GROUP (not of the whole audience) that gets this variant;"
        " the variants' shares add up to 100.",
        examples=[50.0],
    )
    template_id: str = Field(
        min_length=1,
        max_length=128,
        description="Id of the campaign template this variant sends (checked by the campaign).",
        examples=["uuid-template-a"],
    )


class ABTestConfig(BaseModel):
    """A campaign's A/B test (PyTake's ``ab_test_config``), validated once at the edge."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="False keeps the settings but sends no test.")
    test_percentage: float = Field(
        gt=0,
        le=100,
        description="Share of the audience in the test group (0 < x <= 100). The rest waits and"
        " receives the winner, or the fallback variant when no variant wins.",
        examples=[20.0],
    )
    variants: list[ABVariant] = Field(
        min_length=2,
        max_length=10,
        description="2 to 10 variants with unique names whose percentages add up to 100.",
    )
    metric_to_optimize: Metric = Field(
        default="conversion_rate",
        description="delivery_rate = delivered/sent; read_rate (alias open_rate) = read/delivered;"
        " click_through_rate = clicks/delivered; conversion_rate = conversions/delivered.",
    )
    minimum_sample_size: int = Field(
        default=100,
        ge=1,
        description="Customers each variant must be measured on (the metric's denominator)"
        " before a decision is made.",
    )
    significance_level: float = Field(
        default=0.95,
        gt=0,
        lt=1,
        description="Values in [0.5, 1) are a confidence level (0.95 = 95% confident, i.e."
        " alpha 0.05, as in the PyTake seed); values in (0, 0.5) are alpha itself (0.05).",
        examples=[0.95],
    )
    fallback_variant: str | None = Field(
        default=None,
        description="Variant sent to the rest of the audience when no variant wins;"
        " default: the first variant.",
    )

    @field_validator("metric_to_optimize", mode="before")
    @classmethod
    def _metric_alias(cls, value: object) -> object:
        return _METRIC_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("variants")
    @classmethod
    def _variants_consistent(cls, variants: list[ABVariant]) -> list[ABVariant]:
        seen: dict[str, int] = {}
        for index, variant in enumerate(variants):
            if variant.name in seen:
                raise ValueError(
                    f"variants[{index}].name: {variant.name!r} is already the name of"
                    f" variants[{seen[variant.name]}]; names must be unique"
                )
            seen[variant.name] = index
        total = sum(variant.percentage for variant in variants)
        if abs(total - 100) > PERCENT_TOLERANCE:
            raise ValueError(
                f"variants[*].percentage: must add up to 100, they add up to {total:g}"
            )
        return variants

    @field_validator("fallback_variant")
    @classmethod
    def _fallback_is_a_variant(cls, value: str | None, info: ValidationInfo) -> str | None:
        variants: list[ABVariant] | None = info.data.get("variants")  # None: they were invalid
        names = [variant.name for variant in variants or []]
        if value is not None and variants is not None and value not in names:
            raise ValueError(f"{value!r} is not one of the variants ({', '.join(names)})")
        return value

    @property
    def alpha(self) -> float:
        """The accepted probability of naming a winner that is not better (a false positive)."""
        level = self.significance_level
        return 1 - level if level >= 0.5 else level

    @property
    def confidence(self) -> float:
        """The confidence a winner needs, as a fraction (0.95)."""
        return 1 - self.alpha

    @property
    def fallback(self) -> str:
        return self.fallback_variant or self.variants[0].name

    @property
    def variant_names(self) -> list[str]:
        return [variant.name for variant in self.variants]

    @property
    def template_ids(self) -> list[str]:
        """Every template the test references, once each, in variant order."""
        return list(dict.fromkeys(variant.template_id for variant in self.variants))

    def variant(self, name: str) -> ABVariant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)


# -- assignment ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one customer falls: the test group (with its variant) or the rollout group.

    A rollout customer's variant is decided later, by :func:`decide`; until then ``variant``
    is None.
    """

    group: Literal["test", "rollout"]
    variant: str | None = None

    @property
    def in_test(self) -> bool:
        return self.group == "test"


def unit_hash(purpose: str, campaign_id: str, customer_id: str) -> float:
    """A uniform number in [0, 1) from sha256 of (purpose, campaign, customer).

    Fields are joined with a separator that cannot occur in them unnoticed (NUL), so
    ("ab", "c") and ("a", "bc") never hash alike; 53 bits make the float exact.
    """
    key = "\x00".join((purpose, campaign_id, customer_id)).encode()
    digest = hashlib.sha256(key).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def assign(campaign_id: str, customer_id: str, config: ABTestConfig) -> Assignment:
    """The customer's group and, in the test group, variant. Deterministic and stateless."""
    if not config.enabled:
        raise ValueError("the A/B test is disabled: every customer gets the campaign's template")
    if unit_hash("ab-group", campaign_id, customer_id) >= config.test_percentage / 100:
        return Assignment("rollout")
    point = unit_hash("ab-variant", campaign_id, customer_id) * sum(
        variant.percentage for variant in config.variants
    )
    cumulative = 0.0
    for variant in config.variants[:-1]:
        cumulative += variant.percentage
        if point < cumulative:
            return Assignment("test", variant.name)
    return Assignment("test", config.variants[-1].name)


# -- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantCounts:
    """A variant's measurement: customers measured (the denominator) and successes."""

    sample: int
    successes: int

    def __post_init__(self) -> None:
        if self.sample < 0 or not 0 <= self.successes <= self.sample:
            raise ValueError(
                f"need 0 <= successes <= sample, got {self.successes} of {self.sample}"
            )

    @property
    def rate(self) -> float:
        """successes / sample; 0.0 for an empty sample."""
        return self.successes / self.sample if self.sample else 0.0


@dataclass(frozen=True, slots=True)
class Funnel:
    """A variant's message funnel, every count cumulative (a read message was delivered).

    ``delivered`` counts every message that reached DELIVERED *or beyond* (READ), ``read`` every
    READ one; ``clicked`` customers who pressed a button or link; ``converted`` those who bought.
    """

    sent: int
    delivered: int
    read: int = 0
    clicked: int = 0
    converted: int = 0


def counts_from_funnel(metric: Metric, funnel: Funnel) -> VariantCounts:
    """The metric's (sample, successes).

    Everything after delivery is measured on *delivered* messages: a message that never
    arrived could not be read, clicked or lead to a sale, and the delivery rate measures that
    part on its own. Reads are not the denominator of clicks or conversions because WhatsApp
    users can switch read receipts off — a customer may click or buy without a ``read``.
    """
    if metric == "delivery_rate":
        return VariantCounts(funnel.sent, funnel.delivered)
    successes = {
        "read_rate": funnel.read,
        "click_through_rate": funnel.clicked,
        "conversion_rate": funnel.converted,
    }[metric]
    return VariantCounts(funnel.delivered, successes)


# -- deciding ------------------------------------------------------------------------------

Status = Literal["collecting", "winner", "no_winner"]


@dataclass(frozen=True, slots=True)
class VariantResult:
    name: str
    sample: int
    successes: int
    rate: float


@dataclass(frozen=True, slots=True)
class ABDecision:
    """The state of a test.

    ``collecting``: some variant has fewer than ``minimum_sample_size`` measured customers;
    nobody outside the test group is sent anything yet. ``winner``: ``winner`` beat the others
    at the configured confidence and is the ``rollout_variant``. ``no_winner``: enough data but
    no significant difference; the fallback variant is rolled out.

    ``p_value``/``confidence_level`` (percent, ``(1 - p) * 100``) are also given while
    collecting, for display; a decision is only taken once every sample is complete.
    They are None when no variant has been measured yet.
    """

    status: Status
    metric: Metric
    winner: str | None
    rollout_variant: str | None
    p_value: float | None
    confidence_level: float | None
    best: str | None
    """The variant with the highest rate (ties: the earlier variant)."""
    runner_up: str | None
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def rates(self) -> dict[str, float]:
        return {result.name: result.rate for result in self.variants}


def decide(config: ABTestConfig, counts: Mapping[str, VariantCounts]) -> ABDecision:
    """Decide the test from the test group's counts (variants missing from ``counts``: none yet)."""
    unknown = set(counts) - set(config.variant_names)
    if unknown:
        raise ValueError(f"counts for variants the test does not have: {sorted(unknown)}")
    results = [
        VariantResult(name, c.sample, c.successes, c.rate)
        for name in config.variant_names
        for c in [counts.get(name, VariantCounts(0, 0))]
    ]
    ranked = sorted(results, key=lambda result: -result.rate)  # stable: ties keep config order
    best, runner_up = ranked[0], ranked[1]
    p_value = _p_value(results, best, runner_up)
    confidence = None if p_value is None else (1 - p_value) * 100

    def decision(status: Status, winner: str | None, rollout: str | None) -> ABDecision:
        return ABDecision(
            status=status,
            metric=config.metric_to_optimize,
            winner=winner,
            rollout_variant=rollout,
            p_value=p_value,
            confidence_level=confidence,
            best=best.name if p_value is not None else None,
            runner_up=runner_up.name if p_value is not None else None,
            variants=results,
        )

    if any(result.sample < config.minimum_sample_size for result in results):
        return decision("collecting", None, None)
    if p_value is not None and p_value < config.alpha and best.rate > runner_up.rate:
        return decision("winner", best.name, best.name)
    return decision("no_winner", None, config.fallback)


def _p_value(
    results: Sequence[VariantResult], best: VariantResult, runner_up: VariantResult
) -> float | None:
    if all(result.sample == 0 for result in results):
        return None
    measured = [result for result in results if result.sample > 0]
    omnibus = _chi_square_p(measured)
    pair = _chi_square_p([best, runner_up])
    adjusted = min(1.0, pair * (len(results) - 1))
    return max(omnibus, adjusted)


def _chi_square_p(results: Sequence[VariantResult]) -> float:
    """Pearson's chi-square p-value of a k x 2 table (no continuity correction).

    A table without variation — fewer than two measured variants, or every customer a success,
    or none — shows no difference at all: p = 1.
    """
    table = [[r.successes, r.sample - r.successes] for r in results if r.sample > 0]
    successes = sum(row[0] for row in table)
    failures = sum(row[1] for row in table)
    if len(table) < 2 or successes == 0 or failures == 0:
        return 1.0
    _, p, _, _ = stats.chi2_contingency(table, correction=False)
    p = float(p)
    return 1.0 if math.isnan(p) else p
