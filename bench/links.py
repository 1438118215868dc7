"""Tracked-link benchmark: the redirect's latency against a trivial endpoint of the same server.

The redirect is on the customer's path (goal: p99 at most 2x the trivial endpoint's). On a
private local stack (the ``api`` function behind the real functions host, the Firestore and
BigQuery emulators), for one tenant with a campaign whose template carries a link and
``--rounds`` DELIVERED targets (each with its wamid), it times ``GET /l/<cnpj>/<token>`` as:

* **first click**: a person's first tap of a target's link (answered from the process's
  memory of the campaign's link values; the click record and the CLICKED history row are
  written after the answer, on the connection's thread);
* **repeat click**: the same person taps it again (memory only: the click is known recorded);
* **bot**: a link-preview fetcher (``facebookexternalhit``; memory only);
* **forged**: a token with a changed signature (404, nothing read);

each as a ratio to the **trivial** endpoint ``GET /webhooks/whatsapp`` with no verify token
(the same function and host, answered 403 with no store access), and, for reference, to
``GET /api/v1/whoami`` (the REST API's cheapest route: token check, rate limit, FastAPI).
Every timed redirect is preceded by a timed trivial call and a timed whoami call, so all
see the same machine load; ratios compare p50 with p50 and p99 with p99.

How it is measured: two ``requests.Session`` (keep-alive), one for the redirects and one for
the reference calls (a first click's after-answer work would otherwise delay the next call on
its connection and be charged to the reference), redirects not followed, wall time
from sending to the last body byte, after ``--warm-up`` untimed calls of each.

Run: ``PYTHONPATH=. .venv/bin/python bench/links.py`` (about a minute) or ``--rounds 50``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests
from reporting import machine, percentile, private_stack, table

from shared.api.auth import Role, mint
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.tracked_links import LinkRef, LinkSigner
from shared.localstack.stack import Stack
from shared.services.tenants import register_tenant
from tests.campaign_records import edit_built_in

KIND = "LOYALTY"
PROMO = "https://lavo.example/promo"
PERSON = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
PREVIEW = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
TRIVIAL = "GET /webhooks/whatsapp (trivial)"
WHOAMI = "GET /api/v1/whoami"


@dataclass
class Series:
    label: str
    samples: list[float] = field(default_factory=list)
    trivial: list[float] = field(default_factory=list)
    whoami: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)


@dataclass
class Client:
    base: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def timed(self, url: str, agent: str = PERSON, auth: bool = False) -> tuple[float, int]:
        headers = {"User-Agent": agent}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        answer = self.session.get(url, headers=headers, allow_redirects=False, timeout=60)
        _ = answer.content
        return time.perf_counter() - started, answer.status_code


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=200, help="timed calls per kind")
    parser.add_argument("--warm-up", type=int, default=20, help="untimed calls per kind")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    with private_stack("links-bench-", API_REQUESTS_PER_MINUTE="1000000") as (stack, _):
        return _bench(args, stack, command)


def _targets(deps: Container, cnpj: Cnpj, count: int) -> list[TargetRef]:
    """``count`` DELIVERED targets with a wamid, as delivery leaves them."""
    refs = [TargetRef(cnpj, KIND, f"c{index:06d}_2026-11") for index in range(count)]
    for start in range(0, count, 400):
        batch = deps.firestore_client.batch()
        for index, ref in enumerate(refs[start : start + 400], start=start):
            document = {
                "status": "DELIVERED",
                "customerId": ref.target_id,
                "phone": f"+55119{index:08d}",
                "wamid": f"wamid.BENCH{index:06d}",
            }
            batch.set(deps.firestore_client.document(ref.path), document)
        batch.commit()
    return refs


def _bench(args: argparse.Namespace, stack: Stack, command: str) -> int:
    environment = stack.environment()
    deps = Container(Settings())
    cnpj = Cnpj.from_base("112223330001")
    register_tenant(
        cnpj,
        name="Links bench",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
    )
    template = {
        "name": "promo",
        "content": "Oi {{first_name}}, a promoção: {{promo_link}}",
        "variable_values": {"promo_link": PROMO},
        "whatsapp_template": {"name": "promo_link"},
    }
    edit_built_in(deps.campaigns, cnpj, KIND, templates=[template])
    signer = deps.link_signer
    assert signer is not None, "the local stack sets LINK_SECRET"
    warm, rounds = args.warm_up, args.rounds
    refs = _targets(deps, cnpj, warm + rounds + 1)

    base = f"{environment['CAMPAIGNS_FUNCTIONS_URL']}/api"
    token = mint(environment["API_JWT_SECRET"], cnpj, Role.ADMIN, "links-bench", ttl_seconds=3600)
    # The redirects have connections of their own: a first click's record is written after its
    # answer on its connection's thread, which must not delay the next trivial call measured.
    client, redirects = Client(base, token), Client(base, token)
    repeat_url = signer.url(LinkRef(refs[-1], "promo_link"))
    redirects.timed(repeat_url)  # its first click, so every later one is a repeat
    forged = _forged(signer, LinkRef(refs[-1], "promo_link"))
    first_urls = iter(signer.url(LinkRef(ref, "promo_link")) for ref in refs[:-1])

    kinds: list[tuple[Series, Callable[[], tuple[float, int]]]] = [
        (Series("redirect, first click"), lambda: redirects.timed(next(first_urls))),
        (Series("redirect, repeat click"), lambda: redirects.timed(repeat_url)),
        (Series("redirect, bot (preview)"), lambda: redirects.timed(repeat_url, PREVIEW)),
        (Series("forged token (404)"), lambda: redirects.timed(forged)),
    ]
    trivial_url, whoami_url = f"{base}/webhooks/whatsapp", f"{base}/api/v1/whoami"
    for index in range(warm + rounds):
        for series, call in kinds:
            trivial_s, trivial_status = client.timed(trivial_url)
            whoami_s, whoami_status = client.timed(whoami_url, auth=True)
            took, status = call()
            assert (trivial_status, whoami_status) == (403, 200), (trivial_status, whoami_status)
            series.statuses.add(status)
            if index >= warm:
                series.samples.append(took)
                series.trivial.append(trivial_s)
                series.whoami.append(whoami_s)

    _report(kinds, rounds, command, _click_records(deps, cnpj, warm + rounds + 1))
    return 0


def _click_records(deps: Container, cnpj: Cnpj, expected: int) -> int:
    """How many click records there are once the last after-answer writes have landed (up to
    10 s: each first click is recorded after its answer)."""
    collection = deps.firestore_client.collection("users", cnpj.value, "linkClicks")
    deadline = time.monotonic() + 10
    while (count := sum(1 for _ in collection.stream())) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


def _forged(signer: LinkSigner, link: LinkRef) -> str:
    url = signer.url(link)
    return url[:-2] + ("AA" if not url.endswith("AA") else "BB")


def _report(
    kinds: list[tuple[Series, Callable[[], tuple[float, int]]]],
    rounds: int,
    command: str,
    click_records: int,
) -> None:
    rows = []
    for series, _ in kinds:
        p50, p99 = percentile(series.samples, 50), percentile(series.samples, 99)
        t50, t99 = percentile(series.trivial, 50), percentile(series.trivial, 99)
        w99 = percentile(series.whoami, 99)
        rows.append(
            [
                series.label,
                ",".join(str(s) for s in sorted(series.statuses)),
                f"{p50 * 1000:.1f}",
                f"{p99 * 1000:.1f}",
                f"{t99 * 1000:.1f}",
                f"{p50 / t50:.2f}",
                f"{p99 / t99:.2f}",
                f"{p99 / w99:.2f}",
            ]
        )
    print()
    print(f"{rounds} timed calls of each; {machine()}")
    print(f"command: {command}")
    print(f"click records created: {click_records} (first clicks, warm-up included, + 1)")
    print(
        table(
            [
                "request",
                "status",
                "p50 ms",
                "p99 ms",
                "trivial p99 ms",
                "p50 / trivial",
                "p99 / trivial",
                "p99 / whoami",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
