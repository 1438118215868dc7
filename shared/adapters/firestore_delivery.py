"""Firestore as the DeliveryStore: every step one transaction on the target document.

Cloud Tasks may dispatch a task twice, Eventarc may deliver an event twice and Meta resends
webhooks; each of those writers reads the target inside a transaction and writes only if the
state it read allows the step, so concurrent duplicates serialise and exactly one wins.
Pacing shards, the opt-out ledger and the per-phone frequency ledger are read in the same
transactions so a claim and the facts it depends on cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.adapters.firestore_consent import FirestoreConsentLedger
from shared.adapters.firestore_schema import OVERDUE_CLOCK, TTL_FIELD
from shared.adapters.firestore_transactions import HOT_DOCUMENT_ATTEMPTS, run_transaction
from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.cnpj import Cnpj
from shared.domain.consent import ConsentEvent, blocks_sending
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import CLAIMABLE, Status, status_after_receipts
from shared.domain.identity import Identity
from shared.domain.pacing import (
    Planner,
    SendByMissed,
    ShardState,
    Slot,
    counted_under,
    pruned,
)
from shared.domain.tenant import MAX_FREQUENCY_CAP
from shared.ports import Change, Claim, ClaimResult, Queued, Yielding

_T = TypeVar("_T")

YIELD_LEAD = timedelta(seconds=30)
"""A slot this close is not taken from its target: its task may already be on its way."""
YIELD_CANDIDATES = 20
"""Queued targets read per yielding campaign to find one in the urgent target's window."""
FIRST_CANDIDATES = 4
"""Read first: the soonest queued target is nearly always in the window (a contact in another
zone is the exception), and reading 20 documents per urgent target cost a third of planning."""

_REACHED = frozenset({Status.DELIVERED, Status.READ})
"""The message reached the phone: an error kept from an earlier attempt or from a ``failed``
receipt it outranks no longer describes the target, so reaching one of these clears it."""


class FirestoreDeliveryStore:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._consent = FirestoreConsentLedger(client)

    # -- reads -----------------------------------------------------------------------------

    def load(self, ref: TargetRef) -> TargetRecord | None:
        with translated("Firestore"):
            snapshot = self._doc(ref).get()
        return _record(ref, snapshot)

    def is_opted_out(self, cnpj: Cnpj, phone: str) -> bool:
        return self._consent.opted_out(cnpj, [phone])

    def overdue(self, status: Status, before: datetime, limit: int) -> list[TargetRecord]:
        records: list[TargetRecord] = []
        for targets in self._swept_targets():
            query = targets.where(filter=FieldFilter("status", "==", status.value))
            if status is Status.UNKNOWN:
                query = query.where(filter=FieldFilter("settled", "==", False))
            clock = FieldFilter(OVERDUE_CLOCK[status], "<", before)
            query = query.where(filter=clock).limit(limit - len(records))
            with translated("Firestore"):
                for snapshot in query.stream():
                    record = _record(TargetRef.parse(snapshot.reference.path), snapshot)
                    if record is not None:
                        records.append(record)
            if len(records) >= limit:
                break
        return records

    def _swept_targets(self) -> list[Any]:
        """Where :meth:`overdue` looks: every tenant's targets, one collection-group query
        (tests narrow it to one tenant's campaigns, the same query per collection)."""
        return [self._client.collection_group("targets")]

    # -- transactions ----------------------------------------------------------------------

    def queue(
        self,
        ref: TargetRef,
        planner: Planner | CampaignPlanner,
        earliest: datetime,
        allowed: frozenset[Status],
        now: datetime,
        generation: int | None = None,
        yielding: Yielding | None = None,
    ) -> Queued:
        def body(transaction: firestore.Transaction, target: _Target) -> Queued:
            record = target.record
            if record is None or record.status not in allowed:
                return Queued(record)
            if generation is not None and record.task_generation != generation:
                return Queued(record)
            if isinstance(planner, CampaignPlanner):
                return self._queue_at_campaign_pace(
                    transaction, target, record, planner, max(earliest, now), now
                )
            shards = _PacingShards(self._client, transaction, ref.cnpj, now)
            own = planner.throttle.shard_of(ref.path)
            start = max(earliest, now)
            planned = self._slot_for(shards, record, planner, own, start, yielding)
            if planned is None:
                change = Change(Status.EXPIRED, error_reason="no send slot before its send-by")
                return Queued(target.write(transaction, _change_fields(record, change, now)))
            (shard, slot), displaced = planned
            shards.keep(shard, slot.state)
            shards.write()
            fields = {
                **_stamp(record, Status.QUEUED, now),
                "plannedAt": slot.send_at,
                "parked": False,
                "shard": shard,
                "taskGeneration": record.task_generation + 1,
            }
            return Queued(target.write(transaction, fields), displaced)

        return self._transact(ref, body)

    def _queue_at_campaign_pace(
        self,
        transaction: firestore.Transaction,
        target: _Target,
        record: TargetRecord,
        planner: CampaignPlanner,
        start: datetime,
        now: datetime,
    ) -> Queued:
        """Plan on the campaign's shard and the tenant shard owning the slot (and those the
        send's hour and day are counted in, when not the slot's), in one transaction: every
        document is read before any is written. Such a target never
        takes a slot from another campaign's (see ``yielding_to``), though it may give its own
        away (:meth:`_yield_campaign_paced`): no slot before its send-by leaves it EXPIRED."""
        ref = record.ref
        campaign_shard = planner.shard_of(ref.path)
        campaign_doc = self._campaign_shard(ref, campaign_shard)
        state = _slots(campaign_doc, transaction, now)
        shards = _PacingShards(self._client, transaction, ref.cnpj, now)
        try:
            slot = planner.plan(start, campaign_shard, state, shards, before=record.send_by)
        except SendByMissed:
            change = Change(Status.EXPIRED, error_reason="no send slot before its send-by")
            return Queued(target.write(transaction, _change_fields(record, change, now)))
        transaction.set(campaign_doc, {"slots": slot.campaign_state, "updatedAt": now})
        for shard, slots in slot.tenant_states.items():
            shards.keep(shard, slots)
        shards.write()
        fields = {
            **_stamp(record, Status.QUEUED, now),
            "plannedAt": slot.send_at,
            "parked": False,
            "shard": slot.tenant_shard,
            "campaignShard": campaign_shard,
            "taskGeneration": record.task_generation + 1,
        }
        return Queued(target.write(transaction, fields))

    def _slot_for(
        self,
        shards: _PacingShards,
        record: TargetRecord,
        planner: Planner,
        own: int,
        start: datetime,
        yielding: Yielding | None,
    ) -> tuple[tuple[int, Slot], TargetRecord | None] | None:
        """Where a target goes (and the target that gave its slot away, if one did), the
        cheapest first: a free slot of its own shard; one of its own shard that a less urgent
        target gives way; a free slot of another shard (:meth:`_spilled`); one of another
        shard that a less urgent target gives way. The own shard's less urgent targets come
        before the other shards' free slots because they read no other pacing document: on a
        burst of birthdays behind a backlog that is most of the cost, and nothing is lost by
        it, since the target that gives way is planned again in any shard with a free slot.
        None: no slot before its send-by."""
        before = record.send_by
        try:
            return (own, planner.plan(start, own, shards(own), before=before)), None
        except SendByMissed:
            if before is None:
                raise  # unreachable: only a send-by makes a shard miss
        others = tuple(shard for shard in range(planner.throttle.effective_shards) if shard != own)
        if yielding is not None:
            taken = self._take_yielded_slot(shards, record, planner, (own,), start, yielding)
            if taken is not None:
                return taken
        spilled = self._spilled(shards, planner, others, start, before)
        if spilled is not None:
            return spilled, None
        if yielding is not None and others:
            return self._take_yielded_slot(shards, record, planner, others, start, yielding)
        return None

    def _spilled(
        self,
        shards: _PacingShards,
        planner: Planner,
        others: tuple[int, ...],
        start: datetime,
        before: datetime,
    ) -> tuple[int, Slot] | None:
        """The soonest slot before ``before`` that one of the ``others`` shards has
        (:meth:`Planner.spill`), for a target whose own shard has none.

        The other shards are read outside the transaction, only to choose one: reading them
        all in it would lock every pacing document of the tenant, and each target that can
        only expire would wait for all the others. The chosen shard is read again in the
        transaction and planned on that read (the next choice if it has no slot any more)."""
        if not others:
            return None
        for shard, _ in planner.spill(start, shards.outside_transaction(others), before):
            try:
                return shard, planner.plan(start, shard, shards(shard), before=before)
            except SendByMissed:
                continue
        return None

    def _take_yielded_slot(
        self,
        shards: _PacingShards,
        record: TargetRecord,
        planner: Planner,
        in_shards: tuple[int, ...],
        start: datetime,
        yielding: Yielding,
    ) -> tuple[tuple[int, Slot], TargetRecord] | None:
        """The first slot of ``in_shards`` before the target's send-by, within its window,
        held by a queued target of a yielding campaign: the least urgent campaign first, and
        in each campaign the shards in the order given. The target that gives way is planned
        again after its slot by its own planner (EXPIRED when that is past its own send-by).
        The slot keeps its place in the shard's counters, so no limit changes; only who uses
        it does.

        Slots less than :data:`YIELD_LEAD` away are left alone: their task may be running.
        """
        assert record.send_by is not None
        since = max(start, shards.now + YIELD_LEAD)
        for campaign_id in _in_yield_order(yielding):
            for shard in in_shards:
                for limit in (FIRST_CANDIDATES, YIELD_CANDIDATES):  # most often the first fits
                    candidates = self._yield_candidates(
                        shards.transaction,
                        record.ref.cnpj,
                        campaign_id,
                        shard,
                        since,
                        record.send_by,
                        limit,
                    )
                    for snapshot in candidates:
                        victim_ref = TargetRef(record.ref.cnpj, campaign_id, snapshot.id)
                        victim = TargetRecord.from_document(victim_ref, snapshot.to_dict() or {})
                        if victim.planned_at is None or not planner.in_window(victim.planned_at):
                            continue
                        return self._yield(shards, victim, snapshot, shard, yielding)
                    if len(candidates) < limit:
                        break  # the campaign has no more in the range
        return None

    def _yield_candidates(
        self,
        transaction: firestore.Transaction | None,
        cnpj: Cnpj,
        campaign_id: str,
        shard: int,
        since: datetime,
        before: datetime,
        limit: int = YIELD_CANDIDATES,
    ) -> list[Any]:
        """The campaign's queued targets of ``shard`` planned in ``[since, before)``, soonest
        first (at most ``limit``): the slots that could be handed over."""
        targets = self._client.collection("users", cnpj.value, "campaigns", campaign_id, "targets")
        query = (
            targets.where(filter=FieldFilter("status", "==", Status.QUEUED.value))
            .where(filter=FieldFilter("shard", "==", shard))
            .where(filter=FieldFilter("plannedAt", ">=", since))
            .where(filter=FieldFilter("plannedAt", "<", before))
            .order_by("plannedAt")
            .limit(limit)
        )
        with translated("Firestore"):
            return list(query.stream(transaction=transaction))

    def _yield(
        self,
        shards: _PacingShards,
        victim: TargetRecord,
        snapshot: Any,
        shard: int,
        yielding: Yielding,
    ) -> tuple[tuple[int, Slot], TargetRecord]:
        """Give ``victim``'s slot in ``shard`` away and plan it again after that slot (in that
        shard, else in another; it takes no one's slot in turn)."""
        assert victim.planned_at is not None
        now = shards.now
        shards(shard)  # read before anything is written (Firestore's transactions require it)
        displaced = _Target(victim.ref, self._doc(victim.ref), snapshot)
        planner = yielding.planner_for(victim)
        if isinstance(planner, CampaignPlanner):
            moved = self._yield_campaign_paced(shards, victim, snapshot, displaced, planner)
            return (shard, Slot(victim.planned_at, shards(shard))), moved
        after = victim.planned_at + timedelta(microseconds=1)
        later = self._slot_for(shards, victim, planner, shard, after, yielding=None)
        if later is None:
            expired = displaced.write(shards.transaction, _expired_yielding(victim, now))
            return (shard, Slot(victim.planned_at, shards(shard))), expired
        (later_shard, later_slot), _ = later
        shards.keep(later_shard, later_slot.state)
        fields = {
            **_stamp(victim, Status.QUEUED, now),
            "plannedAt": later_slot.send_at,
            "shard": later_shard,
            "taskGeneration": victim.task_generation + 1,
        }
        handed_over = Slot(victim.planned_at, shards(shard))
        return (shard, handed_over), displaced.write(shards.transaction, fields)

    def _yield_campaign_paced(
        self,
        shards: _PacingShards,
        victim: TargetRecord,
        snapshot: Any,
        displaced: _Target,
        planner: CampaignPlanner,
    ) -> TargetRecord:
        """Hand over the slot of a target of a campaign with its own pace, and plan it again by
        that pace.

        The counters: the tenant slot stays counted where it is (the tenant shard's minute, and
        the hour and day of whichever tenant shard counted it); only who sends in it changes.
        In the campaign's own pacing document the slot's place in its minute stays taken (a
        slot nobody sends in: the campaign's pace and delay only become stricter, and freeing
        a place under the minute's high-water mark would need a list of holes), while its hour
        and day counts are released, because the campaign sends nothing there: its caps stay
        whole for the re-planned send, which counts itself again. Every document is read
        before any is written (Firestore's transactions require it)."""
        assert victim.planned_at is not None
        ref, transaction, now = victim.ref, shards.transaction, shards.now
        counted_in = (snapshot.to_dict() or {}).get("campaignShard")
        own_shard = planner.shard_of(ref.path)
        released_shard = counted_in if isinstance(counted_in, int) else own_shard
        campaign_states: dict[int, ShardState] = {}
        for index in dict.fromkeys((released_shard, own_shard)):
            campaign_states[index] = _slots(self._campaign_shard(ref, index), transaction, now)
        campaign_states[released_shard] = _released(
            campaign_states[released_shard],
            *counted_under(victim.planned_at, planner.tenant.tenant_zone),
        )
        try:
            later = planner.plan(
                victim.planned_at + timedelta(microseconds=1),
                own_shard,
                campaign_states[own_shard],
                shards,
                before=victim.send_by,
            )
        except SendByMissed:
            self._write_campaign_shards(transaction, ref, campaign_states, now)
            return displaced.write(transaction, _expired_yielding(victim, now))
        campaign_states[own_shard] = later.campaign_state
        self._write_campaign_shards(transaction, ref, campaign_states, now)
        for index, slots in later.tenant_states.items():
            shards.keep(index, slots)
        fields = {
            **_stamp(victim, Status.QUEUED, now),
            "plannedAt": later.send_at,
            "shard": later.tenant_shard,
            "campaignShard": own_shard,
            "taskGeneration": victim.task_generation + 1,
        }
        return displaced.write(transaction, fields)

    def _write_campaign_shards(
        self,
        transaction: firestore.Transaction,
        ref: TargetRef,
        states: dict[int, ShardState],
        now: datetime,
    ) -> None:
        for index, slots in states.items():
            transaction.set(self._campaign_shard(ref, index), {"slots": slots, "updatedAt": now})

    def claim(
        self,
        ref: TargetRef,
        generation: int,
        now: datetime,
        lease_until: datetime,
        cap_hours: int,
        bsuid: str = "",
    ) -> ClaimResult:
        def body(transaction: firestore.Transaction, target: _Target) -> ClaimResult:
            record = target.record
            if (
                record is None
                or record.status not in CLAIMABLE
                or record.task_generation != generation
            ):
                return ClaimResult(Claim.NOT_CLAIMABLE, record)
            if self._opted_out(transaction, ref.cnpj, (record.phone, record.bsuid, bsuid)):
                skipped = Change(Status.SKIPPED, error_reason="opted_out")
                written = target.write(transaction, _change_fields(record, skipped, now))
                return ClaimResult(Claim.OPTED_OUT, written)
            recent_doc = self._recent(ref.cnpj, record.phone or record.bsuid or bsuid)
            recent = recent_doc.get(transaction=transaction).to_dict() or {}
            last_at = recent.get("sentAt")
            if (
                cap_hours > 0
                and last_at is not None
                and recent.get("target") != ref.path
                and last_at > now - timedelta(hours=cap_hours)
            ):
                return ClaimResult(Claim.CAPPED, record, last_at + timedelta(hours=cap_hours))
            fields = {
                **_stamp(record, Status.SENDING, now),
                "leaseUntil": lease_until,
                "attempts": record.attempts + 1,
                "sendNo": record.send_no + 1,
                "receipts": {},
            }
            # Read by the frequency cap and by a reply that quotes nothing (which message it
            # answers); kept for the longest cap a tenant may set, so raising the cap later
            # still sees it. Production's TTL deletes it after that.
            expires = now + MAX_FREQUENCY_CAP
            transaction.set(recent_doc, {"sentAt": now, "target": ref.path, TTL_FIELD: expires})
            return ClaimResult(Claim.CLAIMED, target.write(transaction, fields))

        return self._transact(ref, body)

    def transition(
        self,
        ref: TargetRef,
        expect: frozenset[Status],
        send_no: int | None,
        change: Change,
        now: datetime,
    ) -> TargetRecord | None:
        def body(transaction: firestore.Transaction, target: _Target) -> TargetRecord | None:
            record = target.record
            if record is None or record.status not in expect:
                return None
            if send_no is not None and record.send_no != send_no:
                return None
            return target.write(transaction, _change_fields(record, change, now))

        return self._transact(ref, body)

    def park(
        self, ref: TargetRef, generation: int, until: datetime, now: datetime
    ) -> TargetRecord | None:
        def body(transaction: firestore.Transaction, target: _Target) -> TargetRecord | None:
            record = target.record
            if record is None or record.status is not Status.QUEUED:
                return None
            if record.task_generation != generation:
                return None
            fields = {
                "plannedAt": until,
                "parked": True,
                "shard": None,  # holds no slot: never handed over to a more urgent target
                "taskGeneration": record.task_generation + 1,
                "updatedAt": now,
                "version": record.version + 1,
            }
            return target.write(transaction, fields)

        return self._transact(ref, body)

    def apply_receipt(
        self,
        ref: TargetRef,
        send_no: int,
        receipt: str,
        at: str,
        error_code: int | None,
        error_reason: str,
        now: datetime,
        wamid: str = "",
    ) -> TargetRecord | None:
        def body(transaction: firestore.Transaction, target: _Target) -> TargetRecord | None:
            record = target.record
            if record is None or record.send_no != send_no:
                return None
            if receipt in record.receipts:
                return record  # a duplicate webhook: nothing changes
            receipts = {**record.receipts, receipt: at}
            status = status_after_receipts(record.status, receipts)
            fields: dict[str, Any] = {"receipts": receipts, "updatedAt": now}
            if status is record.status:
                fields["version"] = record.version + 1
            else:
                fields |= _stamp(record, status, now)
            if wamid and not record.wamid:
                # A send that got no answer (UNKNOWN) learns its wamid here, so a later button
                # reply quoting it is linked to this target (analytics join clicks on wamid).
                fields["wamid"] = wamid[:256]
            if status in _REACHED:
                fields["error"] = None  # an earlier attempt's or an overtaken receipt's error
            elif receipt == "failed":
                fields["error"] = {"code": error_code, "reason": error_reason[:500]}
            return target.write(transaction, fields)

        return self._transact(ref, body)

    # -- ledgers ---------------------------------------------------------------------------

    def record_opt_out(
        self, cnpj: Cnpj, phone: str, at: datetime, source: str, message_id: str, bsuid: str = ""
    ) -> bool:
        if not phone and not bsuid:
            return False
        event = ConsentEvent(Identity(phone or None, bsuid or None), source, at, message_id)
        return self._consent.record(cnpj, event)

    def record_click(
        self, cnpj: Cnpj, message_id: str, phone: str, payload: str, at: datetime, wamid: str
    ) -> None:
        document = {"phone": phone, "payload": payload[:256], "at": at, "wamid": wamid}
        with translated("Firestore"):
            self._client.document("users", cnpj.value, "clicks", message_id).set(document)

    # -- helpers ---------------------------------------------------------------------------

    def _transact(self, ref: TargetRef, body: Callable[[firestore.Transaction, _Target], _T]) -> _T:
        """Run ``body`` on the target's snapshot inside one transaction (retried on contention)."""
        doc = self._doc(ref)

        def on_snapshot(transaction: firestore.Transaction) -> _T:
            return body(transaction, _Target(ref, doc, doc.get(transaction=transaction)))

        return run_transaction(self._client, on_snapshot, max_attempts=HOT_DOCUMENT_ATTEMPTS)

    def _doc(self, ref: TargetRef) -> firestore.DocumentReference:
        return self._client.document(ref.path)

    def _campaign_shard(self, ref: TargetRef, shard: int) -> firestore.DocumentReference:
        return self._client.document(
            "users", ref.cnpj.value, "campaigns", ref.campaign_id, "pacing", f"shard-{shard}"
        )

    def _opted_out(
        self, transaction: firestore.Transaction, cnpj: Cnpj, keys: tuple[str | None, ...]
    ) -> bool:
        """The consent ledger's state of the target's phone and BSUID, read in the claim's
        transaction: an opt-out committed before the claim is seen, one after it waits."""
        for key in dict.fromkeys(k for k in keys if k):
            snapshot = self._client.document("users", cnpj.value, "optouts", key).get(
                transaction=transaction
            )
            if snapshot.exists and blocks_sending(snapshot.to_dict()):
                return True
        return False

    def last_send(self, cnpj: Cnpj, key: str) -> tuple[TargetRef, datetime] | None:
        with translated("Firestore"):
            snapshot = self._recent(cnpj, key).get()
        fields = snapshot.to_dict() or {}
        sent_at, path = fields.get("sentAt"), fields.get("target")
        if not isinstance(sent_at, datetime) or not isinstance(path, str):
            return None
        try:
            return TargetRef.parse(path), sent_at
        except ValueError:
            return None

    def _recent(self, cnpj: Cnpj, phone: str) -> firestore.DocumentReference:
        return self._client.document("users", cnpj.value, "recentSends", phone)


def _slots(
    doc: firestore.DocumentReference, transaction: firestore.Transaction, now: datetime
) -> ShardState:
    """A pacing document's state as read in the transaction (empty when it does not exist),
    without the counters too old to matter now (:func:`pruned`: relative to the clock, never
    to the instant planned, so planning far ahead keeps today's caps)."""
    slots: ShardState = (doc.get(transaction=transaction).to_dict() or {}).get("slots", {})
    return pruned(slots, now)


class _PacingShards:
    """The tenant's pacing documents in one transaction: each read there at most once, on
    demand (nearly always only the target's own shard), and the changed ones written back
    together at the end."""

    def __init__(
        self,
        client: firestore.Client,
        transaction: firestore.Transaction,
        cnpj: Cnpj,
        now: datetime,
    ) -> None:
        self._client, self.transaction, self._cnpj, self.now = client, transaction, cnpj, now
        self._states: dict[int, ShardState] = {}
        self._changed: set[int] = set()

    def __call__(self, shard: int) -> ShardState:
        if shard not in self._states:
            self._states[shard] = _slots(self._doc(shard), self.transaction, self.now)
        return self._states[shard]

    def outside_transaction(self, shards: Sequence[int]) -> dict[int, ShardState]:
        """Their states as read now, without the transaction (for a choice only; see
        :meth:`FirestoreDeliveryStore._spilled`), or as this transaction left them."""
        unread = [shard for shard in shards if shard not in self._states]
        read: dict[int, ShardState] = {}
        if unread:
            with translated("Firestore"):
                snapshots = self._client.get_all([self._doc(shard) for shard in unread])
                for snapshot in snapshots:
                    slots = (snapshot.to_dict() or {}).get("slots", {})
                    read[int(snapshot.id.removeprefix("shard-"))] = pruned(slots, self.now)
        return {shard: self._states.get(shard, read.get(shard, {})) for shard in shards}

    def keep(self, shard: int, state: ShardState) -> None:
        """Planning changed the shard's state: written by :meth:`write`."""
        self._states[shard] = state
        self._changed.add(shard)

    def write(self) -> None:
        for shard in sorted(self._changed):
            fields = {"slots": self._states[shard], "updatedAt": self.now}
            self.transaction.set(self._doc(shard), fields)

    def _doc(self, shard: int) -> firestore.DocumentReference:
        return self._client.document("users", self._cnpj.value, "pacing", f"shard-{shard}")


def _released(state: ShardState, *keys: str) -> ShardState:
    """``state`` with one send fewer counted under each of ``keys``."""
    released = dict(state)
    for key in keys:
        count = released.get(key, 0)
        if isinstance(count, int) and count > 0:
            released[key] = count - 1
    return released


def _expired_yielding(victim: TargetRecord, now: datetime) -> dict[str, Any]:
    change = Change(Status.EXPIRED, error_reason="yielded its slot; none left before its send-by")
    return _change_fields(victim, change, now)


def _record(ref: TargetRef, snapshot: Any) -> TargetRecord | None:
    if not snapshot.exists:
        return None
    return TargetRecord.from_document(ref, snapshot.to_dict() or {})


class _Target:
    """A target document as read inside a transaction, and how to write it there."""

    def __init__(self, ref: TargetRef, doc: firestore.DocumentReference, snapshot: Any) -> None:
        self._ref = ref
        self._doc = doc
        self._fields: dict[str, Any] = (snapshot.to_dict() or {}) if snapshot.exists else {}
        self.record = _record(ref, snapshot)

    def write(self, transaction: firestore.Transaction, fields: dict[str, Any]) -> TargetRecord:
        """Update the document; the record as it is afterwards (dotted keys only touch maps
        the record does not read, such as ``statusTimes``)."""
        transaction.update(self._doc, fields)
        plain = {key: value for key, value in fields.items() if "." not in key}
        return TargetRecord.from_document(self._ref, {**self._fields, **plain})


def _stamp(record: TargetRecord, status: Status, now: datetime) -> dict[str, Any]:
    """The fields every status change writes: the status, when, and the next version."""
    fields: dict[str, Any] = {
        "status": status.value,
        f"statusTimes.{status.value}": now,
        "updatedAt": now,
        "version": record.version + 1,
    }
    if status is not Status.SENDING:
        fields["leaseUntil"] = None
    return fields


def _change_fields(record: TargetRecord, change: Change, now: datetime) -> dict[str, Any]:
    status = status_after_receipts(change.status, record.receipts)  # a webhook may be ahead
    fields = _stamp(record, status, now)
    if change.wamid is not None:
        fields["wamid"] = change.wamid
    if status in _REACHED:
        fields["error"] = None  # a webhook ahead of our own result: the message got there
    elif change.error_code is not None or change.error_reason is not None:
        fields["error"] = {"code": change.error_code, "reason": (change.error_reason or "")[:500]}
    if change.settled is not None:
        fields["settled"] = change.settled
    elif status is Status.UNKNOWN:
        fields["settled"] = False  # the sweeper's query needs the field present
    return fields


def _in_yield_order(yielding: Yielding) -> Iterator[str]:
    """The (possibly minute-old) ranking, then any campaign a fresh one adds: read only when
    the first found no slot to hand over."""
    yield from yielding.campaign_ids()
    yield from yielding.refreshed()
