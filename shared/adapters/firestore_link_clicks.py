"""Firestore as the LinkClickLedger: ``users/{cnpj}/linkClicks/{campaign}~{target}~{link}``.

One document per (target, link), created only by the first person's click, so a link followed
many times is one click. Following a link reads the target, its campaign and this document in
one ``BatchGetDocuments`` round trip: the redirect is on the customer's path.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from google.api_core import exceptions as api
from google.cloud import firestore

from shared.adapters.errors import translated
from shared.adapters.firestore_campaigns import read_campaign
from shared.domain.campaign_ids import BUILT_IN_KINDS
from shared.domain.campaign_settings import settings_model
from shared.domain.delivery import TargetRecord
from shared.domain.tracked_links import LinkRef
from shared.ports import LinkLookup


class FirestoreLinkClicks:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def lookup(self, link: LinkRef) -> LinkLookup:
        target = self._client.document(link.target.path)
        campaign = self._client.document(
            "users", link.target.cnpj.value, "campaigns", link.target.campaign_id
        )
        click = self._click(link)
        with translated("Firestore"):
            found = {s.reference.path: s for s in self._client.get_all([target, campaign, click])}
        target_doc, campaign_doc, click_doc = (
            found.get(ref.path) for ref in (target, campaign, click)
        )
        record = (
            TargetRecord.from_document(link.target, target_doc.to_dict() or {})
            if target_doc is not None and target_doc.exists
            else None
        )
        stored = read_campaign(campaign_doc) if campaign_doc is not None else None
        if stored is not None:
            settings = stored.pipeline
        elif link.target.campaign_id in BUILT_IN_KINDS:
            settings = settings_model(link.target.campaign_id)()
        else:
            settings = None
        return LinkLookup(record, settings, click_doc is not None and click_doc.exists)

    def record(self, link: LinkRef, at: datetime) -> None:
        with translated("Firestore"), contextlib.suppress(api.Conflict):
            self._click(link).create({"parameter": link.parameter, "at": at})

    def _click(self, link: LinkRef) -> firestore.DocumentReference:
        return self._client.document("users", link.target.cnpj.value, "linkClicks", link.click_id)
