"""Fan a tick out into one job per active tenant, so one tenant's failure stays its own."""

from __future__ import annotations

import logging
from datetime import datetime

from shared import logs
from shared.domain.cnpj import Cnpj
from shared.manifest import TENANT_TOPIC
from shared.messages import TenantJob
from shared.ports import Publisher, TenantRepository, TickLog

_log = logging.getLogger(__name__)


def fan_out(
    *,
    tick_id: str,
    instant: datetime,
    only_cnpj: str | None,
    force: bool,
    tenants: TenantRepository,
    ticks: TickLog,
    publisher: Publisher,
) -> list[str]:
    """Publish a TenantJob per active tenant (or the one asked for); returns their CNPJs.

    The tick record is written first so a waiting caller knows which runs to expect. If a
    publish fails the whole tick is retried; tenants already published get a duplicate job,
    which ``process_tenant`` recognises by its run id.
    """
    if only_cnpj is not None:
        tenant = tenants.get(Cnpj(only_cnpj))
        selected = [tenant] if tenant is not None and tenant.active else []
    else:
        selected = tenants.list_active()
    cnpjs = sorted(tenant.cnpj for tenant in selected)
    ticks.record_fanout(tick_id, {"instant": instant.isoformat(), "tenants": cnpjs, "force": force})
    for cnpj in cnpjs:
        job = TenantJob(cnpj=cnpj, instant=instant, tick_id=tick_id, force=force)
        publisher.publish(TENANT_TOPIC, job.model_dump(mode="json"))
    logs.log(_log, logging.INFO, "tick fanned out", tick=tick_id, tenants=len(cnpjs))
    return cnpjs
