"""An API campaign's audience as data: who is included, who is excluded, which filters hold.

A segmentation is stored with its campaign and compiled to SQL at every run
(``shared/segment_sql.py``). Everything that can be wrong with it is decided here,
before any query: each filter's field, operator and value are checked against the field's
type, and each error is attached to the part of the filter at fault, so the API's 422 names
e.g. ``segmentation.custom_filters[1].value``. The compiler then only ever maps a checked
:class:`Condition` to fixed SQL fragments and named parameters; no value reaches SQL text.

Decisions a client needs to know (the field descriptions below are the API's docs):

- The audience is: everyone (``include_all``) or whoever has ANY ``included_tags`` or is in
  ANY ``included_groups``; narrowed by EVERY custom filter; minus whoever has ANY
  ``excluded_tags`` or is in ANY ``excluded_groups`` (exclusion wins over inclusion); minus,
  always, opted-out and blacklisted contacts and the phones of the opt-out ledger.
- ``include_all=false`` with no include lists and no filters is rejected ("empty audience")
  rather than silently selecting nobody; ``include_all=true`` together with include lists is
  rejected as contradictory. With only custom filters, the filters alone select.
- Text comparisons, tags and groups ignore case. ``not_*`` operators are exact complements of
  their positive forms, so a member without a value IS selected by ``not_equals``,
  ``not_contains`` and ``not_in``.
- Custom fields are text. Ordering operators (``greater_than`` ... ``between``) on them take
  a number (or numeric text) or a date and compare ``SAFE_CAST(value AS FLOAT64)`` or
  ``SAFE_CAST(value AS DATE)``: a custom value that does not convert matches no comparison.
  ``equals``/``in`` compare numerically when given JSON numbers and as text when given text.
- On timestamp fields a date (``2024-01-01``) compares the tenant's local calendar date; a
  date-time with a UTC offset compares instants. ``days_since_last_purchase`` counts local
  calendar days from the last COMPLETED purchase to the query's "now".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.domain.errors import FieldError
from shared.domain.phones import normalize_br_mobile

MAX_FILTERS = 50
MAX_VALUES = 1000
MAX_TEXT = 1024
CUSTOM_PREFIX = "custom_fields."
CUSTOM_KEY = re.compile(r"^[a-z0-9_]{1,64}$")
"""Keys as contact imports store them (folded: lower case, digits, ``_``)."""


class FieldType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    TIMESTAMP = "timestamp"
    LABELS = "labels"
    """A contact's tags or groups: a member matches ``contains`` when one of them is the value."""


FIELDS: Mapping[str, FieldType] = {
    "name": FieldType.STRING,
    "phone": FieldType.STRING,
    "email": FieldType.STRING,
    "timezone": FieldType.STRING,
    "cpf": FieldType.STRING,
    "birth_date": FieldType.DATE,
    "signed_up_at": FieldType.TIMESTAMP,
    "last_purchase": FieldType.TIMESTAMP,
    "visit_count": FieldType.NUMBER,
    "total_spent": FieldType.NUMBER,
    "days_since_last_purchase": FieldType.NUMBER,
    "tags": FieldType.LABELS,
    "groups": FieldType.LABELS,
}
"""Every profile field a filter may name, besides ``custom_fields.<key>`` (text)."""

ALIASES: Mapping[str, str] = {"phone_number": "phone"}
"""The seeds' names for profile fields (the PyTake seed's contacts have ``phone_number``)."""


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    GREATER_THAN = "greater_than"
    GREATER_OR_EQUAL = "greater_or_equal"
    LESS_THAN = "less_than"
    LESS_OR_EQUAL = "less_or_equal"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "not_in"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"


_ORDERING = frozenset(
    {
        Operator.GREATER_THAN,
        Operator.GREATER_OR_EQUAL,
        Operator.LESS_THAN,
        Operator.LESS_OR_EQUAL,
        Operator.BETWEEN,
    }
)
_SUBSTRING = frozenset({Operator.CONTAINS, Operator.NOT_CONTAINS, Operator.STARTS_WITH})
_EQUALITY = frozenset({Operator.EQUALS, Operator.NOT_EQUALS, Operator.IN, Operator.NOT_IN})
_LISTS = frozenset({Operator.IN, Operator.NOT_IN})
_PRESENCE = frozenset({Operator.IS_SET, Operator.IS_NOT_SET})

_OPERATORS: Mapping[FieldType, frozenset[Operator]] = {
    FieldType.STRING: _EQUALITY | _SUBSTRING | _PRESENCE,
    FieldType.NUMBER: _EQUALITY | _ORDERING | _PRESENCE,
    FieldType.DATE: (_EQUALITY - _LISTS) | _ORDERING | _PRESENCE,
    FieldType.TIMESTAMP: (_EQUALITY - _LISTS) | _ORDERING | _PRESENCE,
    FieldType.LABELS: frozenset({Operator.CONTAINS, Operator.NOT_CONTAINS}) | _PRESENCE,
}
_CUSTOM_OPERATORS = frozenset(Operator)


class ValueKind(StrEnum):
    """How a filter's value is compared: decides the SQL expression and parameter types."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    """A calendar date; on a timestamp field, the tenant's local date of the instant."""
    INSTANT = "instant"
    NONE = "none"
    """is_set / is_not_set."""


Scalar = str | int | float | date | datetime


@dataclass(frozen=True, slots=True)
class FieldRef:
    name: str
    type: FieldType
    custom_key: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A checked filter: what the compiler turns into SQL."""

    field: FieldRef
    operator: Operator
    kind: ValueKind
    values: tuple[Scalar, ...]
    """None for is_set/is_not_set, two for between, one or more for in/not_in, else one."""


class FilterProblem(Exception):
    """Why one part of a filter is wrong; the model reports it at that part."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def field_ref(name: str) -> FieldRef:
    name = ALIASES.get(name, name)
    if name in FIELDS:
        return FieldRef(name, FIELDS[name])
    if name.startswith(CUSTOM_PREFIX):
        key = name.removeprefix(CUSTOM_PREFIX)
        if CUSTOM_KEY.fullmatch(key):
            return FieldRef(name, FieldType.STRING, key)
        raise FilterProblem(
            f"custom field key {key!r} must be written as imports store it: 1-64 lower-case "
            "letters, digits or '_' (e.g. bairro_favorito)"
        )
    raise FilterProblem(
        f"unknown field {name!r}; use one of {', '.join(FIELDS)} or custom_fields.<key>"
    )


def check_operator(ref: FieldRef, operator: Operator) -> None:
    allowed = _CUSTOM_OPERATORS if ref.custom_key else _OPERATORS[ref.type]
    if operator not in allowed:
        usable = ", ".join(op.value for op in Operator if op in allowed)
        raise FilterProblem(
            f"{operator.value} is not available for {ref.name} (a {ref.type.value} field); "
            f"use one of {usable}"
        )


def condition(ref: FieldRef, operator: Operator, value: Any) -> Condition:
    """The typed condition, or a :class:`FilterProblem` about the value."""
    check_operator(ref, operator)
    op = operator.value
    if operator in _PRESENCE:
        if value is not None:
            raise FilterProblem(f"{op} takes no value, got {value!r}")
        return Condition(ref, operator, ValueKind.NONE, ())
    if value is None:
        raise FilterProblem(f"{op} needs a value for {ref.name}")
    if operator is Operator.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            raise FilterProblem(f"between needs a list [low, high] for {ref.name}, got {value!r}")
        typed = [_scalar(ref, operator, item) for item in value]
        kind = _one_kind(typed, op)
        low, high = typed[0][1], typed[1][1]
        if low > high:  # type: ignore[operator]  # one kind, so comparable
            raise FilterProblem(f"between needs low <= high, got {value!r}")
        return Condition(ref, operator, kind, (low, high))
    if operator in _LISTS:
        if not isinstance(value, list) or not value:
            raise FilterProblem(f"{op} needs a non-empty list of values for {ref.name}")
        if len(value) > MAX_VALUES:
            raise FilterProblem(f"{op} takes at most {MAX_VALUES} values, got {len(value)}")
        typed = [_scalar(ref, operator, item) for item in value]
        return Condition(ref, operator, _one_kind(typed, op), tuple(v for _, v in typed))
    if isinstance(value, list):
        raise FilterProblem(f"{op} needs a single value for {ref.name}, got a list")
    kind, scalar = _scalar(ref, operator, value)
    return Condition(ref, operator, kind, (scalar,))


def _one_kind(typed: Sequence[tuple[ValueKind, Scalar]], op: str) -> ValueKind:
    kinds = {kind for kind, _ in typed}
    if len(kinds) != 1:
        raise FilterProblem(f"{op} needs values of one type, got {', '.join(sorted(kinds))}")
    return kinds.pop()


def _scalar(ref: FieldRef, operator: Operator, raw: Any) -> tuple[ValueKind, Scalar]:
    op, name = operator.value, ref.name
    if isinstance(raw, list | dict):
        raise FilterProblem(f"{op} needs single values for {name}, got {raw!r}")
    if ref.custom_key is not None:
        return _custom_scalar(ref, operator, raw)
    if ref.type in (FieldType.STRING, FieldType.LABELS):
        text = _text(raw)
        if text is None:
            raise FilterProblem(f"{op} needs non-empty text for {name}, got {raw!r}")
        if name == "phone" and operator in _EQUALITY:
            text = normalize_br_mobile(text).e164 or text  # compare as the profile stores it
        return ValueKind.TEXT, text
    if ref.type is FieldType.NUMBER:
        number = _number(raw)
        if number is None:
            raise FilterProblem(f"{op} needs a number for {name}, got {raw!r}")
        return ValueKind.NUMBER, number
    day = _date(raw)
    if day is not None:
        return ValueKind.DATE, day
    if ref.type is FieldType.DATE:
        raise FilterProblem(f"{op} needs a date (YYYY-MM-DD) for {name}, got {raw!r}")
    instant = _instant(raw)
    if instant is None:
        raise FilterProblem(
            f"{op} needs a date (YYYY-MM-DD) or a date-time with a UTC offset "
            f"(2024-01-01T10:00:00-03:00) for {name}, got {raw!r}"
        )
    return ValueKind.INSTANT, instant


def _custom_scalar(ref: FieldRef, operator: Operator, raw: Any) -> tuple[ValueKind, Scalar]:
    op, name = operator.value, ref.name
    if operator in _ORDERING:
        number = _number(raw)
        if number is not None:
            return ValueKind.NUMBER, number
        day = _date(raw)
        if day is not None:
            return ValueKind.DATE, day
        raise FilterProblem(f"{op} needs a number or date for {name}, got {raw!r}")
    if operator in _EQUALITY and _is_number(raw):
        number = _number(raw)
        if number is None:
            raise FilterProblem(f"{op} needs a finite number for {name}, got {raw!r}")
        return ValueKind.NUMBER, number
    text = _text(raw)
    if text is None:
        expected = "non-empty text or a number" if operator in _EQUALITY else "non-empty text"
        raise FilterProblem(f"{op} needs {expected} for {name}, got {raw!r}")
    return ValueKind.TEXT, text


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_INT64 = 2**63


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _number(raw: Any) -> int | float | None:
    """A JSON number or numeric text; None for anything else (booleans included)."""
    if isinstance(raw, str):
        text = raw.strip()
        if not _NUMBER.fullmatch(text):
            return None
        raw = int(text) if _INTEGER.fullmatch(text) else float(text)
    if not _is_number(raw):
        return None
    if isinstance(raw, int):
        return raw if -_INT64 <= raw < _INT64 else None
    return float(raw) if math.isfinite(raw) else None


def _text(raw: Any) -> str | None:
    if isinstance(raw, str) and raw.strip() and len(raw) <= MAX_TEXT:
        return raw
    return None


def _date(raw: Any) -> date | None:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str) and _DATE.fullmatch(raw.strip()):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


def _instant(raw: Any) -> datetime | None:
    if isinstance(raw, str) and _DATETIME.match(raw.strip()):
        try:
            raw = datetime.fromisoformat(raw.strip())
        except ValueError:
            return None
    if isinstance(raw, datetime) and raw.tzinfo is not None:
        return raw
    return None


def _invalid(reason: str) -> PydanticCustomError:
    # The reason travels as context: braces in user values must not be read as a template.
    return PydanticCustomError("segmentation", "{reason}", {"reason": reason})


_FIELD_DOC = (
    "The profile field to test. Text: name, phone or phone_number (E.164, e.g. "
    "+5511987654321), email, "
    "timezone, cpf, custom_fields.<key> (the contact's custom field <key> as imports store it: "
    "1-64 lower-case letters, digits or '_'). Date: birth_date. Timestamps: signed_up_at, "
    "last_purchase (the last COMPLETED sale). Numbers: visit_count and total_spent (COMPLETED "
    "sales), days_since_last_purchase (local calendar days until the campaign runs; members who "
    "never bought have none). Labels: tags, groups (the contact's own)."
)
_OPERATOR_DOC = (
    "Text fields: equals, not_equals, contains, not_contains, starts_with, in, not_in, is_set, "
    "is_not_set (case-insensitive). Numbers: equals, not_equals, greater_than, "
    "greater_or_equal, less_than, less_or_equal, between, in, not_in, is_set, is_not_set. "
    "Dates and timestamps: the same without in/not_in. Labels (tags, groups): contains (has "
    "that tag or group, case-insensitive), not_contains, is_set (has any), is_not_set (has "
    "none). Custom fields: every operator (ordering "
    "ones compare numerically or as dates). not_* operators also select members without a "
    "value."
)
_VALUE_DOC = (
    "Omitted for is_set/is_not_set; [low, high] (inclusive) for between; a list of at most "
    f"{MAX_VALUES} values for in/not_in; otherwise one value. Numbers as JSON numbers (numeric "
    "text is accepted); dates as YYYY-MM-DD, which on timestamp fields compares the tenant's "
    "local date; instants as ISO 8601 with a UTC offset (2024-01-01T10:00:00-03:00). A phone "
    "given to equals/in is normalised to E.164 first."
)
_SCALAR_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "number"}]}
FilterValue = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                *_SCALAR_SCHEMA["anyOf"],
                {"type": "array", "items": _SCALAR_SCHEMA, "maxItems": MAX_VALUES},
                {"type": "null"},
            ]
        }
    ),
]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CustomFilter(BaseModel):
    """One condition on one profile field. A member must satisfy every filter (AND)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"field": "last_purchase", "operator": "greater_than", "value": "2024-01-01"},
                {"field": "visit_count", "operator": "between", "value": [5, 20]},
                {"field": "custom_fields.bairro", "operator": "in", "value": ["Centro", "Sé"]},
                {"field": "email", "operator": "is_set"},
            ]
        },
    )

    field: str = Field(description=_FIELD_DOC, max_length=100, examples=["visit_count"])
    operator: Operator = Field(description=_OPERATOR_DOC)
    value: FilterValue = Field(default=None, validate_default=True, description=_VALUE_DOC)

    @field_validator("field")
    @classmethod
    def _known_field(cls, name: str) -> str:
        try:
            field_ref(name)
        except FilterProblem as problem:
            raise _invalid(problem.reason) from None
        return name

    @field_validator("operator")
    @classmethod
    def _operator_fits_field(cls, operator: Operator, info: ValidationInfo) -> Operator:
        if "field" in info.data:
            try:
                check_operator(field_ref(info.data["field"]), operator)
            except FilterProblem as problem:
                raise _invalid(problem.reason) from None
        return operator

    @field_validator("value")
    @classmethod
    def _value_fits_operator(cls, value: Any, info: ValidationInfo) -> Any:
        if "field" in info.data and "operator" in info.data:
            try:
                condition(field_ref(info.data["field"]), info.data["operator"], value)
            except FilterProblem as problem:
                raise _invalid(problem.reason) from None
        return value

    def condition(self) -> Condition:
        return condition(field_ref(self.field), self.operator, self.value)


class Segmentation(BaseModel):
    """Who a campaign reaches. Opted-out and blacklisted contacts are never reached."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "include_all": False,
                    "included_tags": ["vip", "black-friday"],
                    "excluded_tags": ["unsubscribed"],
                    "custom_filters": [
                        {
                            "field": "last_purchase",
                            "operator": "greater_than",
                            "value": "2024-01-01",
                        }
                    ],
                }
            ]
        },
    )

    include_all: bool = Field(
        default=False,
        description=(
            "true: start from every customer and contact (then apply filters and exclusions); "
            "included_tags/included_groups must then be empty. false: start from the members "
            "the include lists select, or, with no include lists, from the custom filters alone; "
            "false with no include lists and no filters is rejected as an empty audience."
        ),
    )
    included_tags: list[Label] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="members with ANY of these tags (case-insensitive)",
    )
    excluded_tags: list[Label] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="members with ANY of these tags are left out, even if otherwise included",
    )
    included_groups: list[Label] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="members in ANY of these groups (case-insensitive; a union with included_tags)",
    )
    excluded_groups: list[Label] = Field(
        default_factory=list,
        max_length=MAX_VALUES,
        description="members in ANY of these groups are left out, even if otherwise included",
    )
    custom_filters: list[CustomFilter] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description=f"at most {MAX_FILTERS} conditions; a member must satisfy all of them",
    )

    @model_validator(mode="after")
    def _selects_someone(self) -> Segmentation:
        includes = bool(self.included_tags or self.included_groups)
        if self.include_all and includes:
            raise _invalid(
                "include_all=true already selects everyone: leave included_tags and "
                "included_groups empty, or set include_all=false"
            )
        if not self.include_all and not includes and not self.custom_filters:
            raise _invalid(
                "empty audience: set include_all=true, or give included_tags, included_groups "
                "or custom_filters"
            )
        return self

    def conditions(self) -> list[Condition]:
        return [item.condition() for item in self.custom_filters]


def parse_segmentation(data: Any, *, field: str = "segmentation") -> Segmentation:
    """Validate stored or submitted data; a FieldError names the first part at fault."""
    try:
        return Segmentation.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        raise FieldError(field_path(field, first["loc"]), str(first["msg"])) from error


def field_path(prefix: str, location: Sequence[int | str]) -> str:
    """``("custom_filters", 1, "value")`` under ``segmentation`` as the API names it."""
    text = prefix
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
