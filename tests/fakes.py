"""In-memory fakes that enforce the PRODUCTION rules the emulators let slide.

The Firestore emulator accepts a batch of 501 writes; production refuses more than 500.
``FakeTargetStore`` refuses too, so a service that forgets to chunk fails in tests. Contract
tests run the same assertions against this fake and the emulator-backed adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shared.domain.cnpj import Cnpj
from shared.domain.targets import Target
from shared.ports import MAX_BATCH_WRITES, BatchResult, BatchTooLarge, QueryValue


class FakeTargetStore:
    def __init__(self) -> None:
        self.documents: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.batch_sizes: list[int] = []
        self._lock = threading.Lock()

    def create_batch(self, cnpj: Cnpj, targets: Sequence[Target]) -> BatchResult:
        if len(targets) > MAX_BATCH_WRITES:
            raise BatchTooLarge(
                f"a batch holds at most {MAX_BATCH_WRITES} writes, got {len(targets)}"
            )
        with self._lock:  # a commit is atomic
            self.batch_sizes.append(len(targets))
            keys = [(cnpj.value, target.campaign_id, target.id) for target in targets]
            fresh = [
                (key, t) for key, t in zip(keys, targets, strict=True) if key not in self.documents
            ]
            for key, target in fresh:
                self.documents[key] = target.document()
            return BatchResult(created=len(fresh), already_present=len(targets) - len(fresh))

    def customers_with_targets_since(
        self, cnpj: Cnpj, campaign_id: str, period_key: str
    ) -> set[str]:
        return {
            str(document["customerId"])
            for (tenant, kind, _), document in self.documents.items()
            if tenant == cnpj.value and kind == campaign_id and document["period"] >= period_key
        }

    def list(self, cnpj: Cnpj, campaign_id: str) -> list[dict[str, Any]]:
        return [
            {"id": target_id, **document}
            for (tenant, kind, target_id), document in self.documents.items()
            if tenant == cnpj.value and kind == campaign_id
        ]


class FlakyWarehouse:
    """Wraps a real Warehouse and raises ``error`` for queries whose SQL contains ``marker``."""

    def __init__(self, inner: Any, marker: str, error: Exception) -> None:
        self._inner = inner
        self._marker = marker
        self._error = error
        self.failures = 0

    def query(self, sql: str, params: Mapping[str, QueryValue]) -> Iterable[Mapping[str, Any]]:
        if self._marker in sql:
            self.failures += 1
            raise self._error
        return self._inner.query(sql, params)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
