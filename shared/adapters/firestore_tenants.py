"""Firestore as the TenantRepository: one document ``users/{cnpj}`` per business.

Tenant documents are edited by people, so one may be invalid (a misspelt time zone, a bad
CNPJ as id). Such a document must not stop the other tenants: listing skips it with an error
log, and reading it raises a PermanentError that the entry points acknowledge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pydantic
from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import logs
from shared.adapters.errors import translated
from shared.domain.campaign_ids import SEGMENT, kind_of
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError, NotFoundError, PermanentError, TransientError
from shared.domain.tenant import Tenant

_log = logging.getLogger(__name__)


def _tenant(document_id: str, fields: dict[str, Any] | None) -> Tenant:
    try:
        return Tenant.model_validate({**(fields or {}), "cnpj": document_id})
    except (pydantic.ValidationError, FieldError) as error:
        raise PermanentError(f"tenant document users/{document_id} is invalid: {error}") from error


class FirestoreTenantRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._users = client.collection("users")

    def get(self, cnpj: Cnpj) -> Tenant | None:
        with translated("Firestore"):
            snapshot = self._users.document(cnpj.value).get()
        return _tenant(snapshot.id, snapshot.to_dict()) if snapshot.exists else None

    def list_active(self) -> list[Tenant]:
        query = self._users.where(filter=FieldFilter("active", "==", True))
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

        @firestore.transactional
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

        with translated("Firestore"):
            try:
                result: tuple[Tenant, Tenant] = run(self._client.transaction())
                return result
            except ValueError as error:
                if isinstance(error.__cause__, api.Aborted):
                    raise TransientError(f"Firestore transaction contended: {error}") from error
                raise

    def pause_campaign(self, cnpj: Cnpj, campaign_type: str, reason: str) -> None:
        """Pause the projection senders read and, when the API stores the campaign, the
        campaign itself: otherwise its next edit would rewrite the projection unpaused."""
        fields = {
            f"campaigns.{campaign_type}.paused": True,
            f"campaigns.{campaign_type}.paused_reason": reason[:500],
        }
        campaign = self._users.document(cnpj.value).collection("campaigns").document(campaign_type)
        with translated("Firestore"):
            self._users.document(cnpj.value).update(fields)
            if campaign.get(["status"]).exists:
                campaign.update(
                    {
                        "status": "paused",
                        "status_reason": reason[:500],
                        "paused_at": datetime.now(UTC).isoformat(),
                    }
                )
                if kind_of(campaign_type) == SEGMENT:
                    self._users.document(cnpj.value).update(
                        {f"campaigns.{campaign_type}.segment.status": "paused"}
                    )


def _set_path(fields: dict[str, Any], path: list[str], value: Any) -> None:
    for name in path[:-1]:
        inner = fields.get(name)
        if not isinstance(inner, dict):
            inner = fields[name] = {}
        fields = inner
    fields[path[-1]] = value
