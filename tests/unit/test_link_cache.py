"""A process's memory of tracked links: bounded, and re-read after its TTL on the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.clock import SettableClock
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.tracked_links import LinkRef
from shared.services.link_cache import LinkCache

CNPJ = Cnpj.from_base("112223330001")


def test_values_are_read_once_per_ttl_and_a_missing_campaign_is_remembered_too() -> None:
    clock = SettableClock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    cache, calls = LinkCache(clock, ttl=timedelta(seconds=60)), []

    def load() -> dict[str, str] | None:
        calls.append("load")
        return {"promo_link": "https://a.example"} if len(calls) == 1 else {"promo_link": "x"}

    assert cache.campaign_values(CNPJ.value, "LOYALTY", load) == {"promo_link": "https://a.example"}
    clock.now += timedelta(seconds=59)
    assert cache.campaign_values(CNPJ.value, "LOYALTY", load) == {"promo_link": "https://a.example"}
    clock.now += timedelta(seconds=1)
    assert cache.campaign_values(CNPJ.value, "LOYALTY", load) == {"promo_link": "x"}
    assert cache.campaign_values(CNPJ.value, "SEG_GONE", lambda: None) is None
    assert cache.campaign_values(CNPJ.value, "SEG_GONE", lambda: {"late": "y"}) is None
    assert calls == ["load", "load"]


def test_the_oldest_campaigns_and_clicks_are_forgotten_beyond_the_bounds() -> None:
    clock = SettableClock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    cache = LinkCache(clock, max_campaigns=2, max_clicks=2)
    cache.campaign_values(CNPJ.value, "A", lambda: {"l": "A"})
    cache.campaign_values(CNPJ.value, "B", lambda: {"l": "B"})
    cache.campaign_values(CNPJ.value, "C", lambda: {"l": "C"})
    assert cache.campaign_values(CNPJ.value, "A", lambda: {"l": "reread"}) == {"l": "reread"}
    assert cache.campaign_values(CNPJ.value, "C", lambda: {"l": "stale?"}) == {"l": "C"}

    links = [LinkRef(TargetRef(CNPJ, "LOYALTY", f"c{i}_2026-11"), "promo_link") for i in range(3)]
    for link in links:
        cache.remember_clicked(link)
    assert [cache.clicked(link) for link in links] == [False, True, True]
    other_tenant = LinkRef(
        TargetRef(Cnpj.from_base("998887770001"), "LOYALTY", "c2_2026-11"), "promo_link"
    )
    assert not cache.clicked(other_tenant)
