"""The /messages request body (template parameters) and the webhook signature."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.campaign_settings import TemplateRef
from shared.domain.errors import FieldError
from shared.whatsapp.requests_body import parameter_values, template_message
from shared.whatsapp.signature import HEADER, is_valid, sign

BIRTHDAY = TemplateRef(name="aniversario_cupom", parameters=["first_name", "voucherCode"])


@pytest.mark.parametrize(
    ("parameters", "name", "data", "expected"),
    [
        (["first_name"], "joão da silva", {}, ["João"]),
        (["first_name"], "  MARIA  souza ", {}, ["Maria"]),
        (["name"], "  Maria Souza ", {}, ["Maria Souza"]),
        (
            ["first_name", "voucherCode", "visit_count"],
            "Ana",
            {"voucherCode": "ANIV10", "visit_count": 7},
            ["Ana", "ANIV10", "7"],
        ),
        (["visit_count", "first_name"], "Ana", {"visit_count": 0}, ["0", "Ana"]),
        ([], "Ana", {}, []),
    ],
)
def test_parameter_values_in_template_order(
    parameters: list[str], name: str, data: dict[str, Any], expected: list[str]
) -> None:
    template = TemplateRef(name="t", parameters=parameters)
    assert parameter_values(template, name, data) == expected


@pytest.mark.parametrize(
    ("name", "data", "missing"),
    [
        ("Ana", {}, "voucherCode"),
        ("Ana", {"voucherCode": None}, "voucherCode"),
        ("Ana", {"voucherCode": "   "}, "voucherCode"),
        ("Ana", {"voucher_code": "ANIV10"}, "voucherCode"),
        ("", {"voucherCode": "ANIV10"}, "first_name"),
        ("   ", {"voucherCode": "ANIV10"}, "first_name"),
    ],
)
def test_missing_or_blank_value_names_the_parameter(
    name: str, data: dict[str, Any], missing: str
) -> None:
    with pytest.raises(FieldError) as caught:
        parameter_values(BIRTHDAY, name, data)
    assert caught.value.field == f"template.parameters.{missing}"


@pytest.mark.parametrize(
    ("length", "kept"), [(1023, 1023), (1024, 1024), (1025, 1024), (5000, 1024)]
)
def test_long_value_is_cut_at_the_body_limit(length: int, kept: int) -> None:
    template = TemplateRef(name="t", parameters=["note"])
    [value] = parameter_values(template, "Ana", {"note": "x" * length})
    assert value == "x" * kept


def test_template_message_matches_the_cloud_api_payload() -> None:
    body = template_message("+5561999999999", BIRTHDAY, ["João", "ANIV10"], "users/X/targets/c1#1")
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5561999999999",
        "type": "template",
        "template": {
            "name": "aniversario_cupom",
            "language": {"code": "pt_BR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "João"},
                        {"type": "text", "text": "ANIV10"},
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": "users/X/targets/c1#1",
    }


def test_template_message_uses_the_templates_language() -> None:
    template = TemplateRef(name="birthday", language="en_US", parameters=[])
    body = template_message("5561999999999", template, [], "ref#0")
    assert body["to"] == "5561999999999"
    assert body["template"]["language"] == {"code": "en_US"}
    assert body["template"]["components"] == [{"type": "body", "parameters": []}]


# -- signature ---------------------------------------------------------------------------------

BODY = b'{"object":"whatsapp_business_account","entry":[]}'
SECRET = "app-secret"


def test_header_name() -> None:
    assert HEADER == "X-Hub-Signature-256"


def test_sign_is_hmac_sha256_hex() -> None:
    # RFC-style known vector: HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog")
    expected = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert sign(b"The quick brown fox jumps over the lazy dog", "key") == f"sha256={expected}"


def test_signature_round_trip() -> None:
    assert is_valid(BODY, sign(BODY, SECRET), SECRET)


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        pytest.param(BODY, sign(BODY, "other-secret"), SECRET, id="wrong-secret"),
        pytest.param(BODY + b" ", sign(BODY, SECRET), SECRET, id="tampered-body"),
        pytest.param(BODY.replace(b"[]", b"[1]"), sign(BODY, SECRET), SECRET, id="edited-json"),
        pytest.param(BODY, None, SECRET, id="missing-header"),
        pytest.param(BODY, "", SECRET, id="empty-header"),
        pytest.param(BODY, sign(BODY, SECRET)[len("sha256=") :], SECRET, id="no-prefix"),
        pytest.param(BODY, "sha1=" + sign(BODY, SECRET)[7:], SECRET, id="other-algorithm"),
        pytest.param(BODY, sign(BODY, SECRET)[:-2], SECRET, id="truncated"),
        pytest.param(BODY, sign(BODY, SECRET) + "00", SECRET, id="too-long"),
        pytest.param(BODY, "sha256=", SECRET, id="prefix-only"),
        pytest.param(BODY, "sha256=" + "é" * 64, SECRET, id="non-ascii"),
        pytest.param(BODY, sign(BODY, ""), "", id="empty-secret"),
    ],
)
def test_bad_signature_is_refused(body: bytes, header: str | None, secret: str) -> None:
    assert is_valid(body, header, secret) is False


def test_a_person_known_only_by_bsuid_is_addressed_with_recipient() -> None:
    body = template_message("", BIRTHDAY, ["Ana", "X"], "ref#1", bsuid="BR.1502576394655843")
    assert body["recipient"] == "BR.1502576394655843" and "to" not in body
    assert body["recipient_type"] == "individual" and body["biz_opaque_callback_data"] == "ref#1"


def test_the_phone_wins_over_the_bsuid() -> None:
    body = template_message("+5561999999999", BIRTHDAY, [], "ref#1", bsuid="BR.1502576394655843")
    assert body["to"] == "5561999999999" and "recipient" not in body


@pytest.mark.parametrize("bsuid", ["", "US.ENT.1502576394655843", "5561999999999"])
def test_no_phone_and_no_persons_bsuid_is_a_field_error(bsuid: str) -> None:
    with pytest.raises(FieldError) as caught:
        template_message("  ", BIRTHDAY, [], "ref#1", bsuid=bsuid)
    assert caught.value.field == "phone"
