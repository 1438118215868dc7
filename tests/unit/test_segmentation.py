"""Segmentations: what validates (and where the error points), and what they compile to.

What the compiled SQL selects is tested on the emulator (tests/sql/test_segment_sql.py);
here: every value travels as a named parameter, errors name the filter part at fault, and
the query text is made only of fixed fragments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.segmentation import (
    FIELDS,
    MAX_FILTERS,
    MAX_VALUES,
    FilterProblem,
    Operator,
    Segmentation,
    ValueKind,
    check_operator,
    field_path,
    field_ref,
    parse_segmentation,
)
from shared.ports import QueryValue
from shared.services.segments import audience_query, compile_segmentation, estimate

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


def error_of(data: Any) -> FieldError:
    with pytest.raises(FieldError) as caught:
        parse_segmentation(data)
    return caught.value


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
    assert columns == ["customer_id", "contact_id", "name", "phone", "timezone", "tags"]


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


# -- typed values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "operator", "value", "kind", "values"),
    [
        ("last_purchase", "greater_than", "2024-01-01", ValueKind.DATE, (date(2024, 1, 1),)),
        (
            "last_purchase",
            "less_than",
            "2024-01-01T10:00:00-03:00",
            ValueKind.INSTANT,
            (datetime(2024, 1, 1, 13, 0, tzinfo=UTC),),
        ),
        ("visit_count", "equals", "12", ValueKind.NUMBER, (12,)),
        ("total_spent", "greater_than", " 12.5 ", ValueKind.NUMBER, (12.5,)),
        ("total_spent", "between", [10, 20.5], ValueKind.NUMBER, (10, 20.5)),
        ("custom_fields.pontos", "greater_than", "100", ValueKind.NUMBER, (100,)),
        ("custom_fields.desde", "less_than", "2020-05-01", ValueKind.DATE, (date(2020, 5, 1),)),
        ("custom_fields.pontos", "equals", 80, ValueKind.NUMBER, (80,)),
        ("custom_fields.pontos", "equals", "80", ValueKind.TEXT, ("80",)),
        ("birth_date", "between", ["1990-01-01", "1999-12-31"], ValueKind.DATE, None),
        ("email", "is_set", None, ValueKind.NONE, ()),
    ],
)
def test_values_are_typed_by_field_and_operator(
    field: str, operator: str, value: Any, kind: ValueKind, values: tuple[Any, ...] | None
) -> None:
    [condition] = parse_segmentation(one_filter(field, operator, value)).conditions()

    assert condition.kind is kind
    if values is not None:
        assert condition.values == values
        assert [type(v) for v in condition.values] == [type(v) for v in values]


def test_instants_keep_their_offset() -> None:
    [condition] = parse_segmentation(
        one_filter("signed_up_at", "equals", "2026-11-19T22:00:00-03:00")
    ).conditions()
    [instant] = condition.values
    assert isinstance(instant, datetime)
    assert instant.utcoffset() == timedelta(hours=-3)
    assert instant == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


# -- errors name the part of the filter at fault -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (
            {
                "include_all": True,
                "custom_filters": [
                    {"field": "name", "operator": "equals", "value": "x"},
                    {"field": "visit_count", "operator": "greater_than", "value": "abc"},
                ],
            },
            "segmentation.custom_filters[1].value",
            "greater_than needs a number for visit_count, got 'abc'",
        ),
        (
            one_filter("custom_fields.pontos", "greater_than", "abc"),
            "segmentation.custom_filters[0].value",
            "greater_than needs a number or date for custom_fields.pontos, got 'abc'",
        ),
        (
            one_filter("nome", "equals", "x"),
            "segmentation.custom_filters[0].field",
            "unknown field 'nome'",
        ),
        (
            one_filter("custom_fields.a b", "equals", "x"),
            "segmentation.custom_filters[0].field",
            "custom field key 'a b' must be",
        ),
        (
            one_filter("custom_fields.Bairro", "equals", "x"),
            "segmentation.custom_filters[0].field",
            "custom field key 'Bairro' must be written as imports store it",
        ),
        (
            one_filter("custom_fields.", "equals", "x"),
            "segmentation.custom_filters[0].field",
            "custom field key '' must be",
        ),
        (
            one_filter("name", "like", "x"),
            "segmentation.custom_filters[0].operator",
            "Input should be 'equals'",
        ),
        (
            one_filter("name", "greater_than", "x"),
            "segmentation.custom_filters[0].operator",
            "greater_than is not available for name (a string field)",
        ),
        (
            one_filter("visit_count", "contains", "1"),
            "segmentation.custom_filters[0].operator",
            "contains is not available for visit_count (a number field)",
        ),
        (
            one_filter("birth_date", "in", ["2024-01-01"]),
            "segmentation.custom_filters[0].operator",
            "in is not available for birth_date (a date field)",
        ),
        (
            one_filter("name", "equals"),
            "segmentation.custom_filters[0].value",
            "equals needs a value for name",
        ),
        (
            one_filter("name", "is_set", "x"),
            "segmentation.custom_filters[0].value",
            "is_set takes no value, got 'x'",
        ),
        (
            one_filter("name", "equals", ["a"]),
            "segmentation.custom_filters[0].value",
            "equals needs a single value for name, got a list",
        ),
        (
            one_filter("name", "in", "a"),
            "segmentation.custom_filters[0].value",
            "in needs a non-empty list of values for name",
        ),
        (
            one_filter("name", "in", []),
            "segmentation.custom_filters[0].value",
            "in needs a non-empty list of values for name",
        ),
        (
            one_filter("name", "in", [["a"]]),
            "segmentation.custom_filters[0].value",
            "in needs single values for name",
        ),
        (
            one_filter("visit_count", "between", [1]),
            "segmentation.custom_filters[0].value",
            "between needs a list [low, high]",
        ),
        (
            one_filter("visit_count", "between", [5, 1]),
            "segmentation.custom_filters[0].value",
            "between needs low <= high",
        ),
        (
            one_filter("custom_fields.x", "between", [1, "2024-01-01"]),
            "segmentation.custom_filters[0].value",
            "between needs values of one type, got date, number",
        ),
        (
            one_filter("custom_fields.x", "in", [1, "a"]),
            "segmentation.custom_filters[0].value",
            "in needs values of one type, got number, text",
        ),
        (
            one_filter("visit_count", "equals", True),
            "segmentation.custom_filters[0].value",
            "equals needs a number for visit_count, got True",
        ),
        (
            one_filter("total_spent", "greater_than", float("inf")),
            "segmentation.custom_filters[0].value",
            "greater_than needs a number for total_spent",
        ),
        (
            one_filter("name", "equals", 12),
            "segmentation.custom_filters[0].value",
            "equals needs non-empty text for name, got 12",
        ),
        (
            one_filter("name", "contains", "  "),
            "segmentation.custom_filters[0].value",
            "contains needs non-empty text",
        ),
        (
            one_filter("birth_date", "equals", "20/11/1990"),
            "segmentation.custom_filters[0].value",
            "equals needs a date (YYYY-MM-DD) for birth_date, got '20/11/1990'",
        ),
        (
            one_filter("birth_date", "equals", "2024-02-30"),
            "segmentation.custom_filters[0].value",
            "needs a date (YYYY-MM-DD)",
        ),
        (
            one_filter("last_purchase", "greater_than", "2024-01-01T10:00:00"),
            "segmentation.custom_filters[0].value",
            "needs a date (YYYY-MM-DD) or a date-time with a UTC offset",
        ),
        (
            one_filter("custom_fields.x", "contains", 3),
            "segmentation.custom_filters[0].value",
            "contains needs non-empty text for custom_fields.x, got 3",
        ),
        (
            {
                "include_all": True,
                "custom_filters": [{"field": "name", "operator": "is_set", "x": 1}],
            },
            "segmentation.custom_filters[0].x",
            "Extra inputs are not permitted",
        ),
        (
            {"include_all": True, "custom_filters": [{"operator": "is_set"}]},
            "segmentation.custom_filters[0].field",
            "Field required",
        ),
        ({"include_all": False}, "segmentation", "empty audience"),
        ({"include_all": False, "excluded_tags": ["x"]}, "segmentation", "empty audience"),
        (
            {"include_all": True, "included_groups": ["centro"]},
            "segmentation",
            "include_all=true already selects everyone",
        ),
        ({"include_all": True, "included_tags": [""]}, "segmentation.included_tags[0]", ""),
        ({"include_all": True, "other": 1}, "segmentation.other", "Extra inputs"),
    ],
)
def test_errors_name_the_part_at_fault(data: dict[str, Any], field: str, reason: str) -> None:
    error = error_of(data)

    assert error.field == field
    assert reason in error.reason


def test_limits() -> None:
    too_many = [{"field": "visit_count", "operator": "is_set"}] * (MAX_FILTERS + 1)
    assert error_of({"include_all": True, "custom_filters": too_many}).field == (
        "segmentation.custom_filters"
    )
    tags = [f"t{index}" for index in range(MAX_VALUES + 1)]
    assert error_of({"include_all": False, "included_tags": tags}).field == (
        "segmentation.included_tags"
    )
    values = [str(index) for index in range(MAX_VALUES + 1)]
    error = error_of(one_filter("name", "in", values))
    assert error.field == "segmentation.custom_filters[0].value"
    assert error.reason == f"in takes at most {MAX_VALUES} values, got {MAX_VALUES + 1}"
    # exactly at the limits is fine
    parse_segmentation({"include_all": False, "included_tags": tags[:-1]})
    parse_segmentation(one_filter("name", "in", values[:-1]))
    parse_segmentation({"include_all": True, "custom_filters": too_many[:-1]})


def test_errors_inside_a_request_model_point_into_it() -> None:
    # The API embeds Segmentation in its request models; FastAPI reports pydantic's location.
    class CreateCampaign(pydantic.BaseModel):
        name: str
        segmentation: Segmentation

    with pytest.raises(pydantic.ValidationError) as caught:
        CreateCampaign.model_validate(
            {
                "name": "x",
                "segmentation": {
                    "include_all": True,
                    "custom_filters": [
                        {"field": "email", "operator": "is_set"},
                        {"field": "name", "operator": "between", "value": ["a", "b"]},
                    ],
                },
            }
        )
    [error] = caught.value.errors()
    assert error["loc"] == ("segmentation", "custom_filters", 1, "operator")
    assert error["msg"].startswith("between is not available for name (a string field)")
    assert field_path("", error["loc"]) == "segmentation.custom_filters[1].operator"


def test_braces_in_a_value_do_not_break_the_message() -> None:
    error = error_of(one_filter("visit_count", "equals", "{reason}"))
    assert error.reason == "equals needs a number for visit_count, got '{reason}'"


# -- storage and documentation ------------------------------------------------------------------


def test_round_trips_through_json_and_python_dumps() -> None:
    data = {
        **SEED,
        "custom_filters": [
            *SEED["custom_filters"],
            {"field": "visit_count", "operator": "between", "value": [1, 3.5]},
            {"field": "custom_fields.bairro", "operator": "in", "value": ["Centro"]},
            {"field": "email", "operator": "is_set"},
        ],
    }
    segmentation = parse_segmentation(data)

    again = Segmentation.model_validate_json(segmentation.model_dump_json())
    assert again == segmentation == Segmentation.model_validate(segmentation.model_dump())
    assert again.conditions() == segmentation.conditions()


def test_every_field_is_documented_in_the_schema() -> None:
    schema = Segmentation.model_json_schema()
    filter_schema = schema["$defs"]["CustomFilter"]

    for properties in (schema["properties"], filter_schema["properties"]):
        for name, prop in properties.items():
            assert prop.get("description"), name
    for name in FIELDS:
        assert name in filter_schema["properties"]["field"]["description"]
    value_types = [option.get("type") for option in filter_schema["properties"]["value"]["anyOf"]]
    assert value_types == ["string", "number", "array", "null"]
    assert schema["examples"] == [SEED]
