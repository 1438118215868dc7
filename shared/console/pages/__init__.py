"""The console's pages, one module per area; each exposes ``router``."""

from __future__ import annotations

from shared.console.pages import campaigns, contacts, home, signin

PAGE_ROUTERS = (signin.router, home.router, campaigns.router, contacts.router)
