"""The WhatsApp sandbox over real HTTP: Meta's answers, every fault, and signed status webhooks.

The pipeline's tests trust this stand-in to behave like the Cloud API, so its own behaviour is
pinned here: a wrong answer from the sandbox would make a wrong pipeline look right.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from shared.domain.approved_templates import DEFAULT_TEMPLATES
from shared.localstack.template_registry import default_seed
from shared.localstack.whatsapp_sandbox import REFUSALS, Sandbox, SandboxConfig, serving
from shared.whatsapp.signature import HEADER, is_valid
from shared.whatsapp.templates_api import PAGE_SIZE as MetaPAGE
from shared.whatsapp.templates_api import MetaRefused, MetaTemplateSource

TOKEN, SECRET, PHONE_ID = "test-token", "test-secret", "1234567890"
CUSTOMER, OTHER = "5561999990001", "5561999990002"
WABA = "100000000000000"
"""The sandbox's default business account: every number not given another."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = {
    "access_token": TOKEN,
    "app_secret": SECRET,
    "sent_delay_seconds": 0.01,
    "delivered_delay_seconds": 0.02,
    "read_delay_seconds": 0.03,
    "delivered_probability": 1.0,
    "read_probability": 1.0,
    "webhook_backoff_seconds": 0.01,
}


@dataclass
class Receiver:
    """A webhook endpoint that records raw bodies and can be told to answer 500 a few times."""

    url: str = ""
    fail_next: int = 0
    calls: list[tuple[bytes, dict[str, str], int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        with self.lock:
            status = 500 if self.fail_next > 0 else 200
            self.fail_next -= status == 500
            self.calls.append((request.get_data(), dict(request.headers), status))
        return Response(status=status)(environ, start)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _, status in self.calls if status == 200]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        changes = [post["entry"][0]["changes"][0] for post in self.accepted()]
        values = [c["value"] for c in changes if c["field"] == "messages"]
        return [s for v in values for s in v["statuses"] if wamid in (None, s["id"])]


@dataclass
class Box:
    sandbox: Sandbox
    url: str

    def send(self, body: dict[str, Any], token: str = TOKEN, timeout: float = 5) -> Any:
        return requests.post(
            f"{self.url}/v21.0/{PHONE_ID}/messages",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def fault(self, **rule: Any) -> None:
        requests.post(f"{self.url}/_sandbox/faults", json=rule, timeout=5).raise_for_status()

    def put_template(
        self, template: dict[str, Any], waba_id: str = WABA, notify: bool = False
    ) -> None:
        body: dict[str, Any] = {"waba_id": waba_id, "template": template, "notify": notify}
        requests.post(f"{self.url}/_sandbox/templates", json=body, timeout=5).raise_for_status()

    def control(self, method: str, path: str) -> Any:
        answer = requests.request(method, f"{self.url}/_sandbox{path}", timeout=5)
        answer.raise_for_status()
        return answer.json()


def list_templates(box: Box, limit: int) -> dict[str, Any]:
    url = f"{box.url}/v21.0/{WABA}/message_templates?limit={limit}"
    answer = requests.get(url, headers=AUTH, timeout=5)
    answer.raise_for_status()
    return dict(answer.json())


def message(to: str = CUSTOMER, *params: str, callback: str = "target-1") -> dict[str, Any]:
    parameters = [{"type": "text", "text": p} for p in params or ("Ana", "NIVER10")]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": "aniversario_cupom",
            "language": {"code": "pt_BR"},
            "components": [{"type": "body", "parameters": parameters}],
        },
        "biz_opaque_callback_data": callback,
    }


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with serving(hook) as url:
        hook.url = f"{url}/webhook"
        yield hook


@pytest.fixture
def start(receiver: Receiver) -> Iterator[Callable[..., Box]]:
    with ExitStack() as stack:

        def make(**overrides: Any) -> Box:
            sandbox = Sandbox(SandboxConfig(**{**FAST, "webhook_url": receiver.url, **overrides}))
            url = stack.enter_context(serving(sandbox))
            stack.callback(sandbox.close)  # first: releases held requests before the server stops
            return Box(sandbox, url)

        yield make


@pytest.fixture
def box(start: Callable[..., Box]) -> Box:
    return start()


def test_an_accepted_message_is_answered_like_meta_and_recorded(box: Box) -> None:
    answer = box.send(message("+" + CUSTOMER, "Ana", "10%"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+" + CUSTOMER, "wa_id": CUSTOMER}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert box.send(message()).json()["messages"][0]["id"] != wamid
    recorded = box.control("GET", "/messages")[0]
    assert recorded["wamid"] == wamid and recorded["to"] == CUSTOMER
    assert recorded["phone_number_id"] == PHONE_ID and recorded["template"] == "aniversario_cupom"
    assert (recorded["language"], recorded["parameters"]) == ("pt_BR", ["Ana", "10%"])
    assert recorded["biz_opaque_callback_data"] == "target-1" and recorded["received_at"] > 0
    stats = box.control("GET", "/stats")
    assert (stats["accepted"], stats["requests_per_recipient"]) == (2, {CUSTOMER: 2})
    assert requests.get(f"{box.url}/healthz", timeout=5).status_code == 200


def test_a_wrong_token_is_refused_with_190_and_nothing_is_sent(box: Box) -> None:
    answer = box.send(message(), token="stolen")
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["fbtrace_id"] and error["error_data"]["details"]
    assert box.sandbox.messages() == []
    assert box.sandbox.stats()["refused"] == {"190": 1}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is None:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutation", "field_name"),
    [
        (_set("messaging_product", "sms"), "messaging_product"),
        (_set("to", "55-61-9999"), "to"),
        (_set("type", "text"), "type"),
        (_set("template.name", None), "template.name"),
        (_set("template.language", None), "template.language.code"),
        (_set("template.components.0.parameters.0.type", "image"), "parameters[0].type"),
        (_set("template.components.0.parameters.0.text", 7), "parameters[0].text"),
    ],
)
def test_a_malformed_body_is_refused_naming_the_field(
    box: Box, mutation: Callable[[dict[str, Any]], None], field_name: str
) -> None:
    body = message()
    mutation(body)
    answer = box.send(body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 100
    assert field_name in answer.json()["error"]["message"]
    assert box.sandbox.messages() == []


def test_sends_are_checked_against_the_registry_as_meta_does(box: Box) -> None:
    assert box.send(message(CUSTOMER, "Ana", "10%")).status_code == 200
    wrong_count = box.send(message(CUSTOMER, "Ana"))
    error = wrong_count.json()["error"]
    assert (wrong_count.status_code, error["code"]) == (400, 132000)
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert "expected number of params (2)" in error["error_data"]["details"]
    unknown = message()
    unknown["template"]["name"] = "natal"
    assert box.send(unknown).json()["error"]["code"] == 132001
    other_language = message()
    other_language["template"]["language"]["code"] = "en_US"
    assert box.send(other_language).json()["error"]["code"] == 132001
    assert len(box.sandbox.messages()) == 1
    assert box.sandbox.stats()["refused"] == {"132000": 1, "132001": 2}


def test_the_registry_holds_every_default_template_in_metas_shape(box: Box) -> None:
    listed = list_templates(box, limit=100)
    by_name = {t["name"]: t for t in listed["data"]}
    assert {t.name for t in DEFAULT_TEMPLATES} <= set(by_name)
    birthday = by_name["feliz_aniversario"]
    assert birthday["status"] == "APPROVED" and birthday["category"] == "MARKETING"
    assert birthday["parameter_format"] == "POSITIONAL" and birthday["language"] == "pt_BR"
    assert (
        birthday["components"][0]["type"] == "BODY" and "{{1}}" in birthday["components"][0]["text"]
    )
    assert "next" not in listed["paging"]


def test_the_list_is_paged_like_graph(box: Box) -> None:
    everything = [t["name"] for t in list_templates(box, limit=100)["data"]]
    seen: list[str] = []
    page = list_templates(box, limit=3)
    while True:
        seen += [t["name"] for t in page["data"]]
        if "next" not in page["paging"]:
            break
        assert len(page["data"]) == 3
        page = requests.get(page["paging"]["next"], headers=AUTH, timeout=5).json()
    assert seen == everything
    wrong_token = requests.get(f"{box.url}/v21.0/{WABA}/message_templates", timeout=5)
    assert wrong_token.json()["error"]["code"] == 190


def test_a_changed_template_is_listed_checked_and_announced(box: Box, receiver: Receiver) -> None:
    template = {
        "name": "promo_junho",
        "language": "pt_BR",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "status": "APPROVED",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Junho"},
            {"type": "BODY", "text": "Oi {{first_name}}, use {{code}}!"},
            {"type": "FOOTER", "text": "Responda SAIR para sair"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Parar promoções"}]},
        ],
    }
    box.put_template(template)
    promo = message(CUSTOMER, "Ana", "JUN10")
    promo["template"]["name"] = "promo_junho"
    assert box.send(promo).status_code == 200
    box.put_template({**template, "status": "PAUSED"}, notify=True)
    assert box.send(promo).json()["error"]["code"] == 132015
    assert box.sandbox.wait_idle()
    changes = [post["entry"][0]["changes"][0] for post in receiver.accepted()]
    (change,) = [c for c in changes if c["field"] == "message_template_status_update"]
    assert change["value"]["event"] == "PAUSED"
    assert change["value"]["message_template_name"] == "promo_junho"
    assert change["value"]["message_template_language"] == "pt_BR"
    listed = {t["name"]: t for t in list_templates(box, limit=100)["data"]}
    assert listed["promo_junho"]["status"] == "PAUSED"
    box.control("DELETE", "/templates?name=promo_junho&language=pt_BR")
    assert box.send(promo).json()["error"]["code"] == 132001


def test_a_template_that_is_not_metas_shape_is_refused_naming_the_field(box: Box) -> None:
    answer = requests.post(
        f"{box.url}/_sandbox/templates",
        json={"template": {"name": "x", "components": [{"type": "FOOTER", "text": "a"}]}},
        timeout=5,
    )
    assert answer.status_code == 400 and "template.components" in answer.json()["error"]["message"]


def test_each_business_account_has_its_own_registry(box: Box) -> None:
    requests.post(
        f"{box.url}/_sandbox/numbers",
        json={"phone_number_id": PHONE_ID, "waba_id": "42"},
        timeout=5,
    ).raise_for_status()
    only_there = {
        "name": "so_aqui",
        "components": [{"type": "BODY", "text": "Oi {{1}} e {{2}}"}],
    }
    box.put_template(only_there, waba_id="42")
    mine = message()
    mine["template"]["name"] = "so_aqui"
    assert box.send(mine).status_code == 200
    assert "so_aqui" not in {t["name"] for t in list_templates(box, limit=100)["data"]}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_a_refusing_fault_answers_its_status_and_code_and_sends_nothing(
    box: Box, kind: str
) -> None:
    box.fault(kind=kind, to=CUSTOMER)
    answer = box.send(message())
    http_status, code, _ = REFUSALS[kind]
    assert answer.status_code == http_status
    assert answer.json()["error"]["code"] == code
    assert box.sandbox.messages() == []
    assert box.send(message(OTHER)).status_code == 200, "the fault targets one recipient only"
    assert [m.to for m in box.sandbox.messages()] == [OTHER]
    assert box.sandbox.stats()["refused"] == {str(code): 1}


def test_times_counts_down_and_delete_clears_the_faults(box: Box) -> None:
    box.fault(kind="rate_limit", times=2)
    assert [box.send(message()).status_code for _ in range(3)] == [429, 429, 200]
    stats = box.control("GET", "/stats")
    assert stats["requests_per_recipient"] == {CUSTOMER: 3}
    assert (stats["accepted"], stats["refused"]) == (1, {"130429": 2})
    box.fault(kind="spam")
    assert box.send(message()).status_code == 400
    assert box.control("DELETE", "/faults") == {"faults": []}
    assert box.send(message()).status_code == 200
    box.fault(kind="policy")
    box.control("DELETE", "")
    assert box.control("GET", "/messages") == []
    assert box.send(message()).status_code == 200


def test_fault_probability_is_reproducible_from_the_seed(start: Callable[..., Box]) -> None:
    outcomes = []
    for _ in range(2):
        box = start(seed=7, webhook_url=None)
        box.fault(kind="server_error", probability=0.5)
        outcomes.append([box.send(message()).status_code for _ in range(12)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}


def test_a_timeout_after_acceptance_still_sends_the_message(
    start: Callable[..., Box], receiver: Receiver
) -> None:
    box = start(ambiguous_delay_seconds=2)
    box.fault(kind="timeout_after_accept", times=1)
    with pytest.raises(requests.ReadTimeout):
        box.send(message(), timeout=0.5)
    [recorded] = box.sandbox.messages()
    assert recorded.fault == "timeout_after_accept"
    assert box.sandbox.wait_idle(5)
    assert [s["status"] for s in receiver.statuses(recorded.wamid)] == ["sent", "delivered", "read"]


def test_a_dropped_connection_still_sends_the_message(box: Box, receiver: Receiver) -> None:
    box.fault(kind="drop_connection", times=1)
    with pytest.raises(requests.ConnectionError):
        box.send(message())
    [recorded] = box.sandbox.messages()
    assert box.sandbox.wait_idle(5)
    assert [s["status"] for s in receiver.statuses(recorded.wamid)] == ["sent", "delivered", "read"]
    assert box.send(message()).status_code == 200, "the fault was used once"


def test_status_webhooks_are_signed_meta_envelopes_in_order(box: Box, receiver: Receiver) -> None:
    wamid = box.send(message()).json()["messages"][0]["id"]
    assert box.sandbox.wait_idle(5)
    assert len(receiver.calls) == 3
    for raw, headers, _ in receiver.calls:
        assert is_valid(raw, headers[HEADER], SECRET)
        assert not is_valid(raw, headers[HEADER], "another-secret")
        assert headers["Content-Type"] == "application/json"
    post = receiver.accepted()[0]
    assert post["object"] == "whatsapp_business_account"
    change = post["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["metadata"]["phone_number_id"] == PHONE_ID
    statuses = receiver.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert (status["id"], status["recipient_id"]) == (wamid, CUSTOMER)
        assert status["biz_opaque_callback_data"] == "target-1"
        assert status["timestamp"].isdigit()
        assert ("pricing" in status) == (status["status"] != "read")
    assert box.sandbox.stats()["webhooks_posted"] == 3


@pytest.mark.parametrize(
    ("chances", "expected"), [((0.0, 1.0), ["sent"]), ((1.0, 0.0), ["sent", "delivered"])]
)
def test_read_needs_delivered_and_probabilities_apply(
    start: Callable[..., Box], receiver: Receiver, chances: tuple[float, float], expected: list[str]
) -> None:
    box = start(delivered_probability=chances[0], read_probability=chances[1])
    box.send(message())
    assert box.sandbox.wait_idle(5)
    assert [s["status"] for s in receiver.statuses()] == expected


def test_async_failed_posts_sent_then_failed_with_the_code(box: Box, receiver: Receiver) -> None:
    box.fault(kind="async_failed", code=131050)
    answer = box.send(message())
    assert answer.status_code == 200
    assert box.sandbox.wait_idle(5)
    statuses = receiver.statuses(answer.json()["messages"][0]["id"])
    assert [s["status"] for s in statuses] == ["sent", "failed"]
    [error] = statuses[1]["errors"]
    assert error["code"] == 131050 and error["title"] and error["error_data"]["details"]


@pytest.mark.parametrize(
    ("failures", "answers", "outcome"),
    [(2, [500, 500, 200], (1, 2, 0)), (9, [500] * 4, (0, 3, 1))],
    ids=["retried-then-posted", "given-up"],
)
def test_a_failing_receiver_is_retried_with_the_same_bytes(
    start: Callable[..., Box],
    receiver: Receiver,
    failures: int,
    answers: list[int],
    outcome: tuple[int, int, int],
) -> None:
    box = start(delivered_probability=0.0, webhook_retries=3)
    receiver.fail_next = failures
    box.send(message())
    assert box.sandbox.wait_idle(5)
    assert [status for _, _, status in receiver.calls] == answers
    assert len({raw for raw, _, _ in receiver.calls}) == 1
    stats = box.sandbox.stats()
    assert (stats["webhooks_posted"], stats["webhook_retries"], stats["webhooks_failed"]) == outcome


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"text": "STOP"}, {"type": "text", "text": {"body": "STOP"}}),
        (
            {"button_payload": "OPT_OUT", "button_text": "Sair"},
            {"type": "button", "button": {"payload": "OPT_OUT", "text": "Sair"}},
        ),
    ],
)
def test_inbound_posts_a_signed_customer_message(
    box: Box, receiver: Receiver, reply: dict[str, str], expected: dict[str, Any]
) -> None:
    body = {"from": CUSTOMER, "phone_number_id": PHONE_ID, **reply}
    answer = requests.post(f"{box.url}/_sandbox/inbound", json=body, timeout=5)
    assert answer.status_code == 200
    assert box.sandbox.wait_idle(5)
    [(raw, headers, _)] = receiver.calls
    assert is_valid(raw, headers[HEADER], SECRET)
    value = json.loads(raw)["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == PHONE_ID
    [inbound] = value["messages"]
    assert inbound["from"] == CUSTOMER and inbound["id"] == answer.json()["id"]
    assert inbound["timestamp"].isdigit()
    assert {k: inbound[k] for k in expected} == expected


# -- business-scoped user ids (BSUID): both shapes, as Meta sends them since 2026 -------------

PERSON = "BR.1502576394655843"


def _values(receiver: Receiver) -> list[dict[str, Any]]:
    return [post["entry"][0]["changes"][0]["value"] for post in receiver.accepted()]


def _to_bsuid(recipient: str = PERSON) -> dict[str, Any]:
    body = message()
    del body["to"]
    return body | {"recipient": recipient}


def test_a_message_sent_to_a_bsuid_is_answered_and_reported_by_the_bsuid_alone(
    box: Box, receiver: Receiver
) -> None:
    answer = box.send(_to_bsuid())
    assert answer.status_code == 200
    assert answer.json()["contacts"] == [{"input": PERSON, "user_id": PERSON}]
    [recorded] = box.sandbox.messages()
    assert (recorded.to, recorded.user_id) == ("", PERSON)
    assert box.sandbox.wait_idle(5)
    statuses = receiver.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["recipient_user_id"] == PERSON and "recipient_id" not in status
    assert all(value["contacts"] == [{"user_id": PERSON}] for value in _values(receiver))
    assert box.sandbox.stats()["requests_per_recipient"] == {PERSON: 1}


def test_to_wins_over_recipient_as_at_meta(box: Box) -> None:
    answer = box.send(message() | {"recipient": PERSON})
    assert answer.json()["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    assert box.sandbox.messages()[0].to == CUSTOMER


@pytest.mark.parametrize("recipient", ["US.ENT.13491208655302741918", "1502576394655843", ""])
def test_a_recipient_that_is_not_a_persons_bsuid_is_refused(box: Box, recipient: str) -> None:
    answer = box.send(_to_bsuid(recipient))
    assert answer.status_code == 400
    assert "recipient" in answer.json()["error"]["message"]
    assert box.sandbox.messages() == []


def test_statuses_of_a_phone_send_carry_both_ids_and_a_failure_none(
    box: Box, receiver: Receiver
) -> None:
    box.send(message(OTHER))
    box.fault(kind="async_failed", to=PERSON, code=131026)
    box.send(_to_bsuid())
    assert box.sandbox.wait_idle(5)
    by_status = {
        (value["statuses"][0]["status"], value["statuses"][0].get("recipient_id")): value
        for value in _values(receiver)
    }
    contact = {"wa_id": OTHER, "user_id": box.sandbox.bsuid_of(OTHER)}
    assert by_status[("delivered", OTHER)]["contacts"] == [contact]
    assert "contacts" not in by_status[("failed", None)]
    assert by_status[("failed", None)]["statuses"][0]["recipient_user_id"] == PERSON


def test_an_inbound_names_the_person_by_phone_and_bsuid_or_bsuid_alone(
    box: Box, receiver: Receiver
) -> None:
    both = {"from": CUSTOMER, "phone_number_id": PHONE_ID, "text": "oi"}
    answers = [
        requests.post(f"{box.url}/_sandbox/inbound", json=body, timeout=5).json()
        for body in (both, both | {"hide_phone": True}, {"user_id": PERSON, "text": "PARAR"})
    ]
    assert box.sandbox.wait_idle(5)
    values = _values(receiver)
    bsuid = box.sandbox.bsuid_of(CUSTOMER)
    assert [answer["user_id"] for answer in answers] == [bsuid, bsuid, PERSON]
    [first], [hidden], [alone] = (value["messages"] for value in values)
    assert (first["from"], first["from_user_id"]) == (CUSTOMER, bsuid)
    assert values[0]["contacts"] == [{"profile": {"name": ""}, "wa_id": CUSTOMER, "user_id": bsuid}]
    assert "from" not in hidden and hidden["from_user_id"] == bsuid
    assert values[1]["contacts"] == [{"profile": {"name": ""}, "user_id": bsuid}]
    assert "from" not in alone and alone["from_user_id"] == PERSON
    assert alone["text"] == {"body": "PARAR"}


def test_identity_changes_are_system_messages_without_contacts(
    box: Box, receiver: Receiver
) -> None:
    inbound = f"{box.url}/_sandbox/inbound"
    before = box.sandbox.bsuid_of(CUSTOMER)
    requests.post(
        inbound,
        json={"from": CUSTOMER, "system": "user_changed_number", "new_phone": OTHER},
        timeout=5,
    ).raise_for_status()
    assert box.sandbox.bsuid_of(OTHER) == before, "a new number keeps the person's BSUID"
    changed = requests.post(
        inbound, json={"from": OTHER, "system": "user_changed_user_id"}, timeout=5
    ).json()
    assert changed["user_id"] != before and box.sandbox.bsuid_of(OTHER) == changed["user_id"]
    assert box.sandbox.wait_idle(5)
    values = _values(receiver)
    assert all("contacts" not in value for value in values)
    [number], [user_id] = (value["messages"] for value in values)
    assert (number["type"], number["from"], number["from_user_id"]) == ("system", CUSTOMER, before)
    assert number["system"]["type"] == "user_changed_number"
    assert number["system"]["wa_id"] == OTHER
    assert "from" not in user_id and user_id["type"] == "system"
    assert user_id["system"] | {"body": ""} == {
        "body": "",
        "type": "user_changed_user_id",
        "user_id": changed["user_id"],
        "previous_user_id": before,
    }


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"text": "oi"}, "from"),
        ({"from": "5561abc", "text": "oi"}, "from"),
        ({"user_id": "US.ENT.1", "text": "oi"}, "user_id"),
        ({"from": CUSTOMER}, "text"),
        ({"from": CUSTOMER, "system": "user_changed_number"}, "new_phone"),
        ({"from": CUSTOMER, "system": "user_left"}, "system"),
    ],
)
def test_a_malformed_inbound_is_refused_naming_the_field(
    box: Box, receiver: Receiver, body: dict[str, Any], field_name: str
) -> None:
    answer = requests.post(f"{box.url}/_sandbox/inbound", json=body, timeout=5)
    assert answer.status_code == 400
    assert field_name in answer.json()["error"]["message"]
    assert box.sandbox.wait_idle(5) and receiver.calls == []


def test_the_template_client_follows_graphs_pages_to_the_end(box: Box) -> None:
    for n in range(MetaPAGE + 5):
        box.sandbox.registry.put(
            WABA, {"name": f"extra_{n:03d}", "components": [{"type": "BODY", "text": "Oi"}]}
        )
    source = MetaTemplateSource(box.url, "v21.0", TOKEN)
    names = [t["name"] for t in source.list_templates(WABA)]  # two pages of 100 at most
    assert len(names) == len(set(names)) == MetaPAGE + 5 + len(default_seed())
    with pytest.raises(MetaRefused) as refused:
        MetaTemplateSource(box.url, "v21.0", "wrong").list_templates(WABA)
    assert refused.value.code == 190
