"""API benchmark: latency of the main REST endpoints, each against ``/api/v1/whoami``.

On a private local stack (the ``api`` function behind the real functions host, Firestore and
BigQuery emulators), for one tenant with sample data, this prints p50 and p99 of:

* ``GET /api/v1/campaigns`` (list) and ``GET /api/v1/campaigns/{id}`` (one campaign, created
  first with ``POST /api/v1/campaigns``);
* ``POST /api/v1/segments/estimate`` with ``{"segmentation": {"include_all": true}}``;
* ``POST /api/v1/contacts/import`` of ``--rows`` (10,000) JSON contacts, merge ``update``;

each as a ratio to ``GET /api/v1/whoami`` (token check + rate limit + routing, no store
access) measured in the same run: every timed call of an endpoint is preceded by a timed
whoami call, so both see the same machine load. Ratios compare p50 with p50 and p99 with p99.

An endpoint that answers 404 (not served yet) is skipped with a printed line, as is one that
refuses the planned request body (any other 4xx): the script always runs to the end.

How it is measured: one ``requests.Session`` (keep-alive), wall time from sending to the last
body byte, after ``--warm-up`` untimed calls of each endpoint. The stack runs with
``API_REQUESTS_PER_MINUTE`` = 1,000,000 so the bench measures the path (the limiter still
runs on every call), not the throttle. Imports are slow, so they run ``--import-rounds``
times (p99 of a handful of samples is their maximum).

Run: ``.venv/bin/python bench/api.py`` (about three minutes) or ``--rounds 30`` (a quick check).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from reporting import machine, percentile, private_stack, sample_tenant, table

from shared.api.auth import Role, mint
from shared.localstack.stack import Stack

BASELINE = "GET /api/v1/whoami"


@dataclass
class Endpoint:
    label: str
    method: str
    path: str
    body: Callable[[], Any] | None = None
    rounds: int = 0
    samples: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    skipped: str = ""


@dataclass
class Api:
    base: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.session.request(
            method,
            f"{self.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=300,
        )

    def timed(self, method: str, path: str, body: Any = None) -> tuple[float, requests.Response]:
        started = time.perf_counter()
        answer = self.call(method, path, body)
        _ = answer.content  # the whole body
        return time.perf_counter() - started, answer


def _contacts(rows: int) -> list[dict[str, str]]:
    """Distinct valid Brazilian mobiles (+55 11 9xxxx-xxxx) with names."""
    return [
        {"phone_number": f"+55119{index:08d}", "name": f"Cliente {index:05d}"}
        for index in range(rows)
    ]


def _campaign_body() -> dict[str, Any]:
    return {
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


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=200, help="timed calls per cheap endpoint")
    parser.add_argument("--import-rounds", type=int, default=5, help="timed contact imports")
    parser.add_argument("--rows", type=int, default=10_000, help="contacts per import")
    parser.add_argument("--customers", type=int, default=2_000, help="sample customers")
    parser.add_argument("--warm-up", type=int, default=10, help="untimed calls per endpoint")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    # API_REQUESTS_PER_MINUTE is read by the functions host: the bench measures the path (the
    # limiter still runs on every call), not the throttle.
    with private_stack("api-bench-", API_REQUESTS_PER_MINUTE="1000000") as (stack, temp):
        return _bench(args, stack, temp, command)


def _probe(api: Api, endpoint: Endpoint) -> None:
    """One untimed call: a 404 (not served yet) or a refused body skips the endpoint."""
    answer = api.call(endpoint.method, endpoint.path, endpoint.body() if endpoint.body else None)
    if answer.status_code == 404:
        endpoint.skipped = "answers 404 (not served yet)"
    elif not answer.ok:
        endpoint.skipped = f"answers {answer.status_code}: {answer.text[:200]}"
    if endpoint.skipped:
        print(f"  skip {endpoint.label}: {endpoint.skipped}")


def _campaign_id(api: Api) -> str | None:
    answer = api.call("POST", "/api/v1/campaigns", _campaign_body())
    if answer.status_code == 404:
        print("  skip POST /api/v1/campaigns: answers 404 (not served yet)")
        return None
    if not answer.ok:
        print(f"  campaign not created: {answer.status_code} {answer.text[:200]}")
        return None
    body = answer.json()
    found = body.get("id") or body.get("campaign_id")
    return str(found) if found else None


def _bench(args: argparse.Namespace, stack: Stack, temp: Path, command: str) -> int:
    started = time.perf_counter()
    cnpj = sample_tenant(temp / "data", args.customers, args.seed, with_queue=False)
    setup_s = time.perf_counter() - started
    print(f"tenant {cnpj} with {args.customers:,} sample customers in {setup_s:.1f} s")
    base = f"{stack.environment()['CAMPAIGNS_FUNCTIONS_URL']}/api"
    secret = stack.environment()["API_JWT_SECRET"]
    api = Api(base, mint(secret, cnpj, Role.ADMIN, "api-bench", ttl_seconds=6 * 3600))

    contacts = _contacts(args.rows)
    import_body = {
        "source": "json",
        "data": contacts,
        "tags": ["bench"],
        "merge_strategy": "update",
    }
    campaign_id = _campaign_id(api)
    endpoints = [
        Endpoint("GET /api/v1/campaigns", "GET", "/api/v1/campaigns", rounds=args.rounds),
        Endpoint(
            "GET /api/v1/campaigns/{id}",
            "GET",
            f"/api/v1/campaigns/{campaign_id}",
            rounds=args.rounds,
            skipped="" if campaign_id else "no campaign to read (its creation failed above)",
        ),
        Endpoint(
            "POST /api/v1/segments/estimate",
            "POST",
            "/api/v1/segments/estimate",
            body=lambda: {"segmentation": {"include_all": True}},
            rounds=args.rounds,
        ),
        Endpoint(
            f"POST /api/v1/contacts/import ({args.rows:,} rows)",
            "POST",
            "/api/v1/contacts/import",
            body=lambda: import_body,
            rounds=args.import_rounds,
        ),
    ]
    baseline = Endpoint(BASELINE, "GET", "/api/v1/whoami")

    print("probe and warm-up:")
    for endpoint in [baseline, *endpoints]:
        if endpoint.skipped:
            print(f"  skip {endpoint.label}: {endpoint.skipped}")
            continue
        _probe(api, endpoint)
        warm = 1 if endpoint.rounds == args.import_rounds else args.warm_up
        for _ in range(warm if not endpoint.skipped else 0):
            api.call(endpoint.method, endpoint.path, endpoint.body() if endpoint.body else None)
    if baseline.skipped:
        print("whoami does not answer: nothing to compare with")
        return 1

    live = [e for e in endpoints if not e.skipped]
    print(f"measuring {len(live)} endpoints, interleaved with whoami:")
    measure_started = time.perf_counter()
    for index in range(max((e.rounds for e in live), default=0)):
        rotation = index % len(live) if live else 0
        for endpoint in live[rotation:] + live[:rotation]:
            if index >= endpoint.rounds:
                continue
            seconds, answer = api.timed("GET", "/api/v1/whoami")
            if answer.status_code != 200:
                raise RuntimeError(f"whoami answered {answer.status_code}: {answer.text[:200]}")
            endpoint.baseline.append(seconds)
            baseline.samples.append(seconds)
            body = endpoint.body() if endpoint.body else None
            seconds, answer = api.timed(endpoint.method, endpoint.path, body)
            if not answer.ok:
                raise RuntimeError(
                    f"{endpoint.label} answered {answer.status_code}: {answer.text[:200]}"
                )
            endpoint.samples.append(seconds)
    if not live:  # nothing to compare yet: still report the baseline
        for _ in range(args.rounds):
            baseline.samples.append(api.timed("GET", "/api/v1/whoami")[0])
    measure_s = time.perf_counter() - measure_started

    p50_base = percentile(baseline.samples, 50)
    p99_base = percentile(baseline.samples, 99)
    rows = [
        [
            BASELINE,
            f"{len(baseline.samples)}",
            f"{p50_base * 1000:.1f}",
            f"{p99_base * 1000:.1f}",
            "1.0",
            "1.0",
        ]
    ]
    for endpoint in endpoints:
        if endpoint.skipped:
            rows.append([endpoint.label, "-", "-", "-", "skipped", "skipped"])
            continue
        p50 = percentile(endpoint.samples, 50)
        p99 = percentile(endpoint.samples, 99)
        rows.append(
            [
                endpoint.label,
                f"{len(endpoint.samples)}",
                f"{p50 * 1000:.1f}",
                f"{p99 * 1000:.1f}",
                f"{p50 / p50_base:.1f}",
                f"{p99 / p99_base:.1f}",
            ]
        )

    print()
    print("## API benchmark")
    print()
    print(f"- command: `{command}`")
    print(f"- machine: {machine()}")
    print(
        f"- tenant: {args.customers:,} sample customers; import: {args.rows:,} JSON contacts, "
        f"merge `update`; measured for {measure_s:.1f} s"
    )
    print()
    print(table(["endpoint", "n", "p50 ms", "p99 ms", "p50 / whoami", "p99 / whoami"], rows))
    print()
    print("Each timed call follows a timed whoami call (same session, same load); ratios use the")
    print("whoami percentiles of the whole run. Skipped: the endpoint answered 404 or refused the")
    print("planned request (see the lines above).")
    for endpoint in endpoints:
        if endpoint.skipped:
            print(f"- skipped {endpoint.label}: {endpoint.skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
