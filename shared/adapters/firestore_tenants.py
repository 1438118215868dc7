"""Firestore as the TenantRepository: one document ``users/{cnpj}`` per business.

Tenant documents are edited by people, so one may be invalid (a misspelt time zone, a bad
CNPJ as id). Such a document must not stop the other tenants: listing skips it with an error
log, and reading it raises a CorruptDocument (a PermanentError) that the entry points
acknowledge and the API answers with a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import logs
from shared.adapters.errors import translated
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.domain.cnpj import Cnpj
from shared.domain.errors import NotFoundError, PermanentError, reading_document
from shared.domain.tenant import Tenant

_log = logging.getLogger(__name__)


def _tenant(document_id: str, fields: dict[str, Any] | None) -> Tenant:
    with reading_document(f"users/{document_id}"):
        return Tenant.model_validate({**(fields or {}), "cnpj": document_id})


class FirestoreTenantRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._users = client.collection("users")

    def get(self, cnpj: Cnpj) -> Tenant | None:
        with translated("Firestore"):
            snapshot = self._users.document(cnpj.value).get()
        return _tenant(snapshot.id, snapshot.to_dict()) if snapshot.exists else None

    def list_active(self) -> list[Tenant]:
        return self._valid(self._users.where(filter=FieldFilter("active", "==", True)))

    def of_number(self, phone_number_id: str, *, include_unset: bool) -> list[Tenant]:
        """Active or not (an opt-out reaches a paused tenant too). With ``include_unset`` every
        tenant is read and matched by its validated settings: a document written without the
        field sends from the default number, and no equality on the field would find it."""
        if include_unset:
            return [
                tenant
                for tenant in self._valid(self._users)
                if tenant.delivery.phone_number_id in ("", phone_number_id)
            ]
        field = FieldFilter("delivery.phone_number_id", "==", phone_number_id)
        return self._valid(self._users.where(filter=field))

    def _valid(self, query: Any) -> list[Tenant]:
        """The query's tenants; an invalid document is logged and skipped."""
        tenants = []
        with translated("Firestore"):
            snapshots = list(query.stream())
        for snapshot in snapshots:
            try:
                tenants.append(_tenant(snapshot.id, snapshot.to_dict()))
            except PermanentError as error:
                logs.log(_log, logging.ERROR, "invalid tenant skipped", error=str(error))
        return tenants

    def save(self, tenant: Tenant) -> None:
        with translated("Firestore"):
            self._users.document(tenant.cnpj).set(tenant.model_dump(mode="json"), merge=True)

    def edit(
        self, cnpj: Cnpj, change: Callable[[Tenant], Mapping[str, Any]]
    ) -> tuple[Tenant, Tenant]:
        """Set the fields ``change`` returns (dotted paths -> values) for the tenant it is
        given, in one transaction; (before, after). A raise in ``change`` writes nothing."""
        reference = self._users.document(cnpj.value)

        def run(transaction: firestore.Transaction) -> tuple[Tenant, Tenant]:
            snapshot = reference.get(transaction=transaction)
            if not snapshot.exists:
                raise NotFoundError("this tenant is not registered")
            fields = snapshot.to_dict() or {}
            before = _tenant(snapshot.id, fields)
            updates = dict(change(before))
            if not updates:
                return before, before
            transaction.update(reference, updates)
            for path, value in updates.items():
                _set_path(fields, path.split("."), value)
            return before, _tenant(snapshot.id, fields)

        return run_transaction(self._client, run, max_attempts=EDIT_ATTEMPTS)


def _set_path(fields: dict[str, Any], path: list[str], value: Any) -> None:
    for name in path[:-1]:
        inner = fields.get(name)
        if not isinstance(inner, dict):
            inner = fields[name] = {}
        fields = inner
    fields[path[-1]] = value
