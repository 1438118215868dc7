"""Tracked-link tokens and the rules of what is tracked and who counts (pure)."""

from __future__ import annotations

import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.tracked_links import LinkRef, LinkSigner, is_bot, tracked_values

SIGNER = LinkSigner(b"unit-secret", "https://api.example/api/")
OURS = Cnpj.from_base("112223330001")
THEIRS = Cnpj.from_base("44555666000A")
LINK = LinkRef(TargetRef(OURS, "SEG_0YJYV9Q746PJN4AM", "c1_once"), "promo_link")


def test_a_url_names_its_link_and_verifies_under_its_tenant_only() -> None:
    url = SIGNER.url(LINK)
    prefix = f"https://api.example/api/l/{OURS.value}/"
    assert url.startswith(prefix)
    token = url.removeprefix(prefix)
    assert SIGNER.verify(OURS.value, token) == LINK
    assert SIGNER.verify(THEIRS.value, token) is None
    assert LinkSigner(b"another-secret", SIGNER.base_url).verify(OURS.value, token) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "abc",
        "abc.def",
        "é.é",
        "x" * 700,
    ],
)
def test_malformed_tokens_verify_to_nothing(token: str) -> None:
    assert SIGNER.verify(OURS.value, token) is None


def test_every_changed_character_of_a_token_is_refused() -> None:
    token = SIGNER.token(LINK)
    for index, char in enumerate(token):
        changed = token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]
        found = SIGNER.verify(OURS.value, changed)
        assert found is None or found == LINK, index  # base64 padding bits may not matter


def test_a_token_naming_another_target_needs_its_own_signature() -> None:
    other = LinkRef(TargetRef(OURS, "SEG_0YJYV9Q746PJN4AM", "c2_once"), "promo_link")
    names, _, signature = SIGNER.token(other).partition(".")
    _, _, ours = SIGNER.token(LINK).partition(".")
    assert SIGNER.verify(OURS.value, f"{names}.{ours}") is None
    assert SIGNER.verify(OURS.value, f"{names}.{signature}") == other


def test_only_https_parameters_become_tracked_links() -> None:
    values = [
        "Maria",
        "https://lavo.example/x",
        "http://lavo.example/y",
        "https://",
        "https://lavo.example/a b",
        "https://lavo.example/\r\nSet-Cookie: x",
    ]
    parameters = ["first_name", "promo_link", "plain_link", "empty", "spaced", "injected"]

    tracked = tracked_values(SIGNER, LINK.target, parameters, values)

    assert tracked == [
        "Maria",
        SIGNER.url(LinkRef(LINK.target, "promo_link")),
        "http://lavo.example/y",
        "https://",
        "https://lavo.example/a b",
        "https://lavo.example/\r\nSet-Cookie: x",
    ]
    assert tracked_values(None, LINK.target, parameters, values) == values


@pytest.mark.parametrize(
    ("method", "agent", "bot"),
    [
        ("GET", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148 Safari/604.1", False),
        ("GET", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", True),
        ("GET", "WhatsApp/2.24.1.6 A", True),
        ("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("GET", "TelegramBot (like TwitterBot)", True),
        ("GET", "", True),
        ("HEAD", "Mozilla/5.0 (iPhone) Safari/604.1", True),
    ],
)
def test_previews_crawlers_and_heads_are_bots(method: str, agent: str, bot: bool) -> None:
    assert is_bot(method, agent) is bot
