"""``campaigns signin-link`` and ``campaigns serve-console``: the console on the local stack.

There is no identity provider locally, so a person signs in with a one-time link minted from
the stack's secret (see :mod:`shared.console.signin`). ``serve-console`` is the last step of
``make console``: the stack is already up and delivering; it prints where to go and waits, so
Ctrl-C ends it and ``make`` stops the stack it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.config import Settings
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError
from shared.localstack.stack import load_env


def _environment(args: argparse.Namespace) -> Mapping[str, str]:
    env = os.environ if "API_JWT_SECRET" in os.environ else load_env(args.state_dir)
    if not env.get("API_JWT_SECRET") or not env.get("CAMPAIGNS_FUNCTIONS_URL"):
        raise CampaignError("no local stack runs here: run `campaigns stack up` first")
    if env.get("API_JWKS_URL"):
        raise CampaignError("API_JWKS_URL is set: sign in through the identity provider")
    return env


def console_address(env: Mapping[str, str]) -> str:
    return f"{env['CAMPAIGNS_FUNCTIONS_URL']}/api/app/"


def signin_link(env: Mapping[str, str], cnpj: Cnpj, role: Role, next_path: str | None) -> str:
    token = signin_link_token(env["API_JWT_SECRET"], cnpj, role, "local-user", next_path)
    return f"{console_address(env)}signin?" + urlencode({"token": token})


def _signin_link(args: argparse.Namespace) -> int:
    env = _environment(args)
    print(signin_link(env, Cnpj.parse(args.cnpj), Role(args.role), args.next))
    return 0


def _serve_console(args: argparse.Namespace) -> int:
    env = _environment(args)
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    tenants = Container(Settings()).tenants.list_active()
    if not tenants:
        raise CampaignError("no tenant is registered: run `campaigns sample-data` first")
    print(f"\nconsole: {console_address(env)}")
    for tenant in tenants[: args.tenants]:
        link = signin_link(env, tenant.id, Role.ADMIN, None)
        print(f"sign in to {tenant.name or tenant.cnpj} (admin, one use, 15 min):\n  {link}")
    print("more links: campaigns signin-link --cnpj CNPJ --role viewer|editor|admin")
    print("delivery keeps running; press Ctrl-C to stop everything", flush=True)
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    stop.wait()
    print("stopping")
    return 0


def _console_address(args: argparse.Namespace) -> int:
    print(console_address(_environment(args)))
    return 0


def add_commands(commands: Any) -> None:
    address = commands.add_parser("console-address", help="where the local console is served")
    address.set_defaults(run=_console_address)

    link = commands.add_parser("signin-link", help="a one-time console sign-in link (local)")
    link.add_argument("--cnpj", required=True, help="the tenant to sign in to")
    link.add_argument("--role", choices=[role.value for role in Role], default=Role.ADMIN.value)
    link.add_argument("--next", help="a console path to open after signing in, e.g. /app/")
    link.set_defaults(run=_signin_link)

    serve = commands.add_parser(
        "serve-console", help="print the console's address and sign-in links, wait for Ctrl-C"
    )
    serve.add_argument("--tenants", type=int, default=1, help="links for this many tenants")
    serve.set_defaults(run=_serve_console)
