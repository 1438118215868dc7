"""The segment SQL compiler: a checked Segmentation becomes one parameterised query.

The query is ``sql/segments/audience.sql`` over the tenant's ``customer_profile`` view; only
its last condition is generated, and only from the fixed fragments in this module: a field
maps to a column expression from :data:`_COLUMNS`, an operator to a template from
:data:`_TEMPLATES`, and every value — tags, filter values, even a custom field's key — becomes
a named parameter ``p0``, ``p1``, ... So a value can never change the query's text, whatever
it contains. Like :mod:`shared.sqlfiles`, this is pure text-making: the queries run in
:mod:`shared.services.segments` (estimate, sample) and :mod:`shared.campaigns.segment`
(a campaign's targets), all over exactly :func:`audience_query`, so an estimate cannot
disagree with the targets a run builds from it.

The tenant's local calendar is computed in SQL from a ``zone`` parameter with
``FORMAT_TIMESTAMP('%F', ts, @zone)``: BigQuery's ``DATE(ts, @zone)`` means the same, but
the local emulator cannot take the zone of ``DATE`` as a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

from shared import sqlfiles
from shared.domain.calendar import DEFAULT_TIMEZONE
from shared.domain.calendar import zone as parse_zone
from shared.domain.cnpj import Cnpj
from shared.domain.segmentation import (
    Condition,
    FieldType,
    Operator,
    Scalar,
    Segmentation,
    ValueKind,
)
from shared.ports import QueryValue

AUDIENCE_SQL = "segments/audience.sql"


def _local_date(timestamp: str) -> str:
    return f"CAST(FORMAT_TIMESTAMP('%F', {timestamp}, @zone) AS DATE)"


_COLUMNS: Mapping[str, str] = {
    "name": "p.name",
    "phone": "p.phone",
    "email": "p.email",
    "timezone": "p.timezone",
    "cpf": "p.cpf",
    "birth_date": "p.birth_date",
    "signed_up_at": "p.signed_up_at",
    "last_purchase": "p.last_purchase",
    "visit_count": "p.visit_count",
    "total_spent": "p.total_spent",
    "tags": "p.tags",
    "groups": "p.groups",
    "days_since_last_purchase": (
        f"DATE_DIFF({_local_date('@as_of')}, {_local_date('p.last_purchase')}, DAY)"
    ),
}
"""Each built-in field's SQL over the profile view ``p``."""
_RELATIVE_TO_NOW = frozenset({"days_since_last_purchase"})
"""Fields whose expression reads ``@as_of`` and ``@zone``."""

_CUSTOM_FIELD = (
    "(SELECT custom.value FROM UNNEST(p.custom_fields) AS custom WHERE custom.key = {key} LIMIT 1)"
)
_LOWER_LIST = "(SELECT LOWER(item) FROM UNNEST({values}) AS item)"
_HAS_ANY_LABEL = "EXISTS(SELECT 1 FROM UNNEST({labels}) AS label WHERE LOWER(label) IN {lowered})"

_TEMPLATES: Mapping[Operator, str] = {
    Operator.EQUALS: "{x} = {v}",
    Operator.GREATER_THAN: "{x} > {v}",
    Operator.GREATER_OR_EQUAL: "{x} >= {v}",
    Operator.LESS_THAN: "{x} < {v}",
    Operator.LESS_OR_EQUAL: "{x} <= {v}",
    Operator.BETWEEN: "{x} BETWEEN {v} AND {w}",
    Operator.IN: "{x} IN {v}",
    Operator.CONTAINS: "STRPOS({x}, {v}) > 0",
    Operator.STARTS_WITH: "STARTS_WITH({x}, {v})",
    Operator.IS_SET: "{x} IS NOT NULL",
}
_NEGATIONS: Mapping[Operator, Operator] = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
    Operator.NOT_IN: Operator.IN,
    Operator.IS_NOT_SET: Operator.IS_SET,
}
_NEGATION = "NOT IFNULL({condition}, FALSE)"
"""A not_* operator is the complement of its positive form: members without a value match."""


class _Compiler:
    """Collects parameters while turning conditions into SQL made of the fragments above."""

    def __init__(self, as_of: datetime, zone: str) -> None:
        self._as_of = as_of
        self._zone = zone
        self._names = count()
        self.params: dict[str, QueryValue] = {}

    def param(self, value: QueryValue) -> str:
        name = f"p{next(self._names)}"
        self.params[name] = value
        return f"@{name}"

    def has_any(self, labels: str, values: Sequence[str]) -> str:
        lowered = _LOWER_LIST.format(values=self.param(list(values)))
        return _HAS_ANY_LABEL.format(labels=labels, lowered=lowered)

    def condition(self, condition: Condition) -> str:
        negated = _NEGATIONS.get(condition.operator)
        positive = self._positive(condition, negated or condition.operator)
        return _NEGATION.format(condition=positive) if negated else positive

    def _positive(self, condition: Condition, operator: Operator) -> str:
        if condition.field.type is FieldType.LABELS:
            labels = _COLUMNS[condition.field.name]
            if operator is Operator.IS_SET:
                return f"ARRAY_LENGTH({labels}) > 0"
            return self.has_any(labels, [str(value) for value in condition.values])
        operand = self._operand(condition)
        if operator is Operator.IS_SET and condition.field.type is FieldType.STRING:
            operand = f"NULLIF(TRIM({operand}), '')"
        if operator is Operator.IN:
            values = [self._list(condition.kind, condition.values)]
        else:
            values = [self._value(condition.kind, value) for value in condition.values]
        low, high = (values[0], values[-1]) if values else ("", "")
        return _TEMPLATES[operator].format(x=operand, v=low, w=high)

    def _operand(self, condition: Condition) -> str:
        field, kind = condition.field, condition.kind
        if field.custom_key is not None:
            text = _CUSTOM_FIELD.format(key=self.param(field.custom_key))
            return {
                ValueKind.TEXT: f"LOWER({text})",
                ValueKind.NUMBER: f"SAFE_CAST({text} AS FLOAT64)",
                ValueKind.DATE: f"SAFE_CAST({text} AS DATE)",
            }.get(kind, text)
        column = _COLUMNS[field.name]
        if field.name in _RELATIVE_TO_NOW:
            self._now()
        if kind is ValueKind.TEXT:
            return f"LOWER({column})"
        if kind is ValueKind.DATE and field.type is FieldType.TIMESTAMP:
            self._local_calendar()
            return _local_date(column)
        return column

    def _value(self, kind: ValueKind, value: Scalar) -> str:
        placeholder = self.param(value)
        return f"LOWER({placeholder})" if kind is ValueKind.TEXT else placeholder

    def _list(self, kind: ValueKind, values: Sequence[Scalar]) -> str:
        if kind is ValueKind.TEXT:
            return _LOWER_LIST.format(values=self.param([str(value) for value in values]))
        numbers: list[float] = [float(value) for value in values]  # type: ignore[arg-type]
        return f"UNNEST({self.param(numbers)})"

    def _now(self) -> None:
        self.params["as_of"] = self._as_of
        self._local_calendar()

    def _local_calendar(self) -> None:
        self.params["zone"] = self._zone


def compile_segmentation(
    segmentation: Segmentation, *, as_of: datetime, zone: ZoneInfo | str = DEFAULT_TIMEZONE
) -> tuple[str, dict[str, QueryValue]]:
    """The segmentation's condition over the profile view ``p``, and its parameters."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    compiler = _Compiler(as_of, _zone_name(zone))
    conditions: list[str] = []
    if not segmentation.include_all:
        includes = [
            compiler.has_any(labels, values)
            for labels, values in (
                ("p.tags", segmentation.included_tags),
                ("p.groups", segmentation.included_groups),
            )
            if values
        ]
        if includes:
            conditions.append(f"({' OR '.join(includes)})")
    conditions += [compiler.condition(item) for item in segmentation.conditions()]
    conditions += [
        f"NOT {compiler.has_any(labels, values)}"
        for labels, values in (
            ("p.tags", segmentation.excluded_tags),
            ("p.groups", segmentation.excluded_groups),
        )
        if values
    ]
    return "\n    AND ".join(conditions) or "TRUE", compiler.params


def audience_query(
    cnpj: Cnpj,
    segmentation: Segmentation,
    *,
    as_of: datetime,
    opted_out_phones: Sequence[str],
    zone: ZoneInfo | str = DEFAULT_TIMEZONE,
) -> tuple[str, dict[str, QueryValue]]:
    """SELECT customer_id, contact_id, name, phone, timezone, tags: one row per member.

    ``as_of`` is the campaign's "now" (days since the last purchase count up to its local
    date); ``zone`` the tenant's time zone, for local dates; ``opted_out_phones`` the E.164
    phones of the tenant's opt-out ledger, always left out like opted-out and blacklisted
    contacts.
    """
    condition, params = compile_segmentation(segmentation, as_of=as_of, zone=zone)
    sql = sqlfiles.render(AUDIENCE_SQL, cnpj).replace("{segment_filter}", condition)
    return sql, {"opted_out_phones": list(dict.fromkeys(opted_out_phones)), **params}


def _zone_name(zone: ZoneInfo | str) -> str:
    return zone.key if isinstance(zone, ZoneInfo) else parse_zone(zone).key
