"""Tracked links: a message's ``https://`` parameter becomes our own short redirect (pure).

The rule, kept simple so a campaign author can predict it: at send time, every template
parameter whose value starts with ``https://`` (after the target's fields and the campaign's
``variable_values`` are merged, exactly as the message is filled) is replaced by
``<link base>/l/<cnpj>/<token>``. The link is identified by the parameter's *name*, not its
position, so reordering a template's variables does not move a click to another link.

The token needs no storage to verify: it is the campaign id, target id and parameter name
(base64url) followed by an HMAC-SHA256 over the tenant, the target and the parameter,
truncated to 128 bits (base64url, 22 characters). The HMAC covers the CNPJ in the path, so a
token of one tenant presented under another's path, or any byte changed, does not verify: the
redirect answers 404 and records nothing, with no read. The URL it redirects to is never in
the token: it is read from our data (the campaign's value for that parameter, or the target's
own) when the link is followed, so the redirect cannot be pointed anywhere else (no open
redirect).

Bots (see :func:`is_bot`) get the redirect but record nothing: WhatsApp fetches every link
once to draw its preview, before any person taps it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef

TRACKED_SCHEME = "https://"
"""Only secure links are tracked (and only such a stored value is ever redirected to)."""
LINK_PATH = "/l/"
SIGNATURE_BYTES = 16
"""128 bits: forging one by guessing is out of reach; the URL stays short."""
_FIELD_SEPARATOR = "\n"
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
BOT_USER_AGENTS = (
    "facebookexternalhit",  # Meta's crawler: WhatsApp's and Facebook's link previews
    "whatsapp/",  # WhatsApp clients fetching a preview themselves ("WhatsApp/2.23...")
    "facebot",
    "telegrambot",
    "twitterbot",
    "slackbot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
    "googlebot",
    "bingbot",
    "applebot",
    "bot/",
    "crawler",
    "spider",
    "preview",
)
"""Lower-case substrings of the User-Agent of link-preview fetchers and crawlers."""


def is_trackable(value: str) -> bool:
    """An ``https://`` URL with no spaces or control characters (never a header injection)."""
    return (
        value.startswith(TRACKED_SCHEME)
        and len(value) > len(TRACKED_SCHEME)
        and not any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value)
    )


def is_bot(method: str, user_agent: str) -> bool:
    """A request no person made: a HEAD (previews probe with it), no User-Agent at all, or one
    of :data:`BOT_USER_AGENTS`. Such a request is redirected and never counted as a click."""
    agent = user_agent.strip().lower()
    if method.upper() == "HEAD" or not agent:
        return True
    return any(marker in agent for marker in BOT_USER_AGENTS)


@dataclass(frozen=True, slots=True)
class LinkRef:
    """One link of one target: what a token names."""

    target: TargetRef
    parameter: str

    @property
    def click_id(self) -> str:
        """The Firestore id of its click record: one per (target, link)."""
        return f"{self.target.campaign_id}~{self.target.target_id}~{self.parameter}"

    @property
    def event_id(self) -> str:
        """The history row's id: a retried append is deduplicated by readers."""
        return f"link#{self.target.path}#{self.parameter}"


@dataclass(frozen=True, slots=True)
class LinkSigner:
    """Makes and checks tracked-link URLs with the installation's ``LINK_SECRET``."""

    secret: bytes
    base_url: str
    """Where the ``api`` function answers publicly (the redirect is ``<base_url>/l/...``)."""

    def url(self, link: LinkRef) -> str:
        return f"{self.base_url.rstrip('/')}{LINK_PATH}{self.path(link)}"

    def path(self, link: LinkRef) -> str:
        """The part after ``/l/``: a URL button approved as ``https://<host>/l/{{1}}`` takes it
        as its suffix, so its taps go through the same redirect as a body link."""
        return f"{link.target.cnpj.value}/{self.token(link)}"

    def token(self, link: LinkRef) -> str:
        names = _FIELD_SEPARATOR.join(
            (link.target.campaign_id, link.target.target_id, link.parameter)
        )
        return f"{_b64(names.encode())}.{_b64(self._signature(link))}"

    def verify(self, cnpj_value: str, token: str) -> LinkRef | None:
        """The link ``token`` names under tenant ``cnpj_value``, or None (forged, foreign,
        malformed): the caller answers 404 without reading anything."""
        names_part, dot, signature_part = token.partition(".")
        if not dot or len(token) > 600:
            return None
        try:
            cnpj = Cnpj.parse(cnpj_value)
            fields = _unb64(names_part).decode().split(_FIELD_SEPARATOR)
            signature = _unb64(signature_part)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return None
        if len(fields) != 3 or not _NAME.fullmatch(fields[2]):
            return None
        try:
            target = TargetRef.parse(
                f"users/{cnpj.value}/campaigns/{fields[0]}/targets/{fields[1]}"
            )
        except ValueError:
            return None
        link = LinkRef(target, fields[2])
        if not hmac.compare_digest(signature, self._signature(link)):
            return None
        return link

    def _signature(self, link: LinkRef) -> bytes:
        message = _FIELD_SEPARATOR.join((link.target.path, link.parameter)).encode()
        return hmac.new(self.secret, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]


def tracked_values(
    signer: LinkSigner | None, target: TargetRef, parameters: Sequence[str], values: list[str]
) -> list[str]:
    """``values`` (in the order of ``parameters``) with each ``https://`` one replaced by its
    tracked URL for ``target``; unchanged when no signer is configured."""
    if signer is None:
        return values
    return [
        signer.url(LinkRef(target, name))
        if is_trackable(value) and _NAME.fullmatch(name)
        else value
        for name, value in zip(parameters, values, strict=True)
    ]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
