"""A tenant's alerts as the console and the API show them (:mod:`shared.domain.alerts`).

Open alerts are the recent ones nobody dismissed; a dismissal keeps the alert (it stays the
record of what WhatsApp did, and a redelivered event does not reopen it). A category change
to MARKETING stays visible where a campaign's cost is shown, dismissed or not: it is why the
campaign's messages now cost the marketing price.
"""

from __future__ import annotations

from datetime import datetime

from shared.domain.alerts import Alert
from shared.domain.campaign import Campaign
from shared.domain.cnpj import Cnpj
from shared.domain.errors import NotFoundError
from shared.ports import AlertLog
from shared.services.template_events import templates_sent_by

RECENT = 100
"""How many of the latest alerts are read: more than a tenant would leave open."""


def open_alerts(alerts: AlertLog, cnpj: Cnpj) -> list[Alert]:
    """Not dismissed, newest first."""
    return [alert for alert in alerts.recent(cnpj, RECENT) if not alert.dismissed]


def dismiss_alert(alerts: AlertLog, cnpj: Cnpj, alert_id: str, by: str, at: datetime) -> None:
    if not alerts.dismiss(cnpj, alert_id, by, at):
        raise NotFoundError(f"alert {alert_id} not found")


def billed_as_marketing(alerts: AlertLog, cnpj: Cnpj, campaign: Campaign) -> list[Alert]:
    """The category changes to MARKETING of the templates ``campaign`` sends, newest first,
    one per template."""
    sent = templates_sent_by(campaign)
    seen: set[tuple[str, str]] = set()
    found = []
    for alert in alerts.recent(cnpj, RECENT):
        key = (alert.template_name, alert.template_language)
        if alert.kind == "template_category" and key in sent and key not in seen:
            seen.add(key)
            if alert.billed_as_marketing:
                found.append(alert)
    return found
