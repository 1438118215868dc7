"""The console's pages, one module per area; each exposes ``router``.

``campaign_new`` comes before ``campaigns``: ``/campanhas/nova`` must not be read as a campaign id.
"""

from __future__ import annotations

from shared.console.pages import (
    alerts,
    audit,
    automatic,
    campaign_new,
    campaigns,
    contacts,
    home,
    settings,
    signin,
)

PAGE_ROUTERS = (
    signin.router,
    home.router,
    alerts.router,
    campaign_new.router,
    campaigns.router,
    automatic.router,
    contacts.router,
    settings.router,
    audit.router,
)
