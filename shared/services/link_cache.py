"""What one process remembers about tracked links, so a tap is answered with no store round trip.

The redirect is on the customer's path. Its destination is a campaign's link value (its
``variable_values``), the same for every target of the campaign, so a process keeps each
campaign's values for :data:`CAMPAIGN_TTL` (on the injected clock) and at most
:data:`MAX_CAMPAIGNS` of them (the oldest read is dropped first): a campaign edited or a link
changed is followed by every process within the TTL. It also remembers the clicks it has seen
recorded (at most :data:`MAX_CLICKS`, oldest dropped), so a person's repeated taps on one
instance cause no work at all after the answer. Forgetting is always safe: the click record in
Firestore is create-only and is what deduplicates a click; this memory only saves reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import Clock
from shared.domain.tracked_links import LinkRef

CAMPAIGN_TTL = timedelta(seconds=60)
"""How long a process redirects with a campaign's link values before reading them again."""
MAX_CAMPAIGNS = 1024
MAX_CLICKS = 20_000

LinkValues = Mapping[str, str]
"""A campaign's template values by parameter name; the loader answers None for no campaign."""


@dataclass(frozen=True, slots=True)
class _Entry:
    values: LinkValues | None
    read_at: datetime


class LinkCache:
    """Thread-safe (the functions host serves requests on threads)."""

    def __init__(
        self,
        clock: Clock,
        ttl: timedelta = CAMPAIGN_TTL,
        max_campaigns: int = MAX_CAMPAIGNS,
        max_clicks: int = MAX_CLICKS,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max_campaigns = max_campaigns
        self._max_clicks = max_clicks
        self._campaigns: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._clicks: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def campaign_values(
        self, cnpj: str, campaign_id: str, load: Callable[[], LinkValues | None]
    ) -> LinkValues | None:
        """The campaign's link values, read through ``load`` when not known or older than the TTL.
        Two threads missing at once may both load: harmless, the later one is kept."""
        key, now = (cnpj, campaign_id), self._clock()
        with self._lock:
            entry = self._campaigns.get(key)
        if entry is not None and now - entry.read_at < self._ttl:
            return entry.values
        values = load()
        with self._lock:
            self._campaigns[key] = _Entry(values, now)
            self._campaigns.move_to_end(key)
            while len(self._campaigns) > self._max_campaigns:
                self._campaigns.popitem(last=False)
        return values

    def clicked(self, link: LinkRef) -> bool:
        """This process has seen the link's click recorded."""
        with self._lock:
            return _key(link) in self._clicks

    def remember_clicked(self, link: LinkRef) -> None:
        with self._lock:
            self._clicks[_key(link)] = None
            self._clicks.move_to_end(_key(link))
            while len(self._clicks) > self._max_clicks:
                self._clicks.popitem(last=False)


def _key(link: LinkRef) -> str:
    return f"{link.target.cnpj.value}/{link.click_id}"
