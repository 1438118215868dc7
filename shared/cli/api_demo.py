"""``campaigns try-api`` and ``campaigns analytics``: the campaign API as a client uses it.

The demo drives the real HTTP API of the local stack (a token minted with the stack's
secret): it imports contacts, sizes a segment, creates a campaign with a voucher and starts
it; its messages then go through the same delivery as the automatic campaigns, and
``analytics`` reads the result back through the API.
"""

from __future__ import annotations

import random
from typing import Any

import requests

from shared.api.auth import Role, mint
from shared.domain.campaign_ids import kind_of
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError

DEMO_TAG = "vip-demo"
DEMO_CAMPAIGN = "Black Friday VIP (demo)"


class Api:
    def __init__(self, base_url: str, secret: str, cnpj: Cnpj) -> None:
        self._base = base_url.rstrip("/")
        self._session = requests.Session()
        token = mint(secret, cnpj, Role.ADMIN, "campaigns-cli")
        self._session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._session.request(method, f"{self._base}{path}", timeout=120, **kwargs)
        if answer.status_code >= 400:
            raise CampaignError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()


def demo_contacts(seed: int, count: int) -> list[dict[str, Any]]:
    """New customers from a list the business brought: valid mobiles, a few typos."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for index in range(count):
        phone = f"+55 11 9{rng.randrange(10**7, 10**8)}"
        if index % 10 == 9:
            phone = phone[:-5]  # a typo: the import reports it and keeps the others
        rows.append(
            {
                "phone_number": phone,
                "name": f"Cliente VIP {index + 1}",
                "custom_fields": {"bairro": rng.choice(["Centro", "Trindade", "Lagoa"])},
            }
        )
    return rows


def run_try_api(api: Api, seed: int) -> list[str]:
    """The steps of the demo; returns what to print."""
    lines = []
    imported = api.call(
        "POST",
        "/api/v1/contacts/import",
        json={
            "source": "json",
            "data": demo_contacts(seed, 30),
            "group_name": "Lista VIP",
            "tags": [DEMO_TAG],
            "merge_strategy": "update",
        },
    )
    lines.append(
        f"contacts import: {imported['created']} created, {imported['updated']} updated, "
        f"{imported['replaced']} replaced, "
        f"{imported['skipped']} unchanged, {imported['rejected']} rejected"
        + "".join(
            f"\n  data[{r['line']}] {r['field']}: {r['reason']}" for r in imported["rejections"]
        )
    )
    segmentation = {"included_tags": [DEMO_TAG], "excluded_tags": ["unsubscribed"]}
    size = api.call("POST", "/api/v1/segments/estimate", json={"segmentation": segmentation})
    lines.append(f"segment estimate: {size['estimated_recipients']} recipients")
    campaign = api.call(
        "POST",
        "/api/v1/campaigns",
        json={
            "name": DEMO_CAMPAIGN,
            "objective": "promotional",
            "segmentation": segmentation,
            "throttle_config": {"messages_per_minute": 120, "respect_business_hours": False},
            "voucher": {"kind": "percentage", "value": 15, "validity_days": 7},
            "templates": [
                {  # the seed's form: no whatsapp_template, mapped onto cupom_desconto by its
                    # body and its COPY_CODE button (the coupon is each person's own code)
                    "name": "Oferta VIP",
                    "content": "{{first_name}}, este cupom é seu: {{voucherCode}}. Ele vale "
                    "{{voucherValue}} de desconto até {{voucherExpiresAt}}.",
                    "template_type": "text",
                    "buttons": [{"type": "COPY_CODE"}],
                }
            ],
        },
    )
    (message,) = api.call("GET", f"/api/v1/campaigns/{campaign['id']}/preview")
    buttons = ", ".join(f"[{b['label']}{': ' + b['code'] if b['code'] else ''}]"
                        for b in message["buttons"])  # fmt: skip
    lines.append(f"preview ({message['template']}): {message['body']} {buttons}")
    started = api.call("POST", f"/api/v1/campaigns/{campaign['id']}/start")
    targets = started["targets"] or {}
    lines.append(
        f"campaign {campaign['id']} {started['campaign']['status']}: "
        f"{targets.get('created', 0)} targets with their own voucher codes"
    )
    return lines


def analytics_table(api: Api, cnpj: Cnpj) -> list[str]:
    page = api.call("GET", "/api/v1/campaigns", params={"page_size": 100})
    rows = [("tenant", "campaign", "status", "recipients", "sent", "delivered", "read",
             "delivery %", "open %", "vouchers")]  # fmt: skip
    for campaign in page["items"]:
        if kind_of(campaign["id"]) != "SEGMENT":
            continue
        report = api.call("GET", f"/api/v1/campaigns/{campaign['id']}/analytics")
        metrics = report["metrics"]
        vouchers = report.get("vouchers") or {}
        rows.append(
            (
                cnpj.value,
                campaign["name"],
                campaign["status"],
                str(metrics["total_recipients"]),
                str(metrics["messages_sent"]),
                str(metrics["messages_delivered"]),
                str(metrics["messages_read"]),
                f"{metrics['delivery_rate']:.2f}",
                f"{metrics['open_rate']:.2f}",
                str(vouchers.get("issued", "")),
            )
        )
    if len(rows) == 1:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
