"""The segment SQL compiler (shared/segment_sql.py): what a checked segmentation compiles to.

What the compiled SQL selects is tested on the emulator (tests/sql/test_segment_sql.py);
here: every value travels as a named parameter and the query text is made only of fixed
fragments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.segmentation import (
    FIELDS,
    MAX_FILTERS,
    FilterProblem,
    Operator,
    check_operator,
    field_ref,
    parse_segmentation,
)
from shared.ports import QueryValue
from shared.segment_sql import audience_query, compile_segmentation
from shared.services.segments import estimate

CNPJ = Cnpj("11222333000181")
NOW = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
SEED: dict[str, Any] = {
    "include_all": False,
    "included_tags": ["vip", "black-friday"],
    "excluded_tags": ["unsubscribed"],
    "custom_filters": [
        {"field": "last_purchase", "operator": "greater_than", "value": "2024-01-01"}
    ],
}
INJECTION = "x' OR 1=1 --"
PARAMETER = re.compile(r"@(\w+)")


def one_filter(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        item["value"] = value
    return {"include_all": True, "custom_filters": [item]}


def compiled(data: Mapping[str, Any]) -> tuple[str, dict[str, QueryValue]]:
    return compile_segmentation(parse_segmentation(data), as_of=NOW)


# -- the seed example --------------------------------------------------------------------------


def test_seed_example_compiles_to_fragments_and_parameters() -> None:
    sql, params = compiled(SEED)

    assert params == {
        "p0": ["vip", "black-friday"],
        "zone": "America/Sao_Paulo",
        "p1": date(2024, 1, 1),
        "p2": ["unsubscribed"],
    }
    tag_in = (
        "EXISTS(SELECT 1 FROM UNNEST(p.tags) AS label"
        " WHERE LOWER(label) IN (SELECT LOWER(item) FROM UNNEST({}) AS item))"
    )
    assert sql == (
        f"({tag_in.format('@p0')})\n"
        "    AND CAST(FORMAT_TIMESTAMP('%F', p.last_purchase, @zone) AS DATE) > @p1\n"
        f"    AND NOT {tag_in.format('@p2')}"
    )


def test_audience_query_is_the_sql_file_with_the_condition_in_place() -> None:
    sql, params = audience_query(
        CNPJ,
        parse_segmentation(SEED),
        as_of=NOW,
        opted_out_phones=["+5511987654321", "+5511987654321", "+5521976543210"],
    )

    assert "`11222333000181_CAMPAIGN.customer_profile` AS p" in sql
    assert "{" not in sql
    assert "AND CAST(FORMAT_TIMESTAMP('%F', p.last_purchase, @zone) AS DATE) > @p1" in sql
    assert params["opted_out_phones"] == ["+5511987654321", "+5521976543210"]
    assert set(PARAMETER.findall(sql)) == set(params)  # nothing unused, nothing missing
    assert sql.splitlines()[-1] == "  )"
    select = sql[sql.index("SELECT") : sql.index("FROM")]
    columns = [line.strip(" ,").removeprefix("p.") for line in select.splitlines()[1:]]
    assert columns == ["customer_id", "contact_id", "name", "phone", "bsuid", "timezone", "tags"]


def test_estimate_counts_over_exactly_the_audience_query() -> None:
    class RecordingWarehouse:
        def __init__(self) -> None:
            self.calls: list[tuple[str, Mapping[str, QueryValue]]] = []

        def query(self, sql: str, params: Mapping[str, QueryValue]) -> Iterable[dict[str, Any]]:
            self.calls.append((sql, params))
            return [{"audience": 7}]

    warehouse = RecordingWarehouse()
    segmentation = parse_segmentation(SEED)
    ledger = ["+5511987654321"]

    count = estimate(warehouse, CNPJ, segmentation, as_of=NOW, opted_out_phones=ledger)  # type: ignore[arg-type]

    audience_sql, audience_params = audience_query(
        CNPJ, segmentation, as_of=NOW, opted_out_phones=ledger
    )
    [(sql, params)] = warehouse.calls
    assert count == 7
    assert sql.startswith("-- ")
    assert f"SELECT COUNT(*) AS audience\nFROM (\n{audience_sql}\n)" in sql
    assert params == audience_params


# -- values are parameters, never SQL text ------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        one_filter("name", "equals", INJECTION),
        one_filter("name", "in", ["a", INJECTION]),
        one_filter("custom_fields.bairro", "contains", INJECTION),
        one_filter("email", "starts_with", "'; DROP TABLE clientes; --"),
        {"include_all": False, "included_tags": [INJECTION]},
        {"include_all": True, "excluded_groups": ["`x`.y"]},
    ],
)
def test_values_only_travel_as_parameters(data: dict[str, Any]) -> None:
    sql, params = audience_query(CNPJ, parse_segmentation(data), as_of=NOW, opted_out_phones=[])

    for forbidden in ("'; DROP", INJECTION, "`x`", "bairro"):
        assert forbidden not in sql
    assert set(PARAMETER.findall(sql)) == set(params)
    assert all(re.fullmatch(r"p\d+|as_of|zone|opted_out_phones", name) for name in params)
    values = [
        v for value in params.values() for v in (value if isinstance(value, list) else [value])
    ]
    assert any(isinstance(v, str) and (INJECTION in v or "DROP" in v or "`x`" in v) for v in values)


def test_custom_field_key_is_a_parameter_too() -> None:
    sql, params = compiled(one_filter("custom_fields.bairro", "equals", "Centro"))

    assert params == {"p0": "bairro", "p1": "Centro"}
    assert "custom.key = @p0" in sql
    assert "LOWER(@p1)" in sql


def test_generated_names_never_collide() -> None:
    filters = [{"field": "visit_count", "operator": "between", "value": [1, 2]}] * MAX_FILTERS
    sql, params = compiled(
        {"include_all": False, "included_tags": ["a"], "custom_filters": filters}
    )

    assert len(params) == 1 + 2 * MAX_FILTERS
    assert set(PARAMETER.findall(sql)) == set(params)


# -- compilation details ------------------------------------------------------------------------


def test_every_field_compiles_with_every_operator_it_accepts() -> None:
    samples: dict[str, Any] = {"string": "x", "number": 3}
    for name, field_type in FIELDS.items():
        sample = samples.get(field_type.value, "2024-01-01")
        for operator in Operator:
            if operator in (Operator.IS_SET, Operator.IS_NOT_SET):
                value = None
            elif operator is Operator.BETWEEN:
                value = [sample, sample]
            elif operator in (Operator.IN, Operator.NOT_IN):
                value = [sample]
            else:
                value = sample
            data = one_filter(name, operator.value, value)
            try:
                check_operator(field_ref(name), operator)
            except FilterProblem:
                with pytest.raises(FieldError, match="is not available for"):
                    parse_segmentation(data)
                continue
            sql, params = compiled(data)
            assert set(PARAMETER.findall(sql)) == set(params), (name, operator)


def test_negations_also_select_members_without_a_value() -> None:
    sql, _ = compiled(one_filter("name", "not_in", ["a", "b"]))
    assert sql == (
        "NOT IFNULL(LOWER(p.name) IN (SELECT LOWER(item) FROM UNNEST(@p0) AS item), FALSE)"
    )
    sql, _ = compiled(one_filter("email", "is_not_set"))
    assert sql == "NOT IFNULL(NULLIF(TRIM(p.email), '') IS NOT NULL, FALSE)"


def test_now_and_zone_are_sent_only_when_a_filter_needs_them() -> None:
    _, params = compiled(one_filter("visit_count", "greater_than", 2))
    assert params == {"p0": 2}

    sql, params = compile_segmentation(
        parse_segmentation(one_filter("days_since_last_purchase", "greater_or_equal", 30)),
        as_of=NOW,
        zone=ZoneInfo("America/Manaus"),
    )
    assert params == {"as_of": NOW, "zone": "America/Manaus", "p0": 30}
    assert "DATE_DIFF(CAST(FORMAT_TIMESTAMP('%F', @as_of, @zone) AS DATE)" in sql

    _, params = compiled(one_filter("signed_up_at", "less_than", "2026-11-20T01:00:00Z"))
    assert params == {"p0": datetime(2026, 11, 20, 1, 0, tzinfo=UTC)}


def test_number_lists_are_float_arrays_and_text_lists_are_lowered_in_sql() -> None:
    sql, params = compiled(one_filter("custom_fields.pontos", "in", [80, 120.5]))
    assert params == {"p0": "pontos", "p1": [80.0, 120.5]}
    assert "SAFE_CAST(" in sql and "AS FLOAT64) IN UNNEST(@p1)" in sql

    _, params = compiled(one_filter("custom_fields.pontos", "in", ["80", "abc"]))
    assert params == {"p0": "pontos", "p1": ["80", "abc"]}


def test_phone_values_are_compared_in_e164() -> None:
    _, params = compiled(one_filter("phone", "in", ["(11) 8765-4321", "+55 21 97654-3210", "x"]))
    assert params == {"p0": ["+5511987654321", "+5521976543210", "x"]}
    _, params = compiled(one_filter("phone", "starts_with", "+5511"))
    assert params == {"p0": "+5511"}


def test_include_all_without_criteria_is_everyone() -> None:
    sql, params = compiled({"include_all": True})
    assert (sql, params) == ("TRUE", {})


def test_filters_alone_select_when_include_all_is_false() -> None:
    sql, _ = compiled({"include_all": False, **one_filter("visit_count", "greater_than", 1)})
    assert sql == "p.visit_count > @p0"


def test_as_of_must_be_aware_and_zone_must_exist() -> None:
    segmentation = parse_segmentation(SEED)
    with pytest.raises(ValueError, match="timezone-aware"):
        compile_segmentation(segmentation, as_of=datetime(2026, 11, 20, 11, 30))
    with pytest.raises(FieldError):
        compile_segmentation(segmentation, as_of=NOW, zone="Mars/Olympus")
