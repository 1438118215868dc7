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
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.tracked_links import LinkRef, LinkSigner
from shared.ports import HistoryRow, LinkClick
from shared.services.analytics import AnalyticsRequest, campaign_analytics
from shared.services.link_clicks import APPEND_GRACE, append_unappended
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
    url = _signer(deps).url(LinkRef(ref, "promo_link"))

    assert _follow(url).status_code == 302  # no wamid: nothing could attribute the click
    assert _click_records(deps, cnpj) == [] and _clicked_rows(deps, cnpj) == []
    deps.firestore_client.document(ref.path).update({"wamid": wamid, "status": "DELIVERED"})
    assert _follow(url).status_code == 302
    assert [row["wamid"] for row in _appended_rows(deps, cnpj, 1)] == [wamid]


def test_simultaneous_first_taps_are_one_click(deps: Container) -> None:
    cnpj = _tenant(deps)
    ref = _delivered_target(deps, cnpj, "c1")
    url = _signer(deps).url(LinkRef(ref, "promo_link"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _follow(url), range(4)))

    assert {answer.status_code for answer in answers} == {302}
    assert len(_click_records(deps, cnpj)) == 1
    rows = _appended_rows(deps, cnpj, 1)
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
