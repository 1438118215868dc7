"""Register a tenant: its Firestore document, built-in campaigns, BigQuery datasets and tables,
and send queue."""

from __future__ import annotations

from datetime import datetime

from shared import sqlfiles
from shared.domain.cnpj import Cnpj
from shared.domain.tenant import Tenant
from shared.manifest import send_queue
from shared.ports import (
    CampaignRepository,
    TaskQueue,
    TemplateCatalogue,
    TenantRepository,
    Warehouse,
)
from shared.services.campaigns import store_built_ins
from shared.services.consent import ConsentPorts, adopt_quarantined
from shared.services.templates import seed_defaults

TABLE_DDL = (
    "ddl/raw_clientes.sql",
    "ddl/raw_vendas.sql",
    "ddl/campaign_message_history.sql",
    "ddl/campaign_contacts.sql",
    "ddl/customer_profile_view.sql",
)
COLUMN_UPGRADES = ("ddl/upgrades/contacts_bsuid.sql",)
"""Columns added after a table first shipped, added in place to an older tenant's table (its
rows kept) when the tenant is registered again; a new table already has them. In production
Terraform does the same from ``tables.json``."""


def ddl_in_order() -> tuple[str, ...]:
    """Tables, then the columns older tables lack, then the views (which read those columns)."""
    views = tuple(ddl for ddl in TABLE_DDL if ddl.endswith("_view.sql"))
    tables = tuple(ddl for ddl in TABLE_DDL if ddl not in views)
    return tables + COLUMN_UPGRADES + views


def register_tenant(
    cnpj: Cnpj,
    *,
    name: str | None,
    timezone: str | None,
    tenants: TenantRepository,
    warehouse: Warehouse | None,
    queues: TaskQueue | None,
    templates: TemplateCatalogue | None = None,
    campaigns: CampaignRepository | None = None,
    now: datetime | None = None,
    consent: ConsentPorts | None = None,
) -> Tenant:
    """Idempotent: re-registering keeps the tenant's campaigns, settings and data.

    Without a warehouse or queues only the tenant document is written: in production
    Terraform's tenant module owns the datasets, tables, view and send queue. With a template
    catalogue, the default approved templates the tenant lacks are stored in it. With
    ``campaigns`` (and ``now``, when they are stored), the four built-in campaigns the tenant
    lacks are stored with their kinds' defaults; without, they run with those defaults until
    first used. With ``consent``, the opt-outs kept for the tenant's number while no tenant
    sent from it are applied to it (:func:`adopt_quarantined`).
    """
    if campaigns is not None and now is None:
        raise ValueError("storing the built-in campaigns needs now: when they are stored")
    existing = tenants.get(cnpj)
    fields = existing.model_dump() if existing else {"cnpj": cnpj.value}
    if name is not None:
        fields["name"] = name
    if timezone is not None:
        fields["timezone"] = timezone
    tenant = Tenant.model_validate(fields)
    if warehouse is not None:
        warehouse.ensure_dataset(cnpj.raw_dataset)
        warehouse.ensure_dataset(cnpj.campaign_dataset)
        for ddl in ddl_in_order():
            warehouse.run_ddl(sqlfiles.render(ddl, cnpj))
    if queues is not None:  # None: a targeting-only setup (some tests) sends nothing
        queues.ensure_queue(send_queue(cnpj.value))
    tenants.save(tenant)
    if consent is not None:
        adopt_quarantined(consent, tenant)
    if templates is not None:
        seed_defaults(templates, cnpj)
    if campaigns is not None and now is not None:
        store_built_ins(campaigns, cnpj, now=now)
    return tenant
