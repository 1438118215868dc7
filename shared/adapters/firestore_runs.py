"""Firestore as the RunLedger: run documents, daily campaign markers and tick records.

``users/{cnpj}/runs/{runId}``       what one tenant job did (read by ``campaigns tick``)
``users/{cnpj}/campaigns/{TYPE}``   the last local date the campaign completed, and by which run
``ticks/{tickId}``                  which tenants a tick fanned out to

Run documents are listed newest first (``GET /api/v1/runs`` and the console's Início), paged by
the last document's id like the audit trail.

Run and tick documents carry ``expireAt``: production's TTL policies (infra/, declared in
:mod:`shared.adapters.firestore_schema`) delete them once nobody needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.errors import translated
from shared.adapters.firestore_paging import newest_first
from shared.adapters.firestore_schema import RUN_RETENTION, TICK_RETENTION, TTL_FIELD
from shared.clock import Clock
from shared.domain.cnpj import Cnpj
from shared.domain.runs import CampaignOutcome, RunStatus
from shared.ports import CampaignMarker

MARKER_FIELDS = ("lastCompletedDate", "lastRunId")
"""The daily marker's fields in ``users/{cnpj}/campaigns/{TYPE}``, which is also the campaign's
document: the campaign repository leaves them out of the campaign and keeps them on writes."""


class FirestoreRunLedger:
    def __init__(self, client: firestore.Client, clock: Clock) -> None:
        self._client = client
        self._clock = clock  # for the TTL field alone; run times are the server's

    def _run(self, cnpj: Cnpj, run_id: str) -> firestore.DocumentReference:
        return self._client.collection("users", cnpj.value, "runs").document(run_id)

    def _campaign(self, cnpj: Cnpj, campaign_id: str) -> firestore.DocumentReference:
        return self._client.collection("users", cnpj.value, "campaigns").document(campaign_id)

    def begin(self, cnpj: Cnpj, run_id: str, info: Mapping[str, Any]) -> RunStatus | None:
        reference = self._run(cnpj, run_id)
        fields = {
            **info,
            "status": RunStatus.RUNNING.value,
            "startedAt": firestore.SERVER_TIMESTAMP,
            "campaigns": {},
            TTL_FIELD: self._clock() + RUN_RETENTION,
        }
        with translated("Firestore"):
            try:
                reference.create(fields)
                return None
            except api.Conflict:
                previous = RunStatus(reference.get().get("status"))
                if previous is not RunStatus.FINISHED:
                    reference.update(
                        {
                            "status": RunStatus.RUNNING.value,
                            "restartedAt": firestore.SERVER_TIMESTAMP,
                        }
                    )
                return previous

    def record(self, cnpj: Cnpj, run_id: str, outcome: CampaignOutcome) -> None:
        field = FieldPath("campaigns", outcome.campaign_id).to_api_repr()
        with translated("Firestore"):
            self._run(cnpj, run_id).update({field: outcome.to_document()})

    def finish(
        self, cnpj: Cnpj, run_id: str, status: RunStatus, duration_ms: int, error: str = ""
    ) -> None:
        fields = {
            "status": status.value,
            "error": error,
            "durationMs": duration_ms,
            "finishedAt": firestore.SERVER_TIMESTAMP,
        }
        with translated("Firestore"):
            self._run(cnpj, run_id).update(fields)

    def outcome(self, cnpj: Cnpj, run_id: str, campaign_id: str) -> CampaignOutcome | None:
        with translated("Firestore"):
            snapshot = self._run(cnpj, run_id).get()
        document = (snapshot.to_dict() or {}).get("campaigns", {}).get(campaign_id)
        return CampaignOutcome.from_document(document) if document else None

    def document(self, cnpj: Cnpj, run_id: str) -> dict[str, Any] | None:
        with translated("Firestore"):
            snapshot = self._run(cnpj, run_id).get()
        return snapshot.to_dict() if snapshot.exists else None

    def page(
        self, cnpj: Cnpj, *, local_date: str | None, after: str | None, limit: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
        """Up to ``limit`` run documents as (id, fields), newest start first, after the run
        ``after`` of an earlier page; with ``local_date``, only the runs of that local day.

        Returns them and the id to continue from (None on the last page). An ``after`` that is
        not one of this tenant's runs raises KeyError.
        """
        runs = self._client.collection("users", cnpj.value, "runs")
        query: Any = runs
        if local_date is not None:
            query = query.where(filter=FieldFilter("localDate", "==", local_date))
        page, more = newest_first(runs, query, time_field="startedAt", after=after, limit=limit)
        found = [(snapshot.id, snapshot.to_dict() or {}) for snapshot in page]
        return found, (found[-1][0] if more and found else None)

    def marker(self, cnpj: Cnpj, campaign_id: str) -> CampaignMarker | None:
        with translated("Firestore"):
            snapshot = self._campaign(cnpj, campaign_id).get()
        document = snapshot.to_dict() or {}
        if "lastCompletedDate" not in document:
            return None
        return CampaignMarker(document["lastCompletedDate"], document.get("lastRunId", ""))

    def mark_done(self, cnpj: Cnpj, campaign_id: str, marker: CampaignMarker) -> None:
        with translated("Firestore"):
            self._campaign(cnpj, campaign_id).set(
                {"lastCompletedDate": marker.local_date, "lastRunId": marker.run_id}, merge=True
            )


class FirestoreTickLog:
    def __init__(self, client: firestore.Client, clock: Clock) -> None:
        self._ticks = client.collection("ticks")
        self._clock = clock  # for the TTL field alone

    def get(self, tick_id: str) -> dict[str, Any] | None:
        with translated("Firestore"):
            snapshot = self._ticks.document(tick_id).get()
        return snapshot.to_dict() if snapshot.exists else None

    def record_fanout(self, tick_id: str, info: Mapping[str, Any]) -> None:
        with translated("Firestore"):
            self._ticks.document(tick_id).set(
                {
                    **info,
                    "fannedOutAt": firestore.SERVER_TIMESTAMP,
                    TTL_FIELD: self._clock() + TICK_RETENTION,
                },
                merge=True,
            )
