"""The narrow interfaces the services need. Adapters implement them; tests use fakes.

Each port speaks domain types only, so a service never sees a Google SDK object and the
same service code runs against the emulators, production, and the in-memory fakes that
enforce production rules the emulators do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from shared.domain.cnpj import Cnpj
from shared.domain.runs import CampaignOutcome, RunStatus
from shared.domain.targets import Target
from shared.domain.tenant import Tenant

QueryValue = str | int | float | bool | date | datetime | list[str]
"""A BigQuery named parameter's value; its BigQuery type follows from the Python type."""

MAX_BATCH_WRITES = 500
"""Firestore's production limit on writes per batch (the emulator accepts more)."""


class Warehouse(Protocol):
    def query(self, sql: str, params: Mapping[str, QueryValue]) -> Iterable[Mapping[str, Any]]:
        """Run a parameterised query and stream its rows as mappings."""
        ...

    def run_ddl(self, sql: str) -> None: ...

    def ensure_dataset(self, name: str) -> None: ...

    def replace_table(self, dataset: str, table: str, path: str, file_format: str) -> int:
        """Replace a table's content with a CSV (header row) or NDJSON file; rows loaded."""
        ...

    def column_types(self, dataset: str, table: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    created: int
    already_present: int


class TargetStore(Protocol):
    def create_batch(self, cnpj: Cnpj, targets: Sequence[Target]) -> BatchResult:
        """Create targets that do not exist yet, atomically per call, never overwriting.

        At most :data:`MAX_BATCH_WRITES` targets per call; one campaign type per call.
        """
        ...

    def customers_with_targets_since(
        self, cnpj: Cnpj, campaign_type: str, period_key: str
    ) -> set[str]:
        """Customer ids of targets whose period key is ``>= period_key`` (rolling periods)."""
        ...


class TenantRepository(Protocol):
    def get(self, cnpj: Cnpj) -> Tenant | None: ...

    def list_active(self) -> list[Tenant]: ...

    def save(self, tenant: Tenant) -> None: ...


@dataclass(frozen=True, slots=True)
class CampaignMarker:
    """The last local date a campaign completed for a tenant, and which run did it."""

    local_date: str
    run_id: str


class RunLedger(Protocol):
    def begin(self, cnpj: Cnpj, run_id: str, info: Mapping[str, Any]) -> RunStatus | None:
        """Mark a run RUNNING unless it exists already; returns the status it had, if any."""
        ...

    def record(self, cnpj: Cnpj, run_id: str, outcome: CampaignOutcome) -> None: ...

    def finish(
        self, cnpj: Cnpj, run_id: str, status: RunStatus, duration_ms: int, error: str = ""
    ) -> None: ...

    def outcome(self, cnpj: Cnpj, run_id: str, campaign_type: str) -> CampaignOutcome | None: ...

    def marker(self, cnpj: Cnpj, campaign_type: str) -> CampaignMarker | None: ...

    def mark_done(self, cnpj: Cnpj, campaign_type: str, marker: CampaignMarker) -> None: ...


class TickLog(Protocol):
    def record_fanout(self, tick_id: str, info: Mapping[str, Any]) -> None:
        """Remember which tenants a tick fanned out to, so callers know which runs to await."""
        ...


class Publisher(Protocol):
    def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        """Publish a JSON message and wait until the broker accepted it; its message id."""
        ...
