"""Following a tracked link: verify its token, record the person's first click, redirect.

The redirect target is read from our data — the value the target's message was filled with
for that parameter (the target's own data, else the campaign's ``variable_values``, as at send
time) — and must still be an ``https://`` URL; the request supplies none of it, so nobody can
turn our domain into an open redirect. A token that does not verify, a campaign that does not
exist, a value that is no longer a link (and, for a link from the target's own data, a target
that does not exist) are all the same 404, and record nothing. Only we sign tokens, so a valid
one names a target we sent; a click on one whose target is gone is redirected and not recorded.

The answer needs no store round trip in the common case, a link whose value is the campaign's
(its ``variable_values``): each process keeps every campaign's link values for a minute
(:mod:`shared.services.link_cache`), so a tap is verified (HMAC) and redirected from memory. A
link whose value is the target's own (a parameter the campaign does not hold) still reads the
target, its campaign and the click record in one round trip. Where both hold the parameter
the message was sent with the target's value; the fast path answers with the campaign's: no
target field our processors write is an ``https://`` link, so today they never differ.

A click is recorded once per (target, link), for people only (:func:`is_bot`), after the
person has their answer:

1. the redirect is answered; a process that has seen the link's click recorded does nothing more;
2. after the answer, the target and the click record are read (one round trip); unless the
   click is already recorded, it is created (create-only: two taps at once are one click),
   carrying the wamid of the target's message, the tap's instant and ``appended: false``;
3. the ``CLICKED`` history row is appended (the same shape as a button reply's, so
   ``sql/analytics/`` counts both kinds alike: clicks, click-through, the console's funnel)
   under the event id ``link#<target path>#<link>``, and the record marked appended.

The window: an instance stopped between the answer and step 2 (a few milliseconds: one read
and one create) loses that tap, and the person's next tap of the link counts instead, since no
record exists. A stop between steps 2 and 3 (or BigQuery failing) leaves a record not
appended: the sweeper appends the row of every such record after :data:`APPEND_GRACE`. A crash
between the row and the mark appends the same event id again, which every reader deduplicates:
a recorded click is never lost and never counted twice. A tap on the link of a target with no
wamid yet (its send still unsettled: no analytics could attribute the click) is redirected and
recorded by none; the person's next tap, once the send settles, counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import logs
from shared.clock import Clock
from shared.domain.tracked_links import LinkRef, LinkSigner, is_bot, is_trackable
from shared.ports import HistoryLog, HistoryRow, LinkClick, LinkClickLedger, LinkLookup
from shared.services.link_cache import LinkCache

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkPorts:
    signer: LinkSigner | None
    clicks: LinkClickLedger
    history: HistoryLog
    clock: Clock
    cache: LinkCache


APPEND_GRACE = timedelta(minutes=2)
"""How long a click's own request has to append its history row before the sweeper does."""


@dataclass(frozen=True, slots=True)
class Followed:
    url: str
    tap: LinkRef | None
    """A person's tap not known to be recorded: :func:`record_tap` after the answer."""
    at: datetime
    found: LinkLookup | None = None
    """What answering already read (a link from the target's own data), so step 2 reads none."""


def follow_link(
    cnpj_value: str, token: str, method: str, user_agent: str, ports: LinkPorts
) -> Followed | None:
    """Where to redirect, or None for a 404 (a bad token reads nothing at all)."""
    if ports.signer is None:
        return None
    link = ports.signer.verify(cnpj_value, token)
    if link is None:
        return None
    at = ports.clock()
    counted = not is_bot(method, user_agent) and not ports.cache.clicked(link)
    target = link.target
    values = ports.cache.campaign_values(
        target.cnpj.value,
        target.campaign_id,
        lambda: ports.clicks.campaign_values(target.cnpj, target.campaign_id),
    )
    if values is None:
        return None
    value = values.get(link.parameter, "").strip()
    if is_trackable(value):
        return Followed(value, link if counted else None, at)
    found = ports.clicks.lookup(link)  # the target's own link: its data must be read
    url = _destination(link, found)
    if url is None:
        return None
    return Followed(url, link if counted else None, at, found)


def record_tap(followed: Followed, ports: LinkPorts) -> LinkClick | None:
    """Steps 2 and 3 for a person's tap, after the answer: the click, if it is the link's first."""
    link = followed.tap
    if link is None:
        return None
    found = followed.found or ports.clicks.lookup(link, with_campaign=False)
    if found.record is None:
        return None
    if found.clicked:
        ports.cache.remember_clicked(link)
        return None
    if not found.record.wamid:
        # No analytics could attribute it yet; a later tap (once the send settles) counts.
        logs.log(_log, logging.WARNING, "click before a settled send", target=link.target.path)
        return None
    click = LinkClick(link, followed.at, found.record.phone, found.record.wamid)
    recorded = ports.clicks.record(click)
    ports.cache.remember_clicked(link)
    if not recorded:
        return None
    append_click(click, ports)
    return click


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
