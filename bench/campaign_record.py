"""Campaign record benchmark: what a tenant's campaigns cost the tenant document and delivery.

A campaign lives in its own document (``users/{cnpj}/campaigns/{id}``); the tenant document
holds the tenant's settings only. So however many API campaigns a tenant has had, its tenant
document stays the same size (Firestore refuses documents over 1 MiB), and delivering a
message reads the same documents. This bench measures both on a private local stack, for a
tenant with 1, 100 and 10,000 API campaigns (one running, the others completed, as a tenant
accumulates them):

* the tenant document's size, by Firestore's storage-size rules (name, fields, 32 bytes);
* the Firestore documents read per delivered message, and the bytes they hold, while 20
  targets of the running campaign go through ``enqueue_target`` and ``send_message`` exactly
  as the trigger and the task run them (reads counted by a thin wrapper around the Firestore
  client's two read RPCs, BatchGetDocuments and RunQuery);
* the documents the hourly tick reads to find the live API campaigns (``live``).

The WhatsApp sender accepts every message in process, the task queue records the tasks it is
asked for and the history log counts rows: neither reads Firestore, and both would only add
noise. It prints the figures and a one-line verdict; it asserts nothing.

Run: ``.venv/bin/python bench/campaign_record.py`` (about 25 s on two cores, the stack included);
``--sizes 1 100`` for a quick check.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.types import BatchGetDocumentsResponse, RunQueryResponse
from reporting import machine, private_stack, table

from shared.adapters.firestore_campaigns import campaign_document
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.campaign import Campaign, CampaignStatus
from shared.domain.campaign_ids import new_segment_id
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.targets import Target
from shared.ports import MAX_BATCH_WRITES, HistoryRow, TaskRequest
from shared.sample_data import tenant_cnpjs, tenant_names
from shared.services.delivery_common import DeliveryPorts
from shared.services.enqueue import enqueue_target
from shared.services.send import send_message
from shared.services.tenants import register_tenant
from shared.whatsapp.outcomes import SendResult

SIZES = (1, 100, 10_000)
MESSAGES = 20
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
"""12:00 in São Paulo: inside the campaign's send window, so every target plans at once."""


# -- counting reads --------------------------------------------------------------------------


@dataclass
class Reads:
    documents: int = 0
    bytes: int = 0

    def reset(self) -> None:
        self.documents, self.bytes = 0, 0


def count_reads(client: firestore.Client, reads: Reads) -> None:
    """Count every document the client reads (a lookup of a missing document or a query that
    finds none is still one read, as Firestore bills it) and the bytes of those it finds."""
    api = client._firestore_api  # the GAPIC client every read goes through
    batch_get, run_query = api.batch_get_documents, api.run_query

    def counted_batch_get(*args: Any, **kwargs: Any) -> Iterator[BatchGetDocumentsResponse]:
        for response in batch_get(*args, **kwargs):
            raw = type(response).pb(response)
            reads.documents += 1
            reads.bytes += raw.found.ByteSize() if raw.HasField("found") else 0
            yield response

    def counted_query(*args: Any, **kwargs: Any) -> Iterator[RunQueryResponse]:
        found = 0
        for response in run_query(*args, **kwargs):
            raw = type(response).pb(response)
            if raw.HasField("document"):
                found += 1
                reads.bytes += raw.document.ByteSize()
            yield response
        reads.documents += max(found, 1)

    api.batch_get_documents = counted_batch_get
    api.run_query = counted_query


def storage_size(path: str, fields: Mapping[str, Any]) -> int:
    """A document's size by Firestore's rules: its name, its fields, and 32 bytes."""
    name = sum(len(part.encode()) + 1 for part in path.split("/")) + 16
    return name + sum(_size(key) + _size(value) for key, value in fields.items()) + 32


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode()) + 1
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | datetime):
        return 8
    if isinstance(value, Mapping):
        return sum(_size(key) + _size(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return sum(_size(item) for item in value)
    return len(bytes(value))


# -- the in-process delivery ends ------------------------------------------------------------


class AcceptingSender:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        self.sent += 1
        return SendResult(200, wamid=f"wamid.bench{self.sent}")


class RecordedTasks:
    def __init__(self) -> None:
        self.tasks: list[TaskRequest] = []

    def create(self, task: TaskRequest) -> bool:
        self.tasks.append(task)
        return True

    def ensure_queue(self, queue: str) -> None:
        return None


class CountedHistory:
    def __init__(self) -> None:
        self.rows = 0

    def append(self, cnpj: Cnpj, rows: Sequence[HistoryRow]) -> None:
        self.rows += len(rows)


# -- one size --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    campaigns: int
    tenant_bytes: int
    reads_per_message: float
    bytes_per_message: float
    live_reads: int
    write_s: float


def api_campaign(status: CampaignStatus) -> Campaign:
    """An API campaign as the seed's simple example creates it, started with a template."""
    return Campaign.model_validate(
        {
            "id": new_segment_id(),
            "name": "Promoção de Fim de Ano",
            "description": "Ofertas especiais para clientes",
            "throttle_config": {"messages_per_minute": 600, "respect_business_hours": False},
            "segmentation": {"include_all": True},
            "templates": [
                {
                    "name": "Oferta",
                    # as approved: the sandbox refuses a parameter this template lacks (132000)
                    "content": "🎉 Promoção especial! 30% OFF em tudo!",
                    "whatsapp_template": {"name": "oferta_fim_de_ano", "language": "pt_BR"},
                }
            ],
            "status": status,
            "created_at": NOW - timedelta(days=1),
            "updated_at": NOW - timedelta(days=1),
            "started_at": NOW - timedelta(days=1),
            "occurrences_run": 1,
            "last_occurrence": "once",
        }
    )


def measure(deps: Container, reads: Reads, cnpj: Cnpj, count: int, already: int) -> Row:
    """Grow the tenant to ``count`` API campaigns (it has ``already``), then deliver."""
    client = deps.firestore_client
    started = time.perf_counter()
    running = api_campaign(CampaignStatus.RUNNING)
    campaigns = [
        running,
        *(api_campaign(CampaignStatus.COMPLETED) for _ in range(count - already - 1)),
    ]
    for offset in range(0, len(campaigns), MAX_BATCH_WRITES):
        batch = client.batch()
        for campaign in campaigns[offset : offset + MAX_BATCH_WRITES]:
            reference = client.document("users", cnpj.value, "campaigns", campaign.id)
            batch.set(reference, campaign_document(campaign, {}))
        batch.commit()
    write_s = time.perf_counter() - started

    tenant_path = f"users/{cnpj.value}"
    tenant_bytes = storage_size(tenant_path, client.document(tenant_path).get().to_dict() or {})
    ports = delivery_ports(deps)
    refs = [TargetRef(cnpj, running.id, target.id) for target in _targets(deps, cnpj, running.id)]
    reads.reset()
    for ref in refs:
        assert enqueue_target(ref, ports) is Status.QUEUED
        assert send_message(ref, 1, ports).status is Status.SENT
    per_message = reads.documents / len(refs), reads.bytes / len(refs)
    reads.reset()
    assert deps.campaigns.live(cnpj) == [running.id]
    live_reads = reads.documents
    done = running.model_copy(update={"status": CampaignStatus.COMPLETED})
    deps.campaigns.mutate(cnpj, running.id, lambda _: done)  # the next size has one live too
    return Row(count, tenant_bytes, *per_message, live_reads, write_s)


def delivery_ports(deps: Container) -> DeliveryPorts:
    return replace(
        deps.delivery_ports(),
        tasks=RecordedTasks(),
        sender=AcceptingSender(),
        history=CountedHistory(),
        clock=lambda: NOW,
    )


def _targets(deps: Container, cnpj: Cnpj, campaign_id: str) -> list[Target]:
    targets = [
        Target(
            customer_id=f"c{index:03d}",
            name="Maria da Silva",
            phone=f"+55119{8765_0000 + index:08d}",
            campaign_id=campaign_id,
            period="once",
            run_id="bench-campaign-record",
            local_date=NOW.date().isoformat(),
        )
        for index in range(MESSAGES)
    ]
    assert deps.targets.create_batch(cnpj, targets).created == MESSAGES
    return targets


# -- main ------------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="API campaigns (ascending)"
    )
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    command = shlex.join(["bench/campaign_record.py", *(argv or sys.argv[1:])])
    started = time.perf_counter()
    rows: list[Row] = []
    with private_stack("bench-campaign-record-"):
        deps = Container(Settings(), clock=lambda: NOW)
        reads = Reads()
        count_reads(deps.firestore_client, reads)
        cnpj = tenant_cnpjs(1, args.seed)[0]
        register_tenant(
            cnpj,
            name=tenant_names(1, args.seed)[0],
            timezone=None,
            tenants=deps.tenants,
            warehouse=None,
            queues=None,
            campaigns=deps.campaigns,
            now=NOW,
        )
        tenant = deps.tenants.get(cnpj)
        assert tenant is not None
        fast = tenant.delivery.throttle.model_copy(update={"messages_per_minute": 4200})
        delivery = tenant.delivery.model_copy(update={"throttle": fast, "frequency_cap_hours": 0})
        deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
        # The sending number's split is read once a minute per process, not per message: read
        # it now so the first size does not carry it.
        deps.number_shares.view(deps.number_shares.number_of(tenant))
        already = 0
        for size in sorted(args.sizes):
            row = measure(deps, reads, cnpj, size, already)
            already = size
            rows.append(row)
            print(f"  {size:,} API campaigns written in {row.write_s:.1f} s, measured")
    print()
    print("## Campaign record benchmark")
    print()
    print(f"- command: `{command}`")
    print(f"- machine: {machine()}")
    print(f"- {MESSAGES} messages of one running campaign per size, through enqueue and send")
    print()
    print(
        table(
            [
                "API campaigns",
                "tenant document bytes",
                "reads / message",
                "bytes read / message",
                "tick's live-campaign reads",
            ],
            [
                [
                    f"{row.campaigns:,}",
                    f"{row.tenant_bytes:,}",
                    f"{row.reads_per_message:.2f}",
                    f"{row.bytes_per_message:,.0f}",
                    f"{row.live_reads}",
                ]
                for row in rows
            ],
        )
    )
    print()
    flat = (
        len({row.tenant_bytes for row in rows}) == 1
        and len({row.reads_per_message for row in rows}) == 1
        and max(row.bytes_per_message for row in rows)
        <= 1.05 * min(row.bytes_per_message for row in rows)
    )
    verdict = "flat" if flat else "NOT flat"
    print(
        f"verdict: {verdict}: tenant document {rows[0].tenant_bytes:,} -> {rows[-1].tenant_bytes:,}"
        f" bytes, {rows[0].reads_per_message:.2f} -> {rows[-1].reads_per_message:.2f} reads per"
        f" message from {rows[0].campaigns:,} to {rows[-1].campaigns:,} API campaigns"
        f" (run took {time.perf_counter() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
