"""Following a tracked link: verify its token, record the person's first click, redirect.

The redirect target is read from our data — the value the target's message was filled with
for that parameter (the target's own data, else the campaign's ``variable_values``, as at send
time) — and must still be an ``https://`` URL; the request supplies none of it, so nobody can
turn our domain into an open redirect. A token that does not verify, a target or campaign that
does not exist and a value that is no longer a link are all the same 404, and record nothing.

A click is recorded once per (target, link), for people only (:func:`is_bot`), off the person's
path as far as it can be:

1. the lookup reads the target, its campaign and the click record in one round trip; a click
   already recorded answers the redirect at once;
2. else the click record is created (create-only), carrying the wamid of the target's message
   and ``appended: false``, and the person is redirected;
3. after the answer is sent, the ``CLICKED`` history row is appended (the same shape as a button
   reply's, so ``sql/analytics/`` counts both kinds alike: clicks, click-through, the console's
   funnel) under the event id ``link#<target path>#<link>``, and the record marked appended.

Step 3 may never run (the instance is stopped, BigQuery fails): the sweeper appends the row of
every record still not appended after :data:`APPEND_GRACE`. A crash between the row and the
mark appends the same event id again, which every reader deduplicates: a click is never lost
and never counted twice. A tap on the link of a target with no wamid yet (its send still
unsettled: no analytics could attribute the click) is redirected and recorded by none; the
person's next tap, once the send settles, counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared import logs
from shared.clock import Clock
from shared.domain.tracked_links import LinkRef, LinkSigner, is_bot, is_trackable
from shared.ports import HistoryLog, HistoryRow, LinkClick, LinkClickLedger, LinkLookup

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkPorts:
    signer: LinkSigner | None
    clicks: LinkClickLedger
    history: HistoryLog
    clock: Clock


APPEND_GRACE = timedelta(minutes=2)
"""How long a click's own request has to append its history row before the sweeper does."""


@dataclass(frozen=True, slots=True)
class Followed:
    url: str
    click: LinkClick | None
    """The link's first click, recorded by this request: its history row is to append."""


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
        return Followed(url, None)
    if not found.record.wamid:
        # No analytics could attribute it yet; a later tap (once the send settles) counts.
        logs.log(_log, logging.WARNING, "click before a settled send", target=link.target.path)
        return Followed(url, None)
    click = LinkClick(link, ports.clock(), found.record.phone, found.record.wamid)
    return Followed(url, click if ports.clicks.record(click) else None)


def append_click(click: LinkClick, ports: LinkPorts) -> None:
    """The click's history row, then the mark that it is there (step 3 above)."""
    ports.history.append(click.link.target.cnpj, [_history_row(click)])
    ports.clicks.mark_appended(click.link)


def append_unappended(ports: LinkPorts, limit: int = 500) -> int:
    """The sweeper's part: append the rows a click's own request did not (how many)."""
    clicks = ports.clicks.unappended(ports.clock() - APPEND_GRACE, limit)
    for click in clicks:
        append_click(click, ports)
    return len(clicks)


def _destination(link: LinkRef, found: LinkLookup) -> str | None:
    if found.record is None or found.settings is None:
        return None
    data = {**found.settings.template_values, **found.record.data}
    value = str(data.get(link.parameter, "")).strip()
    return value if is_trackable(value) else None


def _history_row(click: LinkClick) -> HistoryRow:
    link = click.link
    return HistoryRow.engagement(
        link.event_id, click.at, "CLICKED", click.phone, click.wamid, f"link:{link.parameter}"
    )
