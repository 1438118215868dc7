"""What production Firestore must have configured for the adapters' queries and documents.

The emulator runs any query without an index; production refuses a query that needs a
composite index nobody created, and keeps transient documents forever unless a TTL policy
deletes them. So the adapters' query shapes and transient documents are declared here,
``python -m shared.deploy.firestore_schema`` writes them to Terraform's input
(``infra/modules/firestore/schema.json``), and ``tests/integration/test_firestore_indexes.py``
captures every query the adapters really send to the emulator and checks that each one is
served by an index declared here (and that nothing declared here is unused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import product
from typing import Literal

from shared.domain.delivery_status import Status

Direction = Literal["ASCENDING", "DESCENDING"]
Scope = Literal["COLLECTION", "COLLECTION_GROUP"]
_ASC: Direction = "ASCENDING"

TTL_FIELD = "expireAt"
"""A document whose expireAt has passed is deleted by Firestore (within about a day)."""
RUN_RETENTION = timedelta(days=90)
"""Run documents are what `campaigns tick` and operators read to see what a job did."""
TICK_RETENTION = timedelta(days=30)
"""A tick's record only deduplicates redeliveries, which Pub/Sub stops after a day."""


@dataclass(frozen=True, slots=True)
class QueryShape:
    """The parts of a query that decide which index serves it."""

    collection_group: str
    scope: Scope
    equalities: tuple[str, ...] = ()
    inequalities: tuple[str, ...] = ()
    orders: tuple[tuple[str, Direction], ...] = ()


@dataclass(frozen=True, slots=True)
class CompositeIndex:
    collection_group: str
    scope: Scope
    fields: tuple[tuple[str, Direction], ...]

    @property
    def id(self) -> str:
        """A stable key for Terraform's for_each (changing it recreates the index)."""
        parts = [f"{name}:{'d' if order == 'DESCENDING' else 'a'}" for name, order in self.fields]
        return f"{self.collection_group}/{self.scope.lower()}/{','.join(parts)}"


@dataclass(frozen=True, slots=True)
class TtlPolicy:
    collection_group: str
    field: str


def required_index(shape: QueryShape) -> CompositeIndex | None:
    """The composite index ``shape`` needs, or None when single-field indexes serve it.

    Firestore's rules as documented: equality filters alone are served by merging single-field
    indexes, and a query on one field alone by that field's single-field index (both in
    collection scope; collection-group scope has no automatic single-field indexes). Anything
    else needs an index of the equality fields (in any order: they are sorted here), then the
    order-by fields in their directions, then the inequality fields not already ordered. An
    order on a field an equality fixes is dropped, and so is a trailing ``__name__`` in the
    previous field's direction, which every index implies.
    """
    equalities = sorted(set(shape.equalities))
    orders = [(name, way) for name, way in shape.orders if name not in equalities]
    if len(orders) >= 2 and orders[-1][0] == "__name__" and orders[-1][1] == orders[-2][1]:
        orders.pop()
    if orders == [("__name__", _ASC)] and not shape.inequalities:
        orders = []  # equality filters alone already come back in document-name order
    ordered = {name for name, _ in orders}
    ranged = [name for name in dict.fromkeys(shape.inequalities) if name not in ordered]
    sort_fields = orders + [(name, _ASC) for name in ranged]
    fields: list[tuple[str, Direction]] = [(name, _ASC) for name in equalities] + sort_fields
    if shape.scope == "COLLECTION" and (not sort_fields or len({n for n, _ in fields}) == 1):
        return None
    if shape.scope == "COLLECTION_GROUP" and len(fields) == 1:
        raise NotImplementedError("a one-field collection-group query needs a field exemption")
    return CompositeIndex(shape.collection_group, shape.scope, tuple(fields))


# -- the shapes the adapters send -----------------------------------------------------------

CAMPAIGN_FILTERS = ("status", "objective")
"""Equality filters of the campaign list (shared/adapters/firestore_campaigns.page)."""
CAMPAIGN_SORTS = ("created_at", "updated_at", "name", "status")
"""The sort whitelist of GET /api/v1/campaigns (shared/api/routes/campaigns.SortField)."""
AUDIT_FILTERS = ("resource", "action", "subject")
"""Equality filters of the audit trail (shared/adapters/firestore_audit.page)."""
OVERDUE_CLOCK = {
    Status.PENDING: "updatedAt",
    Status.QUEUED: "plannedAt",
    Status.SENDING: "leaseUntil",
    Status.UNKNOWN: "updatedAt",
}
"""The clock each overdue status is swept on (shared/adapters/firestore_delivery.overdue)."""


def _subsets(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [
        tuple(n for n, keep in zip(names, mask, strict=True) if keep)
        for mask in product((False, True), repeat=len(names))
    ]


def query_shapes() -> list[QueryShape]:
    shapes: list[QueryShape] = []
    for equalities, ranged, sort, way in product(
        _subsets(CAMPAIGN_FILTERS), (False, True), CAMPAIGN_SORTS, ("ASCENDING", "DESCENDING")
    ):
        shapes.append(
            QueryShape(
                "campaigns",
                "COLLECTION",
                equalities,
                ("created_at",) if ranged else (),
                ((sort, way),),  # type: ignore[arg-type]
            )
        )
    for equalities, ranged in product(_subsets(AUDIT_FILTERS), (False, True)):
        shapes.append(
            QueryShape(
                "audit",
                "COLLECTION",
                equalities,
                ("at",) if ranged else (),
                (("at", "DESCENDING"), ("__name__", "DESCENDING")),
            )
        )
    for equalities in ((), ("localDate",)):  # firestore_runs.page: recent runs, or one day's
        shapes.append(
            QueryShape(
                "runs",
                "COLLECTION",
                equalities,
                orders=(("startedAt", "DESCENDING"), ("__name__", "DESCENDING")),
            )
        )
    for status, clock in OVERDUE_CLOCK.items():
        equalities = ("status", "settled") if status is Status.UNKNOWN else ("status",)
        shapes.append(QueryShape("targets", "COLLECTION_GROUP", equalities, (clock,)))
    # firestore_link_clicks.unappended: every tenant's clicks still without their history row
    shapes.append(QueryShape("linkClicks", "COLLECTION_GROUP", ("appended",), ("at",)))
    # firestore_delivery's yielded slot: a campaign's queued targets of one shard by time
    shapes.append(
        QueryShape(
            "targets",
            "COLLECTION",
            ("status", "shard"),
            ("plannedAt",),
            (("plannedAt", "ASCENDING"),),
        )
    )
    return shapes


def composite_indexes() -> list[CompositeIndex]:
    indexes = {index for shape in query_shapes() if (index := required_index(shape))}
    return sorted(indexes, key=lambda index: index.id)


TTL_POLICIES = (
    TtlPolicy("runs", TTL_FIELD),
    TtlPolicy("ticks", TTL_FIELD),
    TtlPolicy("recentSends", TTL_FIELD),  # a send counts for the frequency cap until then
    TtlPolicy("locks", "expiresAt"),  # a lease's own expiry: an expired lease is a free lock
)
