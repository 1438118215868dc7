"""Firestore as the tenant's alerts: ``users/{cnpj}/alerts/{id}``.

An alert is created only once (its id is a function of its event), so a redelivered webhook
neither duplicates it nor reopens one the owner dismissed. Reads take the most recent alerts
by time (a single-field order: no composite index); a stored alert that no longer validates is
left out and logged with its path, never its values.
"""

from __future__ import annotations

import logging
from datetime import datetime

from google.api_core import exceptions as api
from google.cloud import firestore

from shared import logs
from shared.adapters.errors import translated
from shared.domain.alerts import Alert
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CorruptDocument, reading_document

_log = logging.getLogger(__name__)
ALERTS = "alerts"


class FirestoreAlerts:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _collection(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, ALERTS)

    def record(self, cnpj: Cnpj, alert: Alert) -> bool:
        with translated("Firestore"):
            try:
                self._collection(cnpj).document(alert.id).create(alert.model_dump())
            except api.Conflict:
                return False
        return True

    def recent(self, cnpj: Cnpj, limit: int) -> list[Alert]:
        query = self._collection(cnpj).order_by("at", direction=firestore.Query.DESCENDING)
        with translated("Firestore"):
            snapshots = list(query.limit(limit).stream())
        alerts = []
        for snapshot in snapshots:
            try:
                with reading_document(snapshot.reference.path):
                    alerts.append(Alert.model_validate(snapshot.to_dict() or {}))
            except CorruptDocument as error:
                logs.log(_log, logging.WARNING, "stored alert ignored", error=str(error))
        return alerts

    def dismiss(self, cnpj: Cnpj, alert_id: str, by: str, at: datetime) -> bool:
        document = self._collection(cnpj).document(alert_id)
        with translated("Firestore"):
            try:
                document.update({"dismissed": True, "dismissed_by": by, "dismissed_at": at})
            except api.NotFound:
                return False
        return True
