"""Which of a tenant's campaigns give up slots to a more urgent target, kept for a minute.

A target with no slot left before its send-by takes one from a lower priority's queued
target (:func:`~shared.services.delivery_common.yielding_to`). Ranking the tenant's campaigns
by priority needs the live campaigns and every campaign's settings: two reads, about half of
what a displaced slot costs. A burst of birthdays behind a backlog would read them once per
birthday, so each process keeps the ranking for a minute, as it keeps a number's split
(:mod:`shared.services.number_shares`).

What the minute can miss, and why it does no harm:

* a campaign created or resumed within it is missing from the ranking. The store asks for a
  fresh ranking before it gives up and expires a target (:attr:`~shared.ports.Yielding.
  refreshed`), so a slot is never lost for that;
* a campaign whose priority changed within it is ranked as before for up to a minute: one of
  its targets may still give way, or not, as it would have a minute earlier;
* the ranking keeps each campaign's delivery settings, by which a target that gives way is
  planned again (its window, its pace): a change within the minute applies from the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.domain.campaign_settings import CampaignSettings
from shared.domain.cnpj import Cnpj

FRESH_FOR = timedelta(minutes=1)

Ranking = tuple[tuple[int, str, CampaignSettings], ...]
"""Every campaign a target may take a slot from: (priority rank, campaign id, its settings)."""


class YieldOrders:
    """One per process (see :class:`~shared.bootstrap.Container`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[datetime, Ranking]] = {}

    def ranking(self, cnpj: Cnpj, now: datetime, read: Callable[[], Ranking]) -> Ranking:
        """The tenant's ranking as read within the last minute of ``now``, else ``read()``."""
        kept = self.kept(cnpj, now)
        return kept if kept is not None else self.refresh(cnpj, now, read)

    def kept(self, cnpj: Cnpj, now: datetime) -> Ranking | None:
        """The tenant's ranking if read within the last minute of ``now``; nothing is read."""
        with self._lock:
            seen = self._seen.get(cnpj.value)
        if seen is not None and abs(now - seen[0]) < FRESH_FOR:
            return seen[1]
        return None

    def refresh(self, cnpj: Cnpj, now: datetime, read: Callable[[], Ranking]) -> Ranking:
        """``read()`` now, and keep it."""
        ranking = read()
        with self._lock:
            self._seen[cnpj.value] = (now, ranking)
        return ranking
