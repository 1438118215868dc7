"""Firestore as the voucher book: every code reserved by a create-only document.

``users/{cnpj}/vouchers/{code}`` exists from the moment a code is issued and is never deleted,
so a code is unique per tenant for good: a ``create`` that meets an existing document fails in
Firestore itself, and the code is drawn again. With 40 random bits that is rare (a tenant with
a million codes collides once in a million draws), so the common path of :meth:`issue_many` is
one batch commit per 500 codes and no reads; on a collision the batch (atomic) fails whole, one
``get_all`` finds the taken codes, only those are redrawn and the batch is committed again.

Measured on the Firestore emulator (a busy 2-core machine, three rounds): 500 codes took 1.3-1.8 s
through :meth:`issue_many` against 8.4-10.5 s as 500 single ``create`` calls; in production the
difference is 499 network round trips.

A retried target build may issue a code for a target that already exists with its own code;
the new code is then never sent. It stays reserved — harmless, since codes are never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore

from shared.adapters.errors import translated
from shared.domain.calendar import DEFAULT_TIMEZONE
from shared.domain.cnpj import Cnpj
from shared.domain.errors import PermanentError
from shared.domain.vouchers import (
    CODE_BITS,
    Voucher,
    VoucherConfig,
    check_prefix,
    new_code,
    normalize_code,
)
from shared.ports import MAX_BATCH_WRITES

MAX_DRAWS = 8
"""Draws per code before giving up: eight collisions in a row mean the code space is full."""


def vouchers_collection(client: firestore.Client, cnpj: Cnpj) -> firestore.CollectionReference:
    return client.collection("users", cnpj.value, "vouchers")


class FirestoreVoucherBook:
    """Issues, reserves and looks up a tenant's voucher codes.

    ``draw`` makes a fresh code from a prefix; tests replace it to force collisions.
    """

    def __init__(self, client: firestore.Client, draw: Callable[[str], str] = new_code) -> None:
        self._client = client
        self._draw = draw

    def issue(
        self,
        cnpj: Cnpj,
        campaign_id: str,
        target_path: str,
        config: VoucherConfig,
        issued_at: datetime,
        *,
        prefix: str = "",
        timezone: str = DEFAULT_TIMEZONE,
    ) -> Voucher:
        """Reserve a new code for one target (one round trip unless a code collides)."""
        check_prefix(prefix)
        collection = vouchers_collection(self._client, cnpj)
        with translated("Firestore"):
            for _ in range(MAX_DRAWS):
                voucher = _voucher(
                    self._draw(prefix), campaign_id, target_path, config, issued_at, timezone
                )
                try:
                    collection.document(voucher.code).create(_document(voucher, config))
                    return voucher
                except api.Conflict:
                    continue
        raise _exhausted(prefix)

    def issue_many(
        self,
        cnpj: Cnpj,
        campaign_id: str,
        target_paths: Sequence[str],
        config: VoucherConfig,
        issued_at: datetime,
        *,
        prefix: str = "",
        timezone: str = DEFAULT_TIMEZONE,
    ) -> list[Voucher]:
        """One new code per target, in the targets' order; one commit per 500 codes."""
        check_prefix(prefix)
        issued: list[Voucher] = []
        for start in range(0, len(target_paths), MAX_BATCH_WRITES):
            chunk = target_paths[start : start + MAX_BATCH_WRITES]
            issued.extend(
                self._issue_chunk(cnpj, campaign_id, chunk, config, issued_at, prefix, timezone)
            )
        return issued

    def lookup(self, cnpj: Cnpj, code: str) -> Voucher | None:
        """The voucher a typed code names (case, spaces, hyphens and O/I/L forgiven), if any."""
        canonical = normalize_code(code)
        if canonical is None:
            return None
        with translated("Firestore"):
            snapshot = vouchers_collection(self._client, cnpj).document(canonical).get()
        if not snapshot.exists:
            return None
        return _from_document(canonical, snapshot.to_dict() or {})

    def _issue_chunk(
        self,
        cnpj: Cnpj,
        campaign_id: str,
        target_paths: Sequence[str],
        config: VoucherConfig,
        issued_at: datetime,
        prefix: str,
        timezone: str,
    ) -> list[Voucher]:
        collection = vouchers_collection(self._client, cnpj)
        codes = self._distinct_codes(prefix, len(target_paths), avoid=set())
        with translated("Firestore"):
            for _ in range(MAX_DRAWS):
                vouchers = [
                    _voucher(code, campaign_id, path, config, issued_at, timezone)
                    for code, path in zip(codes, target_paths, strict=True)
                ]
                batch = self._client.batch()
                for voucher in vouchers:
                    batch.create(collection.document(voucher.code), _document(voucher, config))
                try:
                    batch.commit()
                    return vouchers
                except api.Conflict:  # atomic: nothing was written; redraw only the taken codes
                    references = [collection.document(code) for code in codes]
                    taken = {snap.id for snap in self._client.get_all(references) if snap.exists}
                    fresh = iter(self._distinct_codes(prefix, len(taken), avoid=set(codes)))
                    codes = [next(fresh) if code in taken else code for code in codes]
        raise _exhausted(prefix)

    def _distinct_codes(self, prefix: str, count: int, avoid: set[str]) -> list[str]:
        """``count`` codes, distinct from each other and from ``avoid`` (one batch's codes)."""
        codes: list[str] = []
        seen = set(avoid)
        misses = 0
        while len(codes) < count:
            code = self._draw(prefix)
            if code in seen:
                misses += 1
                if misses > MAX_DRAWS * max(1, count):
                    raise _exhausted(prefix)
                continue
            seen.add(code)
            codes.append(code)
        return codes


def _exhausted(prefix: str) -> PermanentError:
    return PermanentError(
        f"no free voucher code after {MAX_DRAWS} draws (prefix {prefix!r},"
        f" {CODE_BITS} random bits): the tenant's code space is exhausted or the generator broken"
    )


def _voucher(
    code: str,
    campaign_id: str,
    target_path: str,
    config: VoucherConfig,
    issued_at: datetime,
    timezone: str,
) -> Voucher:
    return Voucher(
        code=code,
        campaign_id=campaign_id,
        target_path=target_path,
        kind=config.kind,
        value=config.value,
        issued_at=issued_at,
        expires_at=config.expires_at(issued_at, timezone),
        timezone=timezone,
    )


def _document(voucher: Voucher, config: VoucherConfig) -> dict[str, Any]:
    return {
        "code": voucher.code,
        "targetPath": voucher.target_path,
        "campaignId": voucher.campaign_id,
        "kind": voucher.kind,
        "value": voucher.value,
        "validityDays": config.validity_days,
        "timezone": voucher.timezone,
        "issuedAt": voucher.issued_at,
        "expiresAt": voucher.expires_at,
        "createdAt": firestore.SERVER_TIMESTAMP,
    }


def _from_document(code: str, data: dict[str, Any]) -> Voucher:
    return Voucher(
        code=code,
        campaign_id=str(data["campaignId"]),
        target_path=str(data["targetPath"]),
        kind="amount" if data["kind"] == "amount" else "percentage",
        value=float(data["value"]),
        issued_at=data["issuedAt"],
        expires_at=data["expiresAt"],
        timezone=str(data.get("timezone", DEFAULT_TIMEZONE)),
    )
