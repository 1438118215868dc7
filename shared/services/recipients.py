"""A campaign's recipients (``GET /api/v1/campaigns/{id}/recipients``): its targets, paged.

Each target document is one message to one person; the page shows where it stands, why it
failed, and when it was planned and sent. Phones leave masked (:func:`shared.logs.mask_phone`):
the owner recognises a customer by name and the last digits, and a page or a response is never
a list of numbers to call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from shared.domain.errors import reading_document
from shared.logs import mask_phone
from shared.ports import RecipientList
from shared.services import campaigns as campaign_service
from shared.services.campaigns import CampaignPorts

_SENT_LIKE = (Status.SENT, Status.DELIVERED, Status.READ)


class Recipient(BaseModel):
    target_id: str
    name: str
    phone: str = Field(description="masked: country and area code and the last two digits")
    status: Status
    error_code: int | None = Field(description="WhatsApp's error code of a failed message")
    error_reason: str = Field(description="why it failed or was not sent (e.g. opted_out)")
    period: str = Field(description="the occurrence (period key) the message belongs to")
    planned_at: datetime | None = Field(description="when the send was planned for")
    sent_at: datetime | None = Field(description="when it was sent (null: not yet or never)")
    updated_at: datetime | None


class RecipientPage(BaseModel):
    campaign_id: str
    items: list[Recipient]
    next_page_token: str | None = Field(
        default=None, description="pass as `page_token` for the next page; null on the last"
    )


def recipients_page(
    ports: CampaignPorts,
    recipients: RecipientList,
    cnpj: Cnpj,
    campaign_id: str,
    *,
    status: Status | None,
    after: str | None,
    limit: int,
) -> tuple[list[Recipient], str | None]:
    """One page of the campaign's recipients; NotFoundError when it is not this tenant's."""
    campaign = campaign_service.get_campaign(ports, cnpj, campaign_id)
    return targets_page(recipients, cnpj, campaign.id, status=status, after=after, limit=limit)


def targets_page(
    recipients: RecipientList,
    cnpj: Cnpj,
    campaign_id: str,
    *,
    status: Status | None,
    after: str | None,
    limit: int,
) -> tuple[list[Recipient], str | None]:
    """:func:`recipients_page` for a caller that has read the campaign already (the console's
    pages), so it is not read twice: the targets live under the tenant's own documents, so
    another tenant's id finds none, and the caller has answered 404 for it."""
    found, last = recipients.page(
        cnpj,
        campaign_id,
        status=status.value if status is not None else None,
        after=after,
        limit=limit,
    )
    targets = f"users/{cnpj.value}/campaigns/{campaign_id}/targets"
    page = []
    for target_id, document in found:
        with reading_document(f"{targets}/{target_id}"):
            page.append(recipient_of(target_id, document))
    return page, last


def recipient_of(target_id: str, document: dict[str, Any]) -> Recipient:
    error = document.get("error") or {}
    times = document.get("statusTimes") or {}
    reached = [times[s.value] for s in _SENT_LIKE if isinstance(times.get(s.value), datetime)]
    return Recipient(
        target_id=target_id,
        name=str(document.get("name") or ""),
        phone=mask_phone(str(document.get("phone") or "")),
        status=Status(document.get("status", Status.PENDING)),
        error_code=error.get("code"),
        error_reason=str(error.get("reason") or ""),
        period=str(document.get("period") or ""),
        planned_at=document.get("plannedAt"),
        sent_at=min(reached) if reached else None,
        updated_at=document.get("updatedAt"),
    )
