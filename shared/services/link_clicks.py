"""Following a tracked link: verify its token, record the person's first click, redirect.

The redirect target is read from our data — the value the target's message was filled with
for that parameter (the target's own data, else the campaign's ``variable_values``, as at send
time) — and must still be an ``https://`` URL; the request supplies none of it, so nobody can
turn our domain into an open redirect. A token that does not verify, a target or campaign that
does not exist and a value that is no longer a link are all the same 404, and record nothing.

A click is recorded once per (target, link), for people only (:func:`is_bot`):

1. the lookup reads the target, its campaign and the click record in one round trip; a click
   already recorded answers the redirect at once;
2. else the ``CLICKED`` history row is appended — the same shape as a button reply's, carrying
   the wamid of the target's message, so ``sql/analytics/`` counts both kinds alike (clicks,
   click-through, the console's funnel) — under the event id ``link#<target path>#<link>``;
3. then the click record is created (create-only).

A crash or a concurrent click between 2 and 3 appends the same event id again, which every
reader deduplicates: a click is never lost and never counted twice. A tap on the link of a
target with no wamid yet (its send still unsettled: no analytics could attribute the click) is
redirected and recorded by none; the person's next tap, once the send settles, counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared import logs
from shared.clock import Clock
from shared.domain.tracked_links import LinkRef, LinkSigner, is_bot, is_trackable
from shared.ports import HistoryLog, HistoryRow, LinkClickLedger, LinkLookup

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkPorts:
    signer: LinkSigner | None
    clicks: LinkClickLedger
    history: HistoryLog
    clock: Clock


@dataclass(frozen=True, slots=True)
class Followed:
    url: str
    recorded: bool
    """Whether this request recorded the link's first click."""


def follow_link(
    cnpj_value: str, token: str, method: str, user_agent: str, ports: LinkPorts
) -> Followed | None:
    """Where to redirect, or None for a 404 (a bad token reads nothing at all)."""
    if ports.signer is None:
        return None
    link = ports.signer.verify(cnpj_value, token)
    if link is None:
        return None
    found = ports.clicks.lookup(link)
    url = _destination(link, found)
    if url is None:
        return None
    if found.clicked or is_bot(method, user_agent) or found.record is None:
        return Followed(url, recorded=False)
    if not found.record.wamid:
        # No analytics could attribute it yet; a later tap (once the send settles) counts.
        logs.log(_log, logging.WARNING, "click before a settled send", target=link.target.path)
        return Followed(url, recorded=False)
    now = ports.clock()
    ports.history.append(link.target.cnpj, [_history_row(link, found, now)])
    ports.clicks.record(link, now)
    return Followed(url, recorded=True)


def _destination(link: LinkRef, found: LinkLookup) -> str | None:
    if found.record is None or found.settings is None:
        return None
    data = {**found.settings.template_values, **found.record.data}
    value = str(data.get(link.parameter, "")).strip()
    return value if is_trackable(value) else None


def _history_row(link: LinkRef, found: LinkLookup, now: datetime) -> HistoryRow:
    assert found.record is not None
    return HistoryRow(
        event_id=link.event_id,
        # As a button reply's row: the click belongs to the target through its wamid, and a
        # row with the target's id would read as one of its state changes.
        user_id="",
        campaign_kind="",
        campaign_id="",
        target_id="",
        sent_at=now,
        status="CLICKED",
        phone=found.record.phone,
        wamid=found.record.wamid,
        message_content=f"link:{link.parameter}",
    )
