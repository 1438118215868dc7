"""Console benchmark: server time of each page against a trivial endpoint, and first-load bytes.

On a private local stack (the ``api`` function behind the real functions host, Firestore and
BigQuery emulators), one tenant with ``--customers`` sample customers, a tick's targets and one
started API campaign, a signed-in session (the one-time link, as a person signs in) fetches
every page of the console. For each page it prints p50 and p99 of the server's answer (wall
time from sending the request to the last body byte, on one keep-alive session) as ratios to
``GET /api/v1/whoami`` on the same server (token check, rate limit, routing: no store access).
Every timed page call is preceded by a timed whoami call, so both see the same machine load.

Parts a page loads after it is shown (``hx-trigger="load"`` fragments: charts and figures that
come from BigQuery) are measured the same way and listed on their own, as is the BigQuery
estimate of an audience, which the issue reports apart.

First-load bytes: the page's HTML, the stylesheets and scripts it links and the fragments it
loads at once, as the server sends them (no images: the console has none).

Run: ``.venv/bin/python bench/console.py`` (about three minutes) or ``--rounds 30``.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import requests
from reporting import machine, percentile, private_stack, sample_tenant, table

from shared.api.auth import Role, mint
from shared.bootstrap import Container
from shared.cli.tick import publish_tick, wait_for_runs
from shared.config import Settings
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import Stack

BASELINE = "GET /api/v1/whoami"
GOAL_RATIO = 5.0
GOAL_BYTES = 300_000
TICK_AT = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
"""08:30 in São Paulo on the sample data's own day (reporting.SAMPLE_AS_OF)."""

_ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"')
_LOAD_FRAGMENT = re.compile(r'<[^>]+hx-get="([^"]+)"[^>]*hx-trigger="load[^"]*"')
_CONTACT_LINK = re.compile(r'href="[^"]*/contatos/(?!importar"|descadastrados")([A-Za-z0-9_.:-]+)"')


@dataclass
class Target:
    label: str
    url: str
    samples: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)


@dataclass
class Client:
    """One browser-like session: the console's cookie, plus a bearer token for whoami."""

    api: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def timed(self, url: str, **kwargs: Any) -> tuple[float, requests.Response]:
        started = time.perf_counter()
        answer = self.session.get(url, timeout=300, **kwargs)
        _ = answer.content
        return time.perf_counter() - started, answer

    def whoami(self) -> float:
        seconds, answer = self.timed(
            f"{self.api}/api/v1/whoami", headers={"Authorization": f"Bearer {self.token}"}
        )
        if answer.status_code != 200:
            raise RuntimeError(f"whoami answered {answer.status_code}")
        return seconds


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=100, help="timed calls per page")
    parser.add_argument("--customers", type=int, default=2_000, help="sample customers")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed calls per page")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    # API_REQUESTS_PER_MINUTE is read by the functions host: the bench measures the path (the
    # limiter still runs on every call), not the throttle.
    with private_stack("console-bench-", API_REQUESTS_PER_MINUTE="1000000") as (stack, temp):
        return _bench(args, stack, temp, command)


def _campaign(base: str, token: str) -> str:
    """A started API campaign, so its page and recipients have something to show."""
    headers = {"Authorization": f"Bearer {token}"}
    body: dict[str, Any] = {
        "name": "Bench promo",
        "objective": "promotional",
        "segmentation": {"include_all": True},
        "templates": [
            {
                "name": "Oferta",
                "content": "Temos uma oferta para você na lavanderia!",  # as approved: no parameter
                "whatsapp_template": {"name": "oferta", "language": "pt_BR"},
            }
        ],
    }
    created = requests.post(f"{base}/api/v1/campaigns", json=body, headers=headers, timeout=300)
    created.raise_for_status()
    campaign_id = str(created.json()["id"])
    started = requests.post(
        f"{base}/api/v1/campaigns/{campaign_id}/start", headers=headers, timeout=300
    )
    started.raise_for_status()
    return campaign_id


def _tick(cnpj: Cnpj) -> None:
    """The tenant's four automatic campaigns run once, so Início has a run to show."""
    deps = Container(Settings())
    tick_id = publish_tick(deps, TICK_AT, cnpj.value, force=True)
    runs = wait_for_runs(deps, tick_id, timeout=300)
    if runs.get(cnpj.value, {}).get("status") != "FINISHED":
        raise RuntimeError(f"the tick did not finish: {runs}")


def _bench(args: argparse.Namespace, stack: Stack, temp: Path, command: str) -> int:
    started = time.perf_counter()
    cnpj = sample_tenant(temp / "data", args.customers, args.seed, with_queue=True)
    env = stack.environment()
    base = f"{env['CAMPAIGNS_FUNCTIONS_URL']}/api"
    secret = env["API_JWT_SECRET"]
    token = mint(secret, cnpj, Role.ADMIN, "console-bench", ttl_seconds=6 * 3600)
    _tick(cnpj)
    campaign_id = _campaign(base, token)
    print(
        f"tenant {cnpj}: {args.customers:,} customers, a tick and a campaign in "
        f"{time.perf_counter() - started:.1f} s"
    )

    client = Client(base, token)
    console = f"{base}/app"
    link = signin_link_token(secret, cnpj, Role.ADMIN, "console-bench")
    if (
        client.session.get(f"{console}/signin", params={"token": link}, timeout=60).status_code
        != 200
    ):
        raise RuntimeError("could not sign in")

    listing = f"{console}/contatos"
    shown = client.session.get(listing, timeout=60).text
    for part in _LOAD_FRAGMENT.findall(shown):  # the list itself loads after the page
        shown += client.session.get(urljoin(listing, unescape(part)), timeout=300).text
    contact = _CONTACT_LINK.search(shown)
    paths = {
        "Início": "/",
        "Campanhas": "/campanhas",
        "Campanha (enviando)": f"/campanhas/{campaign_id}",
        "Nova campanha": "/campanhas/nova",
        "Automáticas": "/automaticas",
        "Contatos": "/contatos",
        "Contato": f"/contatos/{contact.group(1)}" if contact else "",
        "Importar contatos": "/contatos/importar",
        "Descadastrados": "/contatos/descadastrados",
        "Configurações": "/configuracoes",
        "Auditoria": "/auditoria",
    }
    pages = [Target(label, console + path) for label, path in paths.items() if path]
    fragments: list[Target] = []
    first_load: dict[str, int] = {}
    print("probe, first-load bytes and warm-up:")
    for page in pages:
        answer = client.session.get(page.url, timeout=300)
        if answer.status_code != 200:
            raise RuntimeError(f"{page.label} answered {answer.status_code}")
        first_load[page.label] = _first_load_bytes(client, page.url, answer.text, fragments)
        for _ in range(args.warm_up):
            client.timed(page.url)
    estimate = Target(
        "POST /api/v1/segments/estimate (BigQuery)", f"{base}/api/v1/segments/estimate"
    )

    measure_started = time.perf_counter()
    timed = pages + fragments
    for index in range(args.rounds):
        rotation = index % len(timed)
        for target in timed[rotation:] + timed[:rotation]:
            target.baseline.append(client.whoami())
            seconds, answer = client.timed(target.url)
            if answer.status_code != 200:
                raise RuntimeError(f"{target.label} answered {answer.status_code}")
            target.samples.append(seconds)
    for _ in range(max(10, args.rounds // 5)):
        estimate.baseline.append(client.whoami())
        started = time.perf_counter()
        answer = client.session.post(
            estimate.url,
            json={"segmentation": {"include_all": True}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )
        answer.raise_for_status()
        estimate.samples.append(time.perf_counter() - started)
    measure_s = time.perf_counter() - measure_started

    every_whoami = [s for target in [*timed, estimate] for s in target.baseline]
    p50_base, p99_base = percentile(every_whoami, 50), percentile(every_whoami, 99)
    print()
    print("## Console benchmark")
    print()
    print(f"- command: `{command}`")
    print(f"- machine: {machine()}")
    print(
        f"- tenant: {args.customers:,} sample customers, one tick, one started campaign; "
        f"{args.rounds} timed calls per page; measured for {measure_s:.1f} s"
    )
    print(f"- baseline {BASELINE}: p50 {p50_base * 1000:.1f} ms, p99 {p99_base * 1000:.1f} ms")
    print()
    headers = ["page", "p50 ms", "p99 ms", "p50 / whoami", "p99 / whoami", "first load KB"]
    worst = 0.0
    rows = []
    for page in pages:
        ratio = percentile(page.samples, 99) / p99_base
        worst = max(worst, ratio)
        rows.append(_row(page, p50_base, p99_base, f"{first_load[page.label] / 1000:.1f}"))
    print(table(headers, rows))
    print()
    if fragments:
        print("Loaded by the pages after they are shown (htmx `load` fragments):")
        print()
        print(table(headers[:5], [_row(f, p50_base, p99_base)[:5] for f in fragments]))
        print()
    print(table(headers[:5], [_row(estimate, p50_base, p99_base)[:5]]))
    print()
    heaviest = max(first_load.values())
    print(
        f"worst page p99 / whoami p99: {worst:.1f} (goal <= {GOAL_RATIO:.0f}); heaviest first "
        f"load: {heaviest / 1000:.1f} KB (goal < {GOAL_BYTES / 1000:.0f} KB)"
    )
    return 0


def _row(target: Target, p50_base: float, p99_base: float, extra: str = "") -> list[str]:
    p50, p99 = percentile(target.samples, 50), percentile(target.samples, 99)
    return [
        target.label,
        f"{p50 * 1000:.1f}",
        f"{p99 * 1000:.1f}",
        f"{p50 / p50_base:.1f}",
        f"{p99 / p99_base:.1f}",
        extra,
    ]


def _first_load_bytes(client: Client, url: str, html: str, fragments: list[Target]) -> int:
    """The page, its linked assets and its `load` fragments, in bytes as sent."""
    total = len(html.encode())
    for asset in _ASSET.findall(html):
        total += len(client.session.get(urljoin(url, unescape(asset)), timeout=60).content)
    for fragment in _LOAD_FRAGMENT.findall(html):
        address = urljoin(url, unescape(fragment))
        total += len(client.session.get(address, timeout=300).content)
        if all(f.url != address for f in fragments):
            label = urlparse(address).path.split("/app", 1)[-1]
            fragments.append(Target(label, address))
    return total


if __name__ == "__main__":
    sys.exit(main())
