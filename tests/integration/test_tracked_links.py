"""Tracked links through the real functions host: a click per (target, link), people only.

Each tenant sends from a number of its own and gets targets written as delivery leaves them
(DELIVERED, with their wamid and history rows), so the clicks followed over HTTP here are the
only ones its analytics see.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from shared.bootstrap import Container
from shared.clock import Clock, SettableClock
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.tracked_links import LinkRef, LinkSigner
from shared.ports import HistoryRow, LinkClick, LinkClickLedger, LinkLookup
from shared.services.analytics import AnalyticsRequest, campaign_analytics
from shared.services.link_cache import CAMPAIGN_TTL, LinkCache
from shared.services.link_clicks import (
    APPEND_GRACE,
    Followed,
    LinkPorts,
    append_unappended,
    follow_link,
    record_tap,
)
from shared.services.tenants import register_tenant
from tests.campaign_records import edit_built_in
from tests.conftest import new_tenant_id
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import DONE, SandboxClient, TenantFactory

delivery_tenant = delivery_fixtures.delivery_tenant
sandbox = delivery_fixtures.sandbox

_random = random.SystemRandom()
PROMO = "https://lavo.example/promo?c=black-friday"
KIND = "LOYALTY"
PERSON = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
SENT_AT = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
TEMPLATE = {
    "name": "promo",
    "content": "Oi {{first_name}}, a promoção: {{promo_link}}",
    "variable_values": {"promo_link": PROMO},
    "whatsapp_template": {"name": "promo_link"},
}


def _tenant(deps: Container) -> Cnpj:
    cnpj = new_tenant_id()
    register_tenant(
        cnpj,
        name="links",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
    )
    edit_built_in(deps.campaigns, cnpj, KIND, templates=[TEMPLATE])
    return cnpj


def _delivered_target(deps: Container, cnpj: Cnpj, customer: str) -> TargetRef:
    """A target as delivery leaves it: DELIVERED with its wamid, and its history rows."""
    ref = TargetRef(cnpj, KIND, f"{customer}_2026-11")
    wamid = f"wamid.L{_random.randrange(10**12)}"
    phone = f"+55119{_random.randrange(10**8):08d}"
    deps.firestore_client.document(ref.path).set(
        {"status": "DELIVERED", "customerId": customer, "phone": phone, "wamid": wamid}
    )
    rows = [
        HistoryRow(
            event_id=f"{ref.path}#{version}",
            user_id=customer,
            campaign_kind=KIND,
            campaign_id=KIND,
            target_id=ref.target_id,
            sent_at=SENT_AT,
            status=status,
            phone=phone,
            wamid=wamid,
            period="2026-11",
        )
        for version, status in enumerate(("SENT", "DELIVERED"), start=1)
    ]
    deps.history.append(cnpj, rows)
    return ref


def _signer(deps: Container) -> LinkSigner:
    signer = deps.link_signer
    assert signer is not None, "the local stack sets LINK_SECRET"
    return signer


def _follow(url: str, method: str = "GET", agent: str = PERSON) -> requests.Response:
    return requests.request(
        method, url, headers={"User-Agent": agent}, allow_redirects=False, timeout=30
    )


def _clicked_rows(deps: Container, cnpj: Cnpj) -> list[dict[str, Any]]:
    table = f"`{cnpj.campaign_dataset}.message_history`"  # a validated CNPJ
    rows = deps.warehouse.query(f"SELECT * FROM {table} WHERE status = 'CLICKED'", {})  # noqa: S608
    return [dict(row) for row in rows]


def _appended_rows(deps: Container, cnpj: Cnpj, count: int) -> list[dict[str, Any]]:
    """The CLICKED rows once ``count`` clicks' rows are in: each is appended after its
    redirect was answered, so it may land a moment after the person got there."""
    return delivery_fixtures.wait_until(
        lambda: rows if len(rows := _clicked_rows(deps, cnpj)) >= count else None,
        f"{count} click rows",
    )


def _click_records(deps: Container, cnpj: Cnpj) -> list[str]:
    collection = deps.firestore_client.collection("users", cnpj.value, "linkClicks")
    return sorted(snapshot.id for snapshot in collection.stream())


def test_three_clicks_and_one_are_two_distinct_clicks_in_the_analytics(deps: Container) -> None:
    cnpj = _tenant(deps)
    first, second, idle = (_delivered_target(deps, cnpj, c) for c in ("c1", "c2", "c3"))
    signer = _signer(deps)

    answers = [_follow(signer.url(LinkRef(first, "promo_link"))) for _ in range(3)]
    answers.append(_follow(signer.url(LinkRef(second, "promo_link"))))

    assert [(a.status_code, a.headers["Location"]) for a in answers] == [(302, PROMO)] * 4
    assert answers[0].headers["Cache-Control"] == "no-store"
    assert len(_appended_rows(deps, cnpj, 2)) == 2
    assert len(_click_records(deps, cnpj)) == 2
    result = campaign_analytics(
        deps.warehouse, cnpj, AnalyticsRequest(campaign_id=KIND, cost_per_message=0)
    )
    m = result.metrics
    assert (m.messages_delivered, m.clicks) == (3, 2)
    assert round(m.click_through_rate, 2) == 66.67
    assert result.conversion_funnel.clicked == 2
    assert idle.target_id not in str(_click_records(deps, cnpj))


def test_forged_and_foreign_tokens_are_404_and_record_nothing(deps: Container) -> None:
    ours, theirs = _tenant(deps), _tenant(deps)
    target = _delivered_target(deps, ours, "c1")
    their_target = _delivered_target(deps, theirs, "c1")
    signer = _signer(deps)
    good = signer.url(LinkRef(target, "promo_link"))
    base = good.rsplit("/", 2)[0]
    their_token = signer.token(LinkRef(their_target, "promo_link"))
    names, _, signature = signer.token(LinkRef(target, "promo_link")).partition(".")
    tampered = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    other_secret = LinkSigner(b"someone-else's-secret", signer.base_url)

    refused = [
        f"{base}/{ours.value}/{their_token}",  # another tenant's valid token under our path
        f"{base}/{ours.value}/{names}.{tampered}",  # one signature byte changed
        other_secret.url(LinkRef(target, "promo_link")),  # signed with another key
        signer.url(LinkRef(target, "voucherCode")),  # a signed name that is no link of ours
        f"{base}/{ours.value}/not-a-token",
        f"{base}/{ours.value}/",
    ]

    assert [_follow(url).status_code for url in refused] == [404] * len(refused)
    assert _clicked_rows(deps, ours) == [] and _click_records(deps, ours) == []
    assert _click_records(deps, theirs) == []


def test_a_bot_is_redirected_and_records_nothing(deps: Container) -> None:
    cnpj = _tenant(deps)
    url = _signer(deps).url(LinkRef(_delivered_target(deps, cnpj, "c1"), "promo_link"))

    previews = [
        _follow(url, agent="WhatsApp/2.24.1.6 A"),
        _follow(
            url, agent="facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
        ),
        _follow(url, agent=""),
        _follow(url, method="HEAD"),
    ]

    assert [(a.status_code, a.headers["Location"]) for a in previews] == [(302, PROMO)] * 4
    assert _clicked_rows(deps, cnpj) == [] and _click_records(deps, cnpj) == []
    assert _follow(url).status_code == 302  # then the person taps it
    assert len(_appended_rows(deps, cnpj, 1)) == 1
    assert len(_click_records(deps, cnpj)) == 1


def test_a_sent_message_carries_the_tracked_link_and_its_click_counts(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    sandbox.approve_template("promo_link", "Oi {{1}}, a promoção: {{2}}")  # Meta checks sends
    edit_built_in(tenant.deps.campaigns, tenant.cnpj, "BIRTHDAY", templates=[TEMPLATE])
    target = tenant.target()
    (ref,) = tenant.create(target)
    record = tenant.wait_status(ref, DONE)

    (message,) = sandbox.messages([target.phone])
    name, link = message["parameters"]
    signer = _signer(tenant.deps)
    assert name == "Maria" and link == signer.url(LinkRef(ref, "promo_link"))
    assert PROMO not in link  # the destination is ours to look up, never in the URL

    assert _follow(link).headers["Location"] == PROMO
    (row,) = _appended_rows(tenant.deps, tenant.cnpj, 1)
    assert (row["wamid"], row["event_id"]) == (record.wamid, f"link#{ref.path}#promo_link")


def test_a_tap_before_the_send_settles_is_counted_by_the_next_one(deps: Container) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    wamid = deps.firestore_client.document(ref.path).get().get("wamid")
    deps.firestore_client.document(ref.path).update({"wamid": "", "status": "UNKNOWN"})
    ports, token = _ports(deps), _signer(deps).token(LinkRef(ref, "promo_link"))

    early = follow_link(cnpj.value, token, "GET", PERSON, ports)
    assert early is not None and early.url == PROMO
    assert record_tap(early, ports) is None  # no wamid: nothing could attribute the click
    assert _click_records(deps, cnpj) == [] and _clicked_rows(deps, cnpj) == []
    deps.firestore_client.document(ref.path).update({"wamid": wamid, "status": "DELIVERED"})
    later = follow_link(cnpj.value, token, "GET", PERSON, ports)
    assert later is not None and record_tap(later, ports) is not None
    assert [row["wamid"] for row in _clicked_rows(deps, cnpj)] == [wamid]


def test_simultaneous_first_taps_are_one_click(deps: Container) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    url = _signer(deps).url(LinkRef(ref, "promo_link"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _follow(url), range(4)))

    assert {answer.status_code for answer in answers} == {302}
    rows = _appended_rows(deps, cnpj, 1)
    assert len(_click_records(deps, cnpj)) == 1
    assert {row["event_id"] for row in rows} == {f"link#{ref.path}#promo_link"}
    result = campaign_analytics(
        deps.warehouse, cnpj, AnalyticsRequest(campaign_id=KIND, cost_per_message=0)
    )
    assert result.metrics.clicks == 1


def test_a_click_whose_row_was_not_appended_is_appended_by_the_sweeper(deps: Container) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    snapshot = deps.firestore_client.document(ref.path).get()
    # A click recorded by a request that stopped before its row (the instance went away):
    long_ago = deps.clock() - APPEND_GRACE - timedelta(seconds=1)
    click = LinkClick(
        LinkRef(ref, "promo_link"), long_ago, snapshot.get("phone"), snapshot.get("wamid")
    )
    assert deps.link_clicks.record(click)
    assert not deps.link_clicks.record(click)  # create-only
    fresh = LinkClick(LinkRef(ref, "other_link"), deps.clock(), click.phone, click.wamid)
    assert deps.link_clicks.record(fresh)  # within the grace: its own request may still append

    # The sweeper's step (the rest of a sweep repairs every tenant's targets: not here).
    assert append_unappended(deps.link_ports()) >= 1
    (row,) = _clicked_rows(deps, cnpj)
    assert (row["event_id"], row["wamid"]) == (f"link#{ref.path}#promo_link", click.wamid)
    stored = deps.firestore_client.collection("users", cnpj.value, "linkClicks")
    assert {s.id: s.get("appended") for s in stored.stream()} == {
        LinkRef(ref, "promo_link").click_id: True,
        LinkRef(ref, "other_link").click_id: False,
    }


class CountingLedger:
    """The real Firestore ledger, counting the round trips the redirect's answer makes."""

    def __init__(self, ledger: LinkClickLedger) -> None:
        self.ledger = ledger
        self.reads: list[str] = []

    def lookup(self, link: LinkRef, with_campaign: bool = True) -> LinkLookup:
        self.reads.append("lookup" if with_campaign else "lookup without campaign")
        return self.ledger.lookup(link, with_campaign)

    def campaign_values(self, cnpj: Cnpj, campaign_id: str) -> dict[str, str] | None:
        self.reads.append("campaign")
        return self.ledger.campaign_values(cnpj, campaign_id)

    def record(self, click: LinkClick) -> bool:
        self.reads.append("record")
        return self.ledger.record(click)

    def mark_appended(self, link: LinkRef) -> None:
        self.ledger.mark_appended(link)

    def unappended(self, before: datetime, limit: int) -> list[LinkClick]:
        return self.ledger.unappended(before, limit)


def _ports(
    deps: Container, ledger: LinkClickLedger | None = None, clock: Clock | None = None
) -> LinkPorts:
    """This test's own process memory (a fresh cache), on the real Firestore and BigQuery."""
    clock = clock or deps.clock
    return LinkPorts(
        _signer(deps), ledger or deps.link_clicks, deps.history, clock, LinkCache(clock)
    )


def test_a_campaign_link_is_answered_from_memory_and_recorded_after(deps: Container) -> None:
    cnpj = _tenant(deps)
    first, second = (_delivered_target(deps, cnpj, c) for c in ("c1", "c2"))
    ledger = CountingLedger(deps.link_clicks)
    ports, signer = _ports(deps, ledger), _signer(deps)

    taps = [
        follow_link(cnpj.value, signer.token(LinkRef(ref, "promo_link")), "GET", PERSON, ports)
        for ref in (first, second)
    ]

    assert [tap.url if tap else None for tap in taps] == [PROMO, PROMO]
    assert ledger.reads == ["campaign"]  # one read per campaign per minute; none per tap
    assert _click_records(deps, cnpj) == []  # nothing written before the answers
    for tap in taps:
        assert tap is not None and record_tap(tap, ports) is not None
    recording = ["lookup without campaign", "record"]
    assert ledger.reads == ["campaign", *recording, *recording]
    again = follow_link(
        cnpj.value, signer.token(LinkRef(first, "promo_link")), "GET", PERSON, ports
    )
    assert again is not None and again.tap is None  # this process saw it recorded: no more work
    assert len(_click_records(deps, cnpj)) == 2 and len(_clicked_rows(deps, cnpj)) == 2


def test_a_crash_between_the_answer_and_the_record_leaves_the_tap_to_the_next_one(
    deps: Container,
) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    token = _signer(deps).token(LinkRef(ref, "promo_link"))

    answered = follow_link(cnpj.value, token, "GET", PERSON, _ports(deps))
    assert answered is not None and answered.tap is not None
    # The instance stops here, after the answer and before recording: nothing is recorded.
    assert _click_records(deps, cnpj) == [] and _clicked_rows(deps, cnpj) == []

    restarted = _ports(deps)  # another instance, its memory empty
    next_tap = follow_link(cnpj.value, token, "GET", PERSON, restarted)
    assert next_tap is not None and record_tap(next_tap, restarted) is not None
    assert record_tap(answered, restarted) is None  # a late retry of the first: still one click
    assert len(_click_records(deps, cnpj)) == 1
    assert [row["event_id"] for row in _clicked_rows(deps, cnpj)] == [f"link#{ref.path}#promo_link"]


def test_an_edited_campaign_link_is_followed_within_the_cache_ttl(deps: Container) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    clock = SettableClock(deps.clock())
    ports, token = _ports(deps, clock=clock), _signer(deps).token(LinkRef(ref, "promo_link"))
    assert _url(follow_link(cnpj.value, token, "HEAD", "", ports)) == PROMO

    moved = "https://lavo.example/natal"
    edit_built_in(
        deps.campaigns,
        cnpj,
        KIND,
        templates=[{**TEMPLATE, "variable_values": {"promo_link": moved}}],
    )
    clock.now += CAMPAIGN_TTL - timedelta(seconds=1)
    assert _url(follow_link(cnpj.value, token, "HEAD", "", ports)) == PROMO
    clock.now += timedelta(seconds=1)
    assert _url(follow_link(cnpj.value, token, "HEAD", "", ports)) == moved


def test_a_link_from_the_target_s_own_data_is_read_with_the_target(deps: Container) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    own = "https://lavo.example/c1-receipt"
    deps.firestore_client.document(ref.path).update({"data": {"receipt_link": own}})
    ledger = CountingLedger(deps.link_clicks)
    ports = _ports(deps, ledger)
    token = _signer(deps).token(LinkRef(ref, "receipt_link"))

    tap = follow_link(cnpj.value, token, "GET", PERSON, ports)

    assert tap is not None and tap.url == own and ledger.reads == ["campaign", "lookup"]
    assert record_tap(tap, ports) is not None
    assert ledger.reads == ["campaign", "lookup", "record"]  # what answering read is reused


def _url(followed: Followed | None) -> str | None:
    return followed.url if followed else None
