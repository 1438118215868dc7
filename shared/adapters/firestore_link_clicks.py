"""Firestore as the LinkClickLedger: ``users/{cnpj}/linkClicks/{campaign}~{target}~{link}``.

One document per (target, link), created only by the first person's click, so a link followed
many times is one click. It carries what the click's history row needs and ``appended``, false
until the row is known to be in BigQuery: the sweeper appends what a lost callback left.
Following a link reads the target, its campaign and this document in one ``BatchGetDocuments``
round trip: the redirect is on the customer's path.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared import logs
from shared.adapters.errors import translated
from shared.adapters.firestore_campaigns import read_campaign
from shared.domain.campaign_ids import BUILT_IN_KINDS
from shared.domain.campaign_settings import CampaignSettings, settings_model
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.tracked_links import LinkRef
from shared.ports import LinkClick, LinkLookup

_log = logging.getLogger(__name__)

LINK_CLICKS = "linkClicks"


class FirestoreLinkClicks:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def lookup(self, link: LinkRef, with_campaign: bool = True) -> LinkLookup:
        target = self._client.document(link.target.path)
        campaign = self._client.document(
            "users", link.target.cnpj.value, "campaigns", link.target.campaign_id
        )
        click = self._click(link)
        refs = [target, campaign, click] if with_campaign else [target, click]
        with translated("Firestore"):
            found = {s.reference.path: s for s in self._client.get_all(refs)}
        target_doc, campaign_doc, click_doc = (
            found.get(ref.path) for ref in (target, campaign, click)
        )
        record = (
            TargetRecord.from_document(link.target, target_doc.to_dict() or {})
            if target_doc is not None and target_doc.exists
            else None
        )
        settings = _settings(link.target.campaign_id, campaign_doc) if with_campaign else None
        return LinkLookup(record, settings, click_doc is not None and click_doc.exists)

    def campaign_values(self, cnpj: Cnpj, campaign_id: str) -> dict[str, str] | None:
        campaign = self._client.document("users", cnpj.value, "campaigns", campaign_id)
        with translated("Firestore"):
            snapshot = campaign.get()
        settings = _settings(campaign_id, snapshot)
        return None if settings is None else dict(settings.template_values)

    def record(self, click: LinkClick) -> bool:
        document = {
            "parameter": click.link.parameter,
            "at": click.at,
            "phone": click.phone,
            "wamid": click.wamid,
            "appended": False,
        }
        with translated("Firestore"):
            try:
                self._click(click.link).create(document)
            except api.Conflict:
                return False
        return True

    def mark_appended(self, link: LinkRef) -> None:
        with translated("Firestore"):
            self._click(link).update({"appended": True})

    def unappended(self, before: datetime, limit: int) -> list[LinkClick]:
        query = (
            self._client.collection_group(LINK_CLICKS)
            .where(filter=FieldFilter("appended", "==", False))
            .where(filter=FieldFilter("at", "<", before))
            .limit(limit)
        )
        with translated("Firestore"):
            snapshots = list(query.stream())
        clicks = []
        for snapshot in snapshots:
            link = _link_of(snapshot.reference.path)
            fields = snapshot.to_dict() or {}
            if link is None or not isinstance(fields.get("at"), datetime):
                logs.log(_log, logging.ERROR, "unreadable click record skipped")
                continue
            clicks.append(
                LinkClick(
                    link, fields["at"], str(fields.get("phone", "")), str(fields.get("wamid", ""))
                )
            )
        return clicks

    def _click(self, link: LinkRef) -> firestore.DocumentReference:
        return self._client.document("users", link.target.cnpj.value, LINK_CLICKS, link.click_id)


def _settings(
    campaign_id: str, snapshot: firestore.DocumentSnapshot[Any] | None
) -> CampaignSettings | None:
    """The campaign's pipeline settings; a built-in kind not stored yet has its defaults."""
    stored = read_campaign(snapshot) if snapshot is not None else None
    if stored is not None:
        return stored.pipeline
    if campaign_id in BUILT_IN_KINDS:
        return settings_model(campaign_id)()
    return None


def _link_of(path: str) -> LinkRef | None:
    """``users/{cnpj}/linkClicks/{campaign}~{target}~{link}`` back to the link it records."""
    parts = path.split("/")
    if len(parts) != 4:
        return None
    campaign_id, _, rest = parts[3].partition("~")
    target_id, _, parameter = rest.rpartition("~")
    try:
        target = TargetRef.parse(f"users/{parts[1]}/campaigns/{campaign_id}/targets/{target_id}")
    except ValueError:
        return None
    return LinkRef(target, parameter) if parameter else None
