"""Segmentations: what validates, how values are typed, and where an error points.

What they compile to is tested in test_segment_compiler.py, and what the compiled SQL selects
on the emulator (tests/sql/test_segment_sql.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pydantic
import pytest

from shared.domain.errors import FieldError
from shared.domain.segmentation import (
    FIELDS,
    MAX_FILTERS,
    MAX_VALUES,
    Segmentation,
    ValueKind,
    field_path,
    parse_segmentation,
)

SEED: dict[str, Any] = {
    "include_all": False,
    "included_tags": ["vip", "black-friday"],
    "excluded_tags": ["unsubscribed"],
    "custom_filters": [
        {"field": "last_purchase", "operator": "greater_than", "value": "2024-01-01"}
    ],
}


def one_filter(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        item["value"] = value
    return {"include_all": True, "custom_filters": [item]}


def error_of(data: Any) -> FieldError:
    with pytest.raises(FieldError) as caught:
        parse_segmentation(data)
    return caught.value


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
            one_filter("tags", "equals", "vip"),
            "segmentation.custom_filters[0].operator",
            "equals is not available for tags (a labels field); use one of contains,"
            " not_contains, is_set, is_not_set",
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
