"""Entry point of the ``campaigns`` command.

Commands that talk to Google Cloud use the standard environment variables. When they are
unset and a local stack runs (``.stack/env`` exists), its variables are used, so after
``campaigns stack up`` every other command works without sourcing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
from google.auth.exceptions import DefaultCredentialsError

from shared.api.auth import Role, mint
from shared.bootstrap import Container
from shared.campaigns import registered_processors
from shared.cli import console
from shared.config import Settings
from shared.domain.calendar import DEFAULT_TIMEZONE
from shared.domain.campaign import Campaign, LocalWindow, built_in_campaign
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError
from shared.domain.tenant import Tenant
from shared.localstack.stack import PortNumbers, Stack, StackError, load_env
from shared.logs import mask_phone
from shared.sample_data import SampleSpec, tenant_cnpjs, tenant_names, write_tenant_files
from shared.services.loading import LoadRejected, load_tenant_files
from shared.services.tenants import register_tenant

DEFAULT_STATE_DIR = Path(os.environ.get("CAMPAIGNS_STACK_DIR", ".stack"))


def _deps(args: argparse.Namespace) -> Container:
    if "FIRESTORE_EMULATOR_HOST" not in os.environ:
        os.environ.update(load_env(args.state_dir))
    return Container(Settings())


# -- stack ------------------------------------------------------------------------------------


def _stack(args: argparse.Namespace) -> int:
    ports = PortNumbers(
        **{name: getattr(args, f"{name}_port") for name in PortNumbers.__dataclass_fields__}
    )
    stack = Stack(args.state_dir, ports=ports)
    if args.action == "up":
        stack.up()
    elif args.action == "down":
        stack.down()
    else:
        rows = stack.status()
        if not rows:
            print("stack is not running")
        for name, address, state in rows:
            print(f"{name:<10} {address:<16} {state}")
    return 0


# -- tenants and data -------------------------------------------------------------------------


def _tenant_add(args: argparse.Namespace) -> int:
    deps = _deps(args)
    tenant = register_tenant(
        Cnpj.parse(args.cnpj),
        name=args.name,
        timezone=args.timezone,
        tenants=deps.tenants,
        warehouse=None if args.document_only else deps.warehouse,
        queues=None if args.document_only else deps.task_queue,
        templates=deps.templates,
        campaigns=deps.campaigns,
        now=deps.clock(),
        consent=deps.consent_ports(),
    )
    registered = f"tenant {tenant.cnpj} ({tenant.name or 'unnamed'}, {tenant.timezone}) registered"
    if args.document_only:
        print(f"{registered}; its datasets and queue are Terraform's")
    else:
        print(
            f"{registered}; datasets {tenant.id.raw_dataset} and {tenant.id.campaign_dataset} ready"
        )
    return 0


def _templates_sync(args: argparse.Namespace) -> int:
    from shared.services.template_sync import sync_templates
    from shared.whatsapp.templates_api import MetaRefused

    deps = _deps(args)
    try:
        report = sync_templates(deps.template_sync_ports(), Cnpj.parse(args.cnpj))
    except MetaRefused as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"account {report.business_account_id}: {report.listed} listed, {report.added} added, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.missing} no longer on "
        f"the account (kept, marked)"
    )
    for line in report.not_approved:
        print(f"  not approved: {line}")
    for skipped in report.skipped:
        print(f"  skipped {skipped.key}: {skipped.reason}")
    return 0


def _load(args: argparse.Namespace) -> int:
    deps = _deps(args)
    loaded = load_tenant_files(Cnpj.parse(args.cnpj), Path(args.dir), deps.warehouse)
    for table, rows in loaded.items():
        print(f"{table}: {rows} rows loaded")
    return 0


def _sample_data(args: argparse.Namespace) -> int:
    deps = _deps(args)
    as_of = args.as_of or deps.clock().astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
    names = tenant_names(args.tenants, args.seed)
    for index, (cnpj, name) in enumerate(
        zip(tenant_cnpjs(args.tenants, args.seed), names, strict=True)
    ):
        tenant = register_tenant(
            cnpj,
            name=name,
            timezone=None,
            tenants=deps.tenants,
            warehouse=deps.warehouse,
            queues=deps.task_queue,
            templates=deps.templates,
            campaigns=deps.campaigns,
            now=deps.clock(),
        )
        _sample_delivery(deps, tenant, args)
        spec = SampleSpec(
            as_of=as_of,
            customers=args.customers,
            seed=args.seed + index,
            sales_per_customer=args.sales_per_customer,
        )
        with tempfile.TemporaryDirectory() as directory:
            write_tenant_files(spec, Path(directory))
            loaded = load_tenant_files(cnpj, Path(directory), deps.warehouse)
        print(f"{cnpj} {name}: " + ", ".join(f"{rows} {table}" for table, rows in loaded.items()))
    print(f"sample data as of {as_of.isoformat()} (seed {args.seed})")
    return 0


# -- ticks and targets ------------------------------------------------------------------------


def _tick(args: argparse.Namespace) -> int:
    from shared.cli.tick import publish_tick, summary_table, wait_for_runs

    deps = _deps(args)
    cnpj = Cnpj.parse(args.cnpj).value if args.cnpj else None
    tick_id = publish_tick(deps, args.now, cnpj, args.force)
    print(f"tick {tick_id} published" + (f" for {args.now.isoformat()}" if args.now else ""))
    runs = wait_for_runs(deps, tick_id, args.timeout)
    print(summary_table(runs) if runs else "no active tenant")
    unfinished = [cnpj for cnpj, run in runs.items() if run.get("status") != "FINISHED"]
    if unfinished:
        print(f"not finished after {args.timeout:.0f} s: {', '.join(unfinished)}", file=sys.stderr)
        return 1
    return 0


def _deliveries(args: argparse.Namespace) -> int:
    from shared.cli.delivery import delivery_table, wait_for_deliveries

    deps = _deps(args)
    tenants = deps.tenants.list_active()
    if args.cnpj:
        tenants = [tenant for tenant in tenants if tenant.cnpj == Cnpj.parse(args.cnpj).value]
    counts = wait_for_deliveries(deps, [tenant.id for tenant in tenants], args.timeout)
    print(delivery_table(counts, {tenant.cnpj: tenant.name for tenant in tenants}))
    moving = sum(counter["in_flight"] for counter in counts.values())
    if moving:
        print(f"{moving} messages still in flight after {args.timeout:.0f} s", file=sys.stderr)
        return 1
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from shared.services.sweeper import sweep

    deps = _deps(args)
    report = sweep(deps.delivery_ports(), links=deps.link_ports())
    print(", ".join(f"{key} {value}" for key, value in sorted(report.items())) or "nothing to do")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from shared.localstack import whatsapp_sandbox

    whatsapp_sandbox.main(["--port", str(args.port), "--webhook-url", args.webhook_url])
    return 0


def _targets(args: argparse.Namespace) -> int:
    deps = _deps(args)
    cnpj = Cnpj.parse(args.cnpj)
    kinds = [args.campaign] if args.campaign else [p.kind for p in registered_processors()]
    targets = [target for kind in kinds for target in deps.targets.list(cnpj, kind)]
    if args.json:
        print(json.dumps(targets, default=str, ensure_ascii=False, indent=2))
        return 0
    for target in targets:
        campaign = target.get("campaignId", target.get("campaignType", "?"))  # older targets
        print(
            f"{campaign:<13} {target['id']:<24} {target['status']:<8} "
            f"{mask_phone(target['phone']):<15} {target['name']}"
        )
    print(f"{len(targets)} targets")
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from shared.cli.forecast import forecast_table
    from shared.services.forecast import forecast_tenant

    deps = _deps(args)
    cnpj = Cnpj.parse(args.cnpj)
    forecasts = forecast_tenant(
        deps.campaign_ports(), deps.outlook, cnpj, days=args.days, now=deps.clock()
    )
    print(forecast_table(forecasts))
    return 0


def _number(args: argparse.Namespace) -> int:
    from shared.cli.number import number_table, set_limits

    shares = _deps(args).number_shares
    if args.ceiling is not None or args.daily_limit is not None:
        set_limits(shares, args.number, args.ceiling, args.daily_limit)
    print(number_table(shares.view(args.number)))
    return 0


def _sample_delivery(deps: Container, tenant: Tenant, args: argparse.Namespace) -> None:
    """Sample tenants' send window and pace (a demo at night still sends, and quickly), and
    reactivation from the 1st of the month: a demo on any day shows every built-in kind."""
    start, end = args.send_window
    window = LocalWindow(start=start.isoformat(), end=end.isoformat())
    now = deps.clock()

    def windowed(kind: str) -> Callable[[Campaign | None], Campaign]:
        def change(current: Campaign | None) -> Campaign:
            campaign = current or built_in_campaign(kind, now=now)
            update: dict[str, object] = {"send_window": window, "updated_at": now}
            if kind == "REACTIVATION":
                update["thresholds"] = {**campaign.thresholds, "min_day_of_month": 1}
            return campaign.model_copy(update=update)

        return change

    for processor in registered_processors():
        deps.campaigns.mutate(tenant.id, processor.kind, windowed(processor.kind))
    throttle = tenant.delivery.throttle.model_copy(
        update={
            "messages_per_minute": args.messages_per_minute,
            "messages_per_hour": max(args.messages_per_minute * 60, args.messages_per_day),
            "messages_per_day": args.messages_per_day,
        }
    )
    delivery = tenant.delivery.model_copy(update={"throttle": throttle})
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))


def _migrate_campaigns(args: argparse.Namespace) -> int:
    """Move the campaigns' settings maps out of tenant documents into campaign records (see
    :mod:`shared.adapters.firestore_campaign_migration`); safe to run again."""
    from shared.adapters.firestore_campaign_migration import migrate_tenant, tenant_ids
    from shared.services.campaigns import store_built_ins

    deps = _deps(args)
    now = deps.clock()
    ids = [Cnpj.parse(args.cnpj).value] if args.cnpj else tenant_ids(deps.firestore_client)
    unfinished = 0
    for tenant_id in ids:
        try:
            cnpj = Cnpj.parse(tenant_id)
            report = migrate_tenant(deps.firestore_client, cnpj, now=now)
            if deps.tenants.get(cnpj) is not None:
                store_built_ins(deps.campaigns, cnpj, now=now)
        except CampaignError as error:
            unfinished += 1
            print(f"{tenant_id[:40]}: not migrated: {error}", file=sys.stderr)
            continue
        moved = ", ".join(
            [f"{i} adopted" for i in report.adopted] + [f"{i} dropped" for i in report.dropped]
        )
        print(f"{cnpj.value}: {moved or 'nothing to move'}")
        for campaign_id, reason in report.kept.items():
            unfinished += 1
            print(f"{cnpj.value}: {campaign_id} kept in the tenant document: {reason}")
    return 1 if unfinished else 0


def _send_window(text: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected HH:MM-HH:MM, e.g. 09:00-18:00") from error
    if end <= start:
        raise argparse.ArgumentTypeError("the window must end after it starts")
    return start, end


# -- API tokens -------------------------------------------------------------------------------


def _token(args: argparse.Namespace) -> int:
    """A local HS256 API token, signed with the stack's secret (production tokens come from
    the identity provider; with ``API_JWKS_URL`` set the API would refuse this one)."""
    cnpj = Cnpj.parse(args.cnpj)
    env = os.environ if "API_JWT_SECRET" in os.environ else load_env(args.state_dir)
    secret = env.get("API_JWT_SECRET", "")
    if not secret:
        raise CampaignError(
            "API_JWT_SECRET is not set and no local stack runs here: run `campaigns stack up`"
        )
    if env.get("API_JWKS_URL"):
        raise CampaignError("API_JWKS_URL is set: the API accepts only the identity provider's")
    token = mint(
        secret,
        cnpj,
        Role(args.role),
        args.subject,
        ttl_seconds=args.ttl_minutes * 60,
        audience=env.get("API_JWT_AUDIENCE") or None,
        issuer=env.get("API_JWT_ISSUER") or None,
    )
    print(token)
    return 0


def _api(args: argparse.Namespace, cnpj: Cnpj) -> Any:
    from shared.cli.api_demo import Api

    settings = _deps(args).settings
    secret = settings.api_jwt_secret.get_secret_value()
    if not secret:
        raise CampaignError("API_JWT_SECRET is not set: run `campaigns stack up` first")
    return Api(f"{settings.functions_url.rstrip('/')}/api", secret, cnpj)


def _demo_tenant(args: argparse.Namespace) -> Cnpj:
    if args.cnpj:
        return Cnpj.parse(args.cnpj)
    tenants = sorted(_deps(args).tenants.list_active(), key=lambda tenant: tenant.cnpj)
    if not tenants:
        raise CampaignError("no active tenant: run `campaigns sample-data` first")
    return tenants[0].id


def _try_api(args: argparse.Namespace) -> int:
    from shared.cli.api_demo import run_try_api

    cnpj = _demo_tenant(args)
    print(f"campaign API as tenant {cnpj.value} (admin token minted with the stack's secret):")
    for line in run_try_api(_api(args, cnpj), args.seed):
        print(f"  {line}")
    return 0


def _analytics(args: argparse.Namespace) -> int:
    from shared.cli.api_demo import analytics_table

    cnpj = _demo_tenant(args)
    lines = analytics_table(_api(args, cnpj), cnpj)
    print("\n".join(lines) if lines else f"tenant {cnpj.value} has no API campaign yet")
    return 0


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected whole minutes, e.g. 60") from error
    if not 1 <= minutes <= 7 * 24 * 60:
        raise argparse.ArgumentTypeError("between 1 and 10080 minutes (7 days)")
    return minutes


# -- parsing ----------------------------------------------------------------------------------


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-11-20T11:30:00Z")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaigns", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where the local stack keeps its state (default: .stack)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    stack = commands.add_parser("stack", help="start, stop or inspect the local stack")
    stack.add_argument("action", choices=["up", "down", "status"])
    for name, default in PortNumbers().__dict__.items():
        stack.add_argument(f"--{name.replace('_', '-')}-port", type=int, default=default)
    stack.set_defaults(run=_stack)

    tenant = commands.add_parser("tenant", help="manage tenants")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", required=True)
    add = tenant_commands.add_parser("add", help="register a tenant and create its datasets")
    add.add_argument("cnpj")
    add.add_argument("--name")
    add.add_argument("--timezone", help=f"IANA time zone (default {DEFAULT_TIMEZONE})")
    add.add_argument(
        "--document-only",
        action="store_true",
        help="write only users/{cnpj} (production: Terraform creates datasets, tables and queue)",
    )
    add.set_defaults(run=_tenant_add)

    templates = commands.add_parser("templates", help="a tenant's WhatsApp templates")
    template_commands = templates.add_subparsers(dest="templates_command", required=True)
    sync = template_commands.add_parser(
        "sync", help="sync the tenant's templates from its WhatsApp Business account"
    )
    sync.add_argument("cnpj")
    sync.set_defaults(run=_templates_sync)

    load = commands.add_parser("load", help="replace a tenant's tables with files")
    load.add_argument("cnpj")
    load.add_argument(
        "--dir", required=True, help="holds clientes.csv|ndjson, vendas.csv|ndjson, ..."
    )
    load.set_defaults(run=_load)

    sample = commands.add_parser("sample-data", help="generate and load realistic tenants")
    sample.add_argument("--tenants", type=int, default=3)
    sample.add_argument("--customers", type=int, default=200)
    sample.add_argument("--sales-per-customer", type=float, default=10.0)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument(
        "--as-of", type=date.fromisoformat, help="local date the data is current for"
    )
    sample.add_argument(
        "--send-window",
        type=_send_window,
        default=(time(9), time(18)),
        help="local sending hours of every campaign, e.g. 00:00-23:59 (default 09:00-18:00)",
    )
    sample.add_argument("--messages-per-minute", type=int, default=60)
    sample.add_argument("--messages-per-day", type=int, default=250)
    sample.set_defaults(run=_sample_data)

    tick = commands.add_parser("tick", help="publish a tick as Cloud Scheduler would and wait")
    tick.add_argument("--now", type=_instant, help="the tick's instant (ISO 8601 with zone)")
    tick.add_argument("--cnpj", help="only this tenant")
    tick.add_argument("--force", action="store_true", help="run campaigns already done today")
    tick.add_argument("--timeout", type=float, default=600.0)
    tick.set_defaults(run=_tick)

    deliveries = commands.add_parser(
        "deliveries", help="wait until queued messages went out, then count their outcomes"
    )
    deliveries.add_argument("--cnpj", help="only this tenant")
    deliveries.add_argument("--timeout", type=float, default=300.0)
    deliveries.set_defaults(run=_deliveries)

    migrate = commands.add_parser(
        "migrate-campaigns",
        help="one-off: move campaign settings out of tenant documents into campaign records",
    )
    migrate.add_argument("--cnpj", help="only this tenant (default: every tenant)")
    migrate.set_defaults(run=_migrate_campaigns)

    sweep = commands.add_parser("sweep", help="repair stuck targets now (the scheduled sweeper)")
    sweep.set_defaults(run=_sweep)

    sandbox = commands.add_parser(
        "sandbox", help="serve the local WhatsApp Cloud API stand-in (stack up starts one)"
    )
    sandbox.add_argument("--port", type=int, default=PortNumbers().whatsapp)
    sandbox.add_argument(
        "--webhook-url", default=f"http://127.0.0.1:{PortNumbers().functions}/api/webhooks/whatsapp"
    )
    sandbox.set_defaults(run=_sandbox)

    targets = commands.add_parser("targets", help="list a tenant's campaign targets")
    targets.add_argument("cnpj")
    targets.add_argument("--campaign", choices=[p.kind for p in registered_processors()])
    targets.add_argument("--json", action="store_true")
    targets.set_defaults(run=_targets)

    forecast = commands.add_parser(
        "forecast",
        help="messages per local day, when the last goes, how many will expire (plans nothing)",
    )
    forecast.add_argument("cnpj")
    forecast.add_argument("--days", type=int, default=7, help="local days from today (1-31)")
    forecast.set_defaults(run=_forecast)

    number = commands.add_parser(
        "number", help="a WhatsApp number's limits and each tenant's share of them"
    )
    number.add_argument("number", nargs="?", default="", help="phone_number_id (default number)")
    number.add_argument("--ceiling", type=int, help="messages a second Meta allows it")
    number.add_argument(
        "--daily-limit", help="the portfolio's daily messaging tier, or 'none' to remove it"
    )
    number.set_defaults(run=_number)

    token = commands.add_parser("token", help="mint a local API token (HS256, the stack's secret)")
    token.add_argument("--cnpj", required=True, help="the tenant the token is for")
    token.add_argument("--role", choices=[role.value for role in Role], default=Role.ADMIN.value)
    token.add_argument("--subject", default="local-user", help="the token's `sub` (the user)")
    token.add_argument("--ttl-minutes", type=_minutes, default=60, help="validity (default 60)")
    token.set_defaults(run=_token)

    try_api = commands.add_parser(
        "try-api", help="import contacts, size a segment, create and start a campaign (HTTP)"
    )
    try_api.add_argument("--cnpj", help="default: the first active tenant")
    try_api.add_argument("--seed", type=int, default=7)
    try_api.set_defaults(run=_try_api)

    analytics = commands.add_parser("analytics", help="the API campaigns' analytics (HTTP)")
    analytics.add_argument("--cnpj", help="default: the first active tenant")
    analytics.set_defaults(run=_analytics)
    console.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except LoadRejected as rejected:
        print("error: nothing was loaded:", file=sys.stderr)
        for problem in rejected.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except (CampaignError, StackError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except pydantic.ValidationError as invalid:
        for detail in invalid.errors():
            field = ".".join(str(part) for part in detail["loc"]) or "value"
            print(f"error: {field}: {detail['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    except DefaultCredentialsError:
        print(
            "error: no local stack runs here and no Google credentials were found: run "
            "`campaigns stack up`, or `gcloud auth application-default login` for real GCP",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
