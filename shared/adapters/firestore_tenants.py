"""Firestore as the TenantRepository: one document ``users/{cnpj}`` per business.

Tenant documents are edited by people, so one may be invalid (a misspelt time zone, a bad
CNPJ as id). Such a document must not stop the other tenants: listing skips it with an error
log, and reading it raises a PermanentError that the entry points acknowledge.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pydantic
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import logs
from shared.adapters.errors import translated
from shared.domain.campaign_ids import SEGMENT, kind_of
from shared.domain.cnpj import Cnpj
from shared.domain.errors import PermanentError, ValidationError
from shared.domain.tenant import Tenant

_log = logging.getLogger(__name__)


def _tenant(document_id: str, fields: dict[str, Any] | None) -> Tenant:
    try:
        return Tenant.model_validate({**(fields or {}), "cnpj": document_id})
    except (pydantic.ValidationError, ValidationError) as error:
        raise PermanentError(f"tenant document users/{document_id} is invalid: {error}") from error


class FirestoreTenantRepository:
    def __init__(self, client: firestore.Client) -> None:
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
