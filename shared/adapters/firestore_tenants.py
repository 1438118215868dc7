"""Firestore as the TenantRepository: one document ``users/{cnpj}`` per business."""

from __future__ import annotations

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.domain.cnpj import Cnpj
from shared.domain.tenant import Tenant


class FirestoreTenantRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._users = client.collection("users")

    def get(self, cnpj: Cnpj) -> Tenant | None:
        with translated("Firestore"):
            snapshot = self._users.document(cnpj.value).get()
        if not snapshot.exists:
            return None
        return Tenant.model_validate({**(snapshot.to_dict() or {}), "cnpj": cnpj.value})

    def list_active(self) -> list[Tenant]:
        query = self._users.where(filter=FieldFilter("active", "==", True))
        with translated("Firestore"):
            return [
                Tenant.model_validate({**(snapshot.to_dict() or {}), "cnpj": snapshot.id})
                for snapshot in query.stream()
            ]

    def save(self, tenant: Tenant) -> None:
        with translated("Firestore"):
            self._users.document(tenant.cnpj).set(tenant.model_dump(mode="json"), merge=True)
