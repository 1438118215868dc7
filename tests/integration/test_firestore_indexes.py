"""Every query the adapters send is served by an index production has, and no index is unused.

The emulator runs any query without an index, so a missing composite index would only show
in production, as a FAILED_PRECONDITION on the first campaign list or sweep. Here each
adapter query path runs against the emulator while a spy records the structured query the
client really sends; the index each one needs is derived with Firestore's rules and must be
one that ``shared/adapters/firestore_schema.py`` declares (and Terraform creates from it).
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from google.cloud.firestore_v1 import query as query_module
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.types import StructuredQuery

from shared.adapters.firestore_audit import FirestoreAuditLog
from shared.adapters.firestore_people import FirestorePeopleLedger
from shared.adapters.firestore_recipients import FirestoreRecipientList
from shared.adapters.firestore_schema import (
    QueryShape,
    composite_indexes,
    required_index,
)
from shared.api.routes.campaigns import SortField
from shared.bootstrap import Container
from shared.domain.audit import AuditFilter
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status

ADAPTERS = Path(__file__).resolve().parents[2] / "shared" / "adapters"
_EQUALITY = {StructuredQuery.FieldFilter.Operator.EQUAL, StructuredQuery.FieldFilter.Operator.IN}
_DESCENDING = StructuredQuery.Direction.DESCENDING


def shape_of(query: Any) -> QueryShape:
    """The index-relevant parts of the StructuredQuery the client sends for ``query``."""
    proto = query._to_protobuf()
    [source] = proto.from_
    filters = list(proto.where.composite_filter.filters) or [proto.where]
    equalities: list[str] = []
    inequalities: list[str] = []
    for wrapper in filters:
        if "field_filter" not in wrapper:
            continue
        field_filter = wrapper.field_filter
        target = equalities if field_filter.op in _EQUALITY else inequalities
        target.append(field_filter.field.field_path)
    orders = tuple(
        (order.field.field_path, "DESCENDING" if order.direction == _DESCENDING else "ASCENDING")
        for order in proto.order_by
    )
    return QueryShape(
        source.collection_id,
        "COLLECTION_GROUP" if source.all_descendants else "COLLECTION",
        tuple(equalities),
        tuple(inequalities),
        orders,  # type: ignore[arg-type]
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[QueryShape]:
    shapes: list[QueryShape] = []
    original = query_module.Query.stream

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        shapes.append(shape_of(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(query_module.Query, "stream", spy)
    return shapes


EXERCISED = {
    "firestore_alerts.FirestoreAlerts.recent",
    "firestore_campaigns.FirestoreCampaignRepository.page",
    "firestore_campaigns.FirestoreCampaignRepository.has_open_targets",
    "firestore_campaigns.FirestoreCampaignRepository.live",
    "firestore_campaigns.FirestoreCampaignRepository.opted_out_phones",
    "firestore_consent.FirestoreConsentLedger.history",
    "firestore_consent.FirestoreConsentLedger.quarantined",
    "firestore_audit.FirestoreAuditLog.page",
    "firestore_delivery.FirestoreDeliveryStore.overdue",
    "firestore_link_clicks.FirestoreLinkClicks.unappended",
    "firestore_delivery.FirestoreDeliveryStore._swept_targets",  # the group overdue queries
    "firestore_delivery.FirestoreDeliveryStore._yield_candidates",  # slots given to the urgent
    "firestore_outlook.FirestoreDeliveryOutlook.waiting",
    "firestore_people.FirestorePeopleLedger.opt_out_page",
    "firestore_people.FirestorePeopleLedger.clicks",
    "firestore_people.FirestorePeopleLedger.opt_out_count",
    "firestore_recipients.FirestoreRecipientList.page",
    "firestore_runs.FirestoreRunLedger.page",
    "firestore_targets.FirestoreTargetStore.customers_with_targets_since",
    "firestore_tenants.FirestoreTenantRepository.list_active",
    "firestore_tenants.FirestoreTenantRepository.of_number",
}
"""The adapter methods that filter or sort, each run below with every combination it allows."""
_QUERYING = re.compile(r"\.(where|order_by|collection_group)\(")


def querying_methods() -> set[str]:
    """Every adapter method whose body filters, sorts or spans a collection group."""
    found = set()
    for path in ADAPTERS.glob("firestore_*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ClassDef):
                continue
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and _QUERYING.search(ast.unparse(method)):
                    found.add(f"{path.stem}.{node.name}.{method.name}")
    return found


def test_every_querying_method_is_exercised() -> None:
    # A new query in an adapter must be added to run_every_adapter_query (and EXERCISED).
    assert querying_methods() == EXERCISED


def run_every_adapter_query(deps: Container, cnpj: Cnpj) -> None:
    now = datetime.now(UTC)
    campaigns = deps.campaigns
    for status, objective, since, until, sort, descending in product(
        (None, "draft"),
        (None, "promotional"),
        (None, now - timedelta(days=1)),
        (None, now),
        SortField,
        (False, True),
    ):
        equals = {k: v for k, v in (("status", status), ("objective", objective)) if v}
        campaigns.page(
            cnpj,
            equals=equals,
            created_from=since,
            created_until=until,
            order_by=sort.value,
            descending=descending,
            offset=0,
            limit=5,
        )
    audit = FirestoreAuditLog(deps.firestore_client)
    for resource, action, since, until, subject in product(
        (None, "campaign"), (None, "create"), (None, now - timedelta(days=1)), (None, now),
        (None, "maria"),
    ):  # fmt: skip
        audit.page(cnpj, AuditFilter(resource, action, since, until, subject), 5)
    for status in (Status.PENDING, Status.QUEUED, Status.SENDING, Status.UNKNOWN):
        deps.delivery_store.overdue(status, now, 5)
    deps.delivery_store._yield_candidates(None, cnpj, "LOYALTY", 0, now, now + timedelta(days=1))
    deps.outlook.waiting(cnpj, "BIRTHDAY")
    campaigns.has_open_targets(cnpj, "BIRTHDAY")
    campaigns.live(cnpj)
    for status, after in product((None, "SENT"), (None, "c1_2026")):
        FirestoreRecipientList(deps.firestore_client).page(
            cnpj, "BIRTHDAY", status=status, after=after, limit=5
        )
    for local_date in (None, "2026-11-20"):
        deps.runs.page(cnpj, local_date=local_date, after=None, limit=5)
    deps.targets.customers_with_targets_since(cnpj, "BIRTHDAY", "2026-11")
    deps.tenants.list_active()
    for include_unset in (False, True):
        deps.tenants.of_number("a-number", include_unset=include_unset)
    campaigns.opted_out_phones(cnpj)
    deps.consent.history(cnpj, ["+5511987654321", "BR.1502576394655843"])
    deps.consent.quarantined("a-number")
    deps.link_clicks.unappended(now, 5)
    deps.alerts.recent(cnpj, 5)
    people = FirestorePeopleLedger(deps.firestore_client)
    people.opt_out_page(cnpj, 0, 5)
    people.clicks(cnpj, "+5511987654321")
    people.opt_out_count(cnpj)


def test_every_query_has_its_index_and_every_index_a_query(
    deps: Container, new_cnpj: Cnpj, sent: list[QueryShape]
) -> None:
    run_every_adapter_query(deps, new_cnpj)

    assert len(sent) >= 128 + 32 + 4 + 2 + 3, "the spy saw every query the adapters sent"
    # Production refuses "order by a field with an equality filter"; the emulator does not.
    assert [s for s in sent if {name for name, _ in s.orders} & set(s.equalities)] == []
    declared = set(composite_indexes())
    needed = {index for shape in sent if (index := required_index(shape)) is not None}
    assert sorted(i.id for i in needed - declared) == [], "queries without an index"
    assert sorted(i.id for i in declared - needed) == [], "indexes no query uses"


def test_a_new_query_shape_would_be_caught(deps: Container, sent: list[QueryShape]) -> None:
    # Filtering campaigns on a field nobody declared needs an index the schema lacks.
    collection = deps.firestore_client.collection("users", "X", "campaigns")
    query = collection.where(filter=FieldFilter("channel", "==", "whatsapp")).order_by("name")
    list(query.limit(1).stream())
    [shape] = sent
    index = required_index(shape)
    assert index is not None
    assert index not in set(composite_indexes())


def test_rules_match_firestores_documentation() -> None:
    # Equality filters alone, or a single field, need no composite index.
    assert required_index(QueryShape("c", "COLLECTION", ("a", "b"))) is None
    assert required_index(QueryShape("c", "COLLECTION", (), ("a",), (("a", "DESCENDING"),))) is None
    # Equality + order: equality fields first, then the order (directions kept).
    index = required_index(QueryShape("c", "COLLECTION", ("b", "a"), (), (("t", "DESCENDING"),)))
    assert index is not None
    assert index.fields == (("a", "ASCENDING"), ("b", "ASCENDING"), ("t", "DESCENDING"))
    # An inequality on another field than the order comes after the ordered fields.
    index = required_index(QueryShape("c", "COLLECTION", (), ("t",), (("n", "ASCENDING"),)))
    assert index is not None
    assert index.fields == (("n", "ASCENDING"), ("t", "ASCENDING"))
    # A trailing __name__ in the previous direction is implicit in every index.
    index = required_index(
        QueryShape(
            "c", "COLLECTION", ("r",), (), (("at", "DESCENDING"), ("__name__", "DESCENDING"))
        )
    )
    assert index is not None
    assert index.fields == (("r", "ASCENDING"), ("at", "DESCENDING"))
    # Equality filters alone come back in name order: paging on __name__ needs no index.
    assert (
        required_index(QueryShape("c", "COLLECTION", ("s",), (), (("__name__", "ASCENDING"),)))
        is None
    )
    # Collection-group scope has no automatic indexes: equality + range needs one.
    index = required_index(QueryShape("targets", "COLLECTION_GROUP", ("s",), ("u",)))
    assert index is not None
    assert index.scope == "COLLECTION_GROUP"
