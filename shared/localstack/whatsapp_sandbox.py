"""A local stand-in for the WhatsApp Cloud API (Graph ``/messages``) and its status webhooks.

The pipeline must survive what the real API does to it: refusals by error code, answers that
never come after the message was accepted, statuses that arrive late, out of order or only
after retries. Meta offers no sandbox that does this on demand, so this one validates requests
like Meta, records what it accepted, posts signed status webhooks from one background thread,
and injects faults deterministically (``POST /_sandbox/faults``) so tests can reproduce each
outcome. Decisions use a seeded RNG; wamids use uuid4 because a restarted sandbox must never
reissue an id that a store already holds.

Endpoints: ``POST /{version}/{phone_number_id}/messages``, ``POST
/{version}/{phone_number_id}/media`` (an upload: type and size checked, the id kept) and ``GET
/{version}/{WABA_ID}/message_templates`` (the Graph API; every send is checked against the
sending number's account's template registry, :mod:`shared.localstack.template_registry`, body,
header and buttons, :mod:`shared.localstack.template_shapes`; a media id it never issued is
refused);
``POST|DELETE /_sandbox/templates`` (add, change or delete a template; ``notify`` posts its
``message_template_status_update``); ``POST /_sandbox/numbers`` (a number's account);
``GET|POST|DELETE /_sandbox/faults``; ``POST /_sandbox/inbound`` (a customer's message, e.g.
STOP, or one of the identity changes Meta reports as ``system`` messages); ``GET
/_sandbox/messages``; ``GET /_sandbox/stats``; ``DELETE /_sandbox`` (also forgets added
templates); ``GET /healthz``.

People, as Meta has shown them since 2026: each phone has a business-scoped user id (BSUID),
the sandbox's own (set by an inbound or a number change, else derived from the phone, so a test
can predict it with :func:`derived_bsuid`). Webhooks carry both ids, except that a person whose
phone is hidden (a WhatsApp username: ``hide_phone`` on an inbound) or a message sent to a BSUID
(``recipient`` instead of ``to``) comes with the BSUID alone, as Meta does.

Its timestamps are the wall clock's (``time.time``), not a :data:`shared.clock.Clock`: it stands
for Meta's servers, which stamp statuses and inbound messages with their own real time.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server, run_simple
from werkzeug.wrappers import Request, Response

from shared import logs
from shared.domain.identity import is_bsuid, mask_bsuid
from shared.domain.message_parts import MEDIA_LIMITS
from shared.localstack.template_registry import (
    MAX_PAGE,
    InvalidTemplate,
    TemplateRegistry,
)
from shared.localstack.template_shapes import TemplateRefusal, sent_parts
from shared.whatsapp.signature import HEADER, sign

_log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# kind -> (HTTP status, Graph error code, message) for faults that refuse the message.
REFUSALS: dict[str, tuple[int, int, str]] = {
    "rate_limit": (429, 130429, "(#130429) Rate limit hit"),
    "pair_rate": (
        400,
        131056,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    ),
    "server_error": (500, 131000, "(#131000) Something went wrong"),
    "unavailable": (503, 131016, "(#131016) Service unavailable"),
    "undeliverable": (400, 131026, "(#131026) Message undeliverable"),
    "marketing_limit": (400, 131049, "(#131049) Not delivered to maintain ecosystem engagement"),
    "opted_out": (400, 131050, "(#131050) The user stopped marketing messages from this business"),
    "template_missing": (400, 132001, "(#132001) Template name does not exist in the translation"),
    "spam": (400, 131048, "(#131048) Spam rate limit hit"),
    "policy": (400, 368, "(#368) Temporarily blocked for policies violations"),
}
AMBIGUOUS_KINDS = frozenset({"timeout_after_accept", "drop_connection"})
FAULT_KINDS = frozenset({*REFUSALS, *AMBIGUOUS_KINDS, "async_failed"})
DEFAULT_ASYNC_CODE = 131049
"""The per-user marketing limit is the error Meta most often reports only in a webhook."""

_VERSION = re.compile(r"v\d+\.\d+")
_PHONE = re.compile(r"\+?\d{6,15}")
_TITLES = {code: message.split(") ", 1)[1] for _, code, message in REFUSALS.values()}


@dataclass(frozen=True)
class SandboxConfig:
    """Delays are measured from the previous status (sent from acceptance), so order holds."""

    access_token: str = "sandbox-token"  # noqa: S105 - a well-known local value, not a secret
    app_secret: str = "sandbox-secret"  # noqa: S105 - idem
    webhook_url: str | None = None
    """None: accept and record messages but post no webhook."""
    sent_delay_seconds: float = 0.2
    delivered_delay_seconds: float = 0.5
    read_delay_seconds: float = 1.0
    delivered_probability: float = 1.0
    read_probability: float = 0.6
    seed: int = 0
    ambiguous_delay_seconds: float = 30.0
    webhook_retries: int = 5
    webhook_backoff_seconds: float = 0.2
    """Retry n waits ``backoff * 2**n``: Meta retries non-2xx answers, so must the sandbox."""
    webhook_timeout_seconds: float = 5.0
    check_templates: bool = True
    """Check every send against the registry (:mod:`shared.localstack.template_registry`)."""
    waba_id: str = "100000000000000"
    """The business account of every number not given one (``POST /_sandbox/numbers``)."""
    display_phone_number: str = "15550000000"


@dataclass(frozen=True)
class AcceptedMessage:
    wamid: str
    to: str
    """Digits only, the ``wa_id`` the sandbox answered; empty for a message sent to a BSUID."""
    phone_number_id: str
    template: str
    language: str
    parameters: list[str]
    biz_opaque_callback_data: str | None
    received_at: float
    """Unix seconds."""
    fault: str | None
    """The ambiguous or async fault applied to it, if any."""
    user_id: str = ""
    """The recipient's BSUID: the ``recipient`` it was sent to, or the phone's person's."""
    components: list[dict[str, Any]] = field(default_factory=list)
    """The send's header and button components, as received (the body is ``parameters``)."""


@dataclass
class Fault:
    kind: str
    to: str | None = None
    """Digits or a BSUID (the recipient as sent); None matches every recipient."""
    times: int | None = None
    """Uses left; None is unlimited."""
    probability: float = 1.0
    code: int | None = None
    """Only for ``async_failed``: the code of the ``failed`` status."""


class GraphError(Exception):
    """A refusal, answered with Meta's error envelope."""

    def __init__(self, status: int, code: int, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> Response:
        error = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"details": self.details or self.message},
            "fbtrace_id": uuid.uuid4().hex[:22],
        }
        return _json({"error": error}, self.status)


def _invalid(field_name: str, problem: str) -> GraphError:
    return GraphError(400, 100, f"(#100) Invalid parameter: {field_name} {problem}", field_name)


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    body: bytes = field(compare=False)
    """Serialised once: retries resend, and the signature covers, these exact bytes."""
    attempt: int = field(default=0, compare=False)


_ROUTES = Map(
    [
        Rule("/healthz", endpoint="health", methods=["GET"]),
        Rule("/_sandbox", endpoint="reset", methods=["DELETE"]),
        Rule("/_sandbox/messages", endpoint="messages", methods=["GET"]),
        Rule("/_sandbox/stats", endpoint="stats", methods=["GET"]),
        Rule("/_sandbox/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule("/_sandbox/inbound", endpoint="inbound", methods=["POST"]),
        Rule("/_sandbox/templates", endpoint="templates", methods=["POST", "DELETE"]),
        Rule("/_sandbox/numbers", endpoint="numbers", methods=["POST"]),
        Rule("/<version>/<phone_number_id>/messages", endpoint="send", methods=["POST"]),
        Rule("/<version>/<phone_number_id>/media", endpoint="media", methods=["POST"]),
        Rule("/<version>/<waba_id>/message_templates", endpoint="list_templates", methods=["GET"]),
    ]
)


class Sandbox:
    """State, configuration and the WSGI app (the instance is the app); ``close()`` when done."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._seq = 0
        self._queue: list[_Delivery] = []
        self._in_flight = 0
        self._http = requests.Session()
        self._http.trust_env = False  # a local receiver: never through a proxy from the env
        self._reset_locked()
        self._worker = threading.Thread(target=self._post_loop, name="wa-webhooks", daemon=True)
        self._worker.start()

    # ---- state -------------------------------------------------------------------------------

    def _reset_locked(self) -> None:
        self._rng = random.Random(self.config.seed)
        self._messages: list[AcceptedMessage] = []
        self._faults: list[Fault] = []
        self._requests: Counter[str] = Counter()
        self._refused: Counter[int] = Counter()
        self._posted = self._failed = self._retried = 0
        self._queue.clear()
        self._people: dict[str, str] = {}
        """Phone digits -> the BSUID the sandbox gave that person (else :func:`derived_bsuid`)."""
        self.registry = TemplateRegistry()
        self._accounts: dict[str, str] = {}
        """phone_number_id -> its business account (else ``config.waba_id``)."""
        self._media: dict[str, str] = {}
        """Media ids this sandbox issued (``POST /{number}/media``) -> their MIME type."""

    def reset(self) -> None:
        """Forget messages, stats, faults and webhooks not yet posted; re-seed the RNG."""
        with self._cond:
            self._reset_locked()
            self._cond.notify_all()

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"kind: unknown fault {fault.kind!r}")
        with self._cond:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    def faults(self) -> list[Fault]:
        with self._cond:
            return [Fault(**asdict(f)) for f in self._faults]

    def messages(self) -> list[AcceptedMessage]:
        with self._cond:
            return list(self._messages)

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "requests": sum(self._requests.values()),
                "accepted": len(self._messages),
                "refused": {str(code): n for code, n in self._refused.items()},
                "requests_per_recipient": dict(self._requests),
                "webhooks_posted": self._posted,
                "webhooks_failed": self._failed,
                "webhook_retries": self._retried,
                "webhooks_pending": len(self._queue) + self._in_flight,
            }

    # ---- sending -----------------------------------------------------------------------------

    def bsuid_of(self, phone: str) -> str:
        """The BSUID the sandbox's Meta gives the person with this phone (digits, ``+`` allowed)."""
        digits = phone.lstrip("+")
        with self._cond:
            return self._people.get(digits) or derived_bsuid(digits)

    def _send(self, request: Request, version: str, phone_number_id: str) -> Response:
        body = _json_body(request)
        raw_to = _addressee(body)
        with self._cond:
            self._requests[str(raw_to).lstrip("+") if raw_to is not None else "?"] += 1
        try:
            if request.headers.get("Authorization") != f"Bearer {self.config.access_token}":
                raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
            if not _VERSION.fullmatch(version):
                raise GraphError(400, 100, f"Unknown API version {version!r}", "version")
            template, language, parameters = _validate(body)
            components = [c for c in body["template"].get("components", []) if c["type"] != "body"]
            if self.config.check_templates:
                self._check_template(
                    phone_number_id, template, language, len(parameters), components
                )
            by_phone = "to" in body
            to = str(body["to"]).lstrip("+") if by_phone else ""
            with self._cond:
                user_id = (
                    (self._people.get(to) or derived_bsuid(to)) if by_phone else body["recipient"]
                )
                fault = self._pick_fault(to or user_id)
                if fault is not None and fault.kind in REFUSALS:
                    raise GraphError(*REFUSALS[fault.kind])
                message = AcceptedMessage(
                    wamid=f"wamid.{uuid.uuid4().hex.upper()}",
                    to=to,
                    phone_number_id=phone_number_id,
                    template=template,
                    language=language,
                    parameters=parameters,
                    biz_opaque_callback_data=body.get("biz_opaque_callback_data"),
                    received_at=time.time(),
                    fault=fault.kind if fault else None,
                    user_id=user_id,
                    components=components,
                )
                self._messages.append(message)
                self._schedule_statuses(message, fault)
        except GraphError as error:
            with self._cond:
                self._refused[error.code] += 1
            to_masked = _masked(str(raw_to or ""))
            logs.log(_log, logging.INFO, "message refused", code=error.code, to=to_masked)
            return error.response()
        logs.log(_log, logging.INFO, "message accepted", wamid=message.wamid, fault=message.fault)
        if message.fault == "drop_connection":
            _drop(request)
        if message.fault == "timeout_after_accept":
            self._closing.wait(self.config.ambiguous_delay_seconds)
        contact = (
            {"input": str(body["to"]), "wa_id": to}
            if by_phone
            else {"input": message.user_id, "user_id": message.user_id}
        )
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": message.wamid}],
        }
        return _json(answer)

    def account_of(self, phone_number_id: str) -> str:
        """The business account (WABA) a number belongs to."""
        with self._cond:
            return self._accounts.get(phone_number_id, self.config.waba_id)

    def _check_template(
        self,
        phone_number_id: str,
        name: str,
        language: str,
        parameter_count: int,
        components: list[dict[str, Any]],
    ) -> None:
        with self._cond:
            issued = set(self._media)
        try:
            parts = sent_parts(components)
            self.registry.check(
                self.account_of(phone_number_id), name, language, parameter_count, parts, issued
            )
        except TemplateRefusal as refusal:
            raise GraphError(400, refusal.code, refusal.message, refusal.details) from None

    def _pick_fault(self, to: str) -> Fault | None:
        """First matching rule wins; a rule whose probability draw fails lets the next one try."""
        for fault in self._faults:
            if fault.to not in (None, to) or self._rng.random() >= fault.probability:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    def _schedule_statuses(self, message: AcceptedMessage, fault: Fault | None) -> None:
        # Both draws happen for every message so one outcome never shifts the next message's.
        delivered = self._rng.random() < self.config.delivered_probability
        read = self._rng.random() < self.config.read_probability
        steps: list[tuple[str, float]] = [("sent", self.config.sent_delay_seconds)]
        if fault is not None and fault.kind == "async_failed":
            steps.append(("failed", self.config.delivered_delay_seconds))
        elif delivered:
            steps.append(("delivered", self.config.delivered_delay_seconds))
            if read:
                steps.append(("read", self.config.read_delay_seconds))
        code = (fault.code if fault else None) or DEFAULT_ASYNC_CODE
        offset = 0.0
        for status, delay in steps:
            offset += delay
            payload = _status(message, status, time.time() + offset, code)
            value: dict[str, Any] = {"statuses": [payload]}
            if status != "failed":  # Meta sends no contacts with a failure
                value["contacts"] = [_contact(message.to, message.user_id)]
            self._enqueue(_envelope(self.config, message.phone_number_id, value), offset)

    def _inbound(self, request: Request) -> Response:
        """A customer's message or an identity change, posted as Meta would post it.

        ``from`` (phone) and/or ``user_id`` (BSUID) name the customer; ``hide_phone`` leaves
        the phone out of the webhook (a username user). ``system`` is ``user_changed_number``
        (with ``new_phone``) or ``user_changed_user_id`` (optional ``new_user_id``).
        """
        body = _json_body(request)
        if not isinstance(body, dict):
            raise _invalid("body", "must be a JSON object")
        phone = str(body["from"]).lstrip("+") if body.get("from") is not None else None
        if phone is not None and not _PHONE.fullmatch(phone):
            raise _invalid("from", "must be the customer's phone number, digits")
        given = body.get("user_id")
        if given is not None and not (isinstance(given, str) and is_bsuid(given)):
            raise _invalid("user_id", "must be a BSUID (CC. and 1 to 128 letters or digits)")
        if phone is None and given is None:
            raise _invalid("from", "or user_id is required")
        message_id = f"wamid.{uuid.uuid4().hex.upper()}"
        timestamp = str(int(time.time()))
        with self._cond:
            if body.get("system") is not None:
                message = self._system_message(body, phone, given)
                value: dict[str, Any] = {"messages": [{**message, "id": message_id}]}
            else:
                content = _content(body)
                user_id = given or self._people.get(phone or "") or derived_bsuid(phone or "")
                if phone is not None:
                    self._people[phone] = user_id
                shown = None if body.get("hide_phone") else phone
                message = {"from": shown} if shown else {}
                message |= {"from_user_id": user_id, **content}
                contact = {"profile": {"name": str(body.get("name", ""))}}
                value = {
                    "contacts": [contact | _contact(shown or "", user_id)],
                    "messages": [{**message, "id": message_id}],
                }
            value["messages"][0]["timestamp"] = timestamp
            phone_number_id = str(body.get("phone_number_id") or "sandbox-phone-number-id")
            self._enqueue(_envelope(self.config, phone_number_id, value), 0.0)
        sender = value["messages"][0]
        return _json(
            {
                "id": message_id,
                "user_id": _dict(sender.get("system")).get("user_id") or sender["from_user_id"],
                "posted": self.config.webhook_url is not None,
            }
        )

    def _system_message(
        self, body: dict[str, Any], phone: str | None, given: str | None
    ) -> dict[str, Any]:
        """Caller holds the lock. Meta sends these without a ``contacts`` array."""
        kind = body["system"]
        if kind == "user_changed_number":
            new_phone = str(body.get("new_phone", "")).lstrip("+")
            if phone is None or not _PHONE.fullmatch(new_phone):
                raise _invalid("new_phone", "and from (the old phone) are required, digits")
            user_id = given or self._people.pop(phone, None) or derived_bsuid(phone)
            self._people[new_phone] = user_id
            system = {
                "body": f"User changed from {phone} to {new_phone}",
                "wa_id": new_phone,
                "type": kind,
            }
            return {"from": phone, "from_user_id": user_id, "type": "system", "system": system}
        if kind == "user_changed_user_id":
            previous = given or self._people.get(phone or "") or derived_bsuid(phone or "")
            new = body.get("new_user_id") or derived_bsuid(previous)
            if not (isinstance(new, str) and is_bsuid(new)) or new == previous:
                raise _invalid("new_user_id", "must be a new BSUID")
            if phone is not None:
                self._people[phone] = new
            system = {
                "body": "User's business-scoped user id changed",
                "user_id": new,
                "previous_user_id": previous,
                "type": kind,
            }
            return {"from_user_id": new, "type": "system", "system": system}
        raise _invalid("system", "must be user_changed_number or user_changed_user_id")

    # ---- webhooks ----------------------------------------------------------------------------

    def _enqueue(self, envelope: dict[str, Any], delay: float) -> None:
        """Caller holds the lock."""
        if self.config.webhook_url is None:
            return
        self._seq += 1
        body = json.dumps(envelope, ensure_ascii=False).encode()
        heapq.heappush(self._queue, _Delivery(time.monotonic() + delay, self._seq, body))
        self._cond.notify_all()

    def _post_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closing.is_set():
                    wait = self._queue[0].due - time.monotonic() if self._queue else None
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closing.is_set():
                    return
                delivery = heapq.heappop(self._queue)
                self._in_flight += 1
            ok = self._post(delivery.body)
            with self._cond:
                self._in_flight -= 1
                if ok:
                    self._posted += 1
                elif delivery.attempt < self.config.webhook_retries:
                    self._retried += 1
                    delivery.due = time.monotonic() + (
                        self.config.webhook_backoff_seconds * 2**delivery.attempt
                    )
                    delivery.attempt += 1
                    heapq.heappush(self._queue, delivery)
                else:
                    self._failed += 1
                    logs.log(
                        _log, logging.WARNING, "webhook given up", attempts=delivery.attempt + 1
                    )
                self._cond.notify_all()

    def _post(self, body: bytes) -> bool:
        assert self.config.webhook_url is not None
        headers = {"Content-Type": "application/json", HEADER: sign(body, self.config.app_secret)}
        try:
            answer = self._http.post(
                self.config.webhook_url,
                data=body,
                headers=headers,
                timeout=self.config.webhook_timeout_seconds,
            )
        except requests.RequestException:
            return False
        return 200 <= answer.status_code < 300

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every scheduled webhook was posted or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self) -> None:
        """Stop the webhook thread and release requests held by ``timeout_after_accept``."""
        with self._cond:
            self._closing.set()
            self._cond.notify_all()
        self._worker.join(timeout=self.config.webhook_timeout_seconds + 1)
        self._http.close()

    # ---- WSGI --------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = _ROUTES.bind_to_environ(environ).match()
            response = self._dispatch(request, str(endpoint), args)
        except GraphError as error:
            response = error.response()
        except HTTPException as error:
            response = _json(
                {"error": {"message": error.description, "code": 100}}, error.code or 500
            )
        return response(environ, start_response)

    def _dispatch(self, request: Request, endpoint: str, args: Mapping[str, Any]) -> Response:
        if endpoint == "send":
            return self._send(request, args["version"], args["phone_number_id"])
        if endpoint == "inbound":
            return self._inbound(request)
        if endpoint == "media":
            return self._upload_media(request)
        if endpoint == "list_templates":
            return self._list_templates(request, args["version"], args["waba_id"])
        if endpoint == "templates":
            return self._templates_endpoint(request)
        if endpoint == "numbers":
            return self._numbers_endpoint(request)
        if endpoint == "faults":
            return self._faults_endpoint(request)
        if endpoint == "messages":
            return _json([asdict(m) for m in self.messages()])
        if endpoint == "stats":
            return _json(self.stats())
        if endpoint == "reset":
            self.reset()
            return _json({"reset": True})
        return _json({"ok": True})

    # ---- media ---------------------------------------------------------------------------------

    def _upload_media(self, request: Request) -> Response:
        """``POST /{phone_number_id}/media`` (multipart ``messaging_product``, ``file``,
        ``type``): Meta's upload; the id it answers is the one a header may send later."""
        try:
            return self._store_media(request)
        finally:
            request.close()  # the spooled upload's temporary file

    def _store_media(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.config.access_token}":
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.form.get("messaging_product") != "whatsapp":
            raise _invalid("messaging_product", "must be 'whatsapp'")
        upload = request.files.get("file")
        if upload is None:
            raise _invalid("file", "is required")
        mime = request.form.get("type") or upload.mimetype
        limits = [limit for types, limit in MEDIA_LIMITS.values() if mime in types]
        if not limits:
            raise _invalid("type", f"{mime!r} is not a supported media type")
        size = len(upload.read(max(limits) + 1))
        if size > max(limits):
            raise _invalid("file", f"is larger than {max(limits)} bytes for {mime}")
        media_id = str(uuid.uuid4().int)[:16]
        with self._cond:
            self._media[media_id] = mime
        return _json({"id": media_id})

    # ---- the template registry ----------------------------------------------------------------

    def _list_templates(self, request: Request, version: str, waba_id: str) -> Response:
        """``GET /{version}/{WABA_ID}/message_templates?limit=&after=``, paged like Graph."""
        if request.headers.get("Authorization") != f"Bearer {self.config.access_token}":
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if not _VERSION.fullmatch(version):
            raise GraphError(400, 100, f"Unknown API version {version!r}", "version")
        raw_limit = request.args.get("limit", "25")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise _invalid("limit", f"must be 1 to {MAX_PAGE}")
        after = request.args.get("after")
        page = self.registry.page(waba_id, int(raw_limit), after)
        paging: dict[str, Any] = {}
        if page.data:
            first = f"{page.data[0]['name']}@{page.data[0]['language']}"
            last = f"{page.data[-1]['name']}@{page.data[-1]['language']}"
            paging["cursors"] = {"before": first, "after": last}
        if page.after is not None:
            query = f"limit={raw_limit}&after={page.after}"
            paging["next"] = f"{request.host_url}{version}/{waba_id}/message_templates?{query}"
        return _json({"data": page.data, "paging": paging})

    def _templates_endpoint(self, request: Request) -> Response:
        """``POST {"waba_id"?, "template": {...Meta's shape}, "notify"?}`` adds or changes one
        (``notify``: post its ``message_template_status_update`` webhook);
        ``DELETE ?waba_id=&name=&language=`` removes one, as deleting it in Meta's manager."""
        if request.method == "DELETE":
            waba_id = request.args.get("waba_id") or self.config.waba_id
            name, language = request.args.get("name", ""), request.args.get("language", "pt_BR")
            return _json({"deleted": self.registry.delete(waba_id, name, language)})
        body = _json_body(request)
        if not isinstance(body, dict):
            raise _invalid("body", "must be a JSON object")
        waba_id = str(body.get("waba_id") or self.config.waba_id)
        try:
            stored, previous = self.registry.put(waba_id, body.get("template"))
        except InvalidTemplate as error:
            raise _invalid(f"template.{error.field}", str(error)) from None
        if body.get("notify"):
            with self._cond:
                self._enqueue(_template_status_update(waba_id, stored), 0.0)
        return _json({"template": stored, "previous_status": previous})

    def _numbers_endpoint(self, request: Request) -> Response:
        """``POST {"phone_number_id", "waba_id"}``: the number belongs to that account."""
        body = _json_body(request)
        if not isinstance(body, dict):
            raise _invalid("body", "must be a JSON object")
        number, waba_id = str(body.get("phone_number_id", "")), str(body.get("waba_id", ""))
        if not number.isdigit() or not waba_id.isdigit():
            raise _invalid("phone_number_id", "and waba_id must be digits")
        with self._cond:
            self._accounts[number] = waba_id
        return _json({"phone_number_id": number, "waba_id": waba_id})

    def _faults_endpoint(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear_faults()
        elif request.method == "POST":
            self.add_fault(_parse_fault(_json_body(request)))
        return _json({"faults": [asdict(f) for f in self.faults()]})


def _parse_fault(body: Any) -> Fault:
    if not isinstance(body, dict) or body.get("kind") not in FAULT_KINDS:
        raise _invalid("kind", f"must be one of {sorted(FAULT_KINDS)}")
    to, times = body.get("to"), body.get("times")
    probability, code = body.get("probability", 1.0), body.get("code")
    if to is not None and not (_PHONE.fullmatch(str(to)) or is_bsuid(str(to))):
        raise _invalid("to", "must be digits, optionally with a leading +, or a BSUID")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise _invalid("times", "must be a positive integer")
    if not isinstance(probability, int | float) or not 0 <= probability <= 1:
        raise _invalid("probability", "must be between 0 and 1")
    if code is not None and (body["kind"] != "async_failed" or not isinstance(code, int)):
        raise _invalid("code", "is an integer, and only for async_failed")
    return Fault(body["kind"], str(to).lstrip("+") if to else None, times, float(probability), code)


def _validate(body: Any) -> tuple[str, str, list[str]]:
    """Meta's checks, in Meta's order; each refusal names the offending field."""
    if not isinstance(body, dict):
        raise _invalid("body", "must be a JSON object")
    if body.get("messaging_product") != "whatsapp":
        raise _invalid("messaging_product", "must be 'whatsapp'")
    if body.get("recipient_type", "individual") != "individual":
        raise _invalid("recipient_type", "must be 'individual'")
    if "to" in body or "recipient" not in body:  # both: ``to`` wins, as at Meta
        if not isinstance(body.get("to"), str) or not _PHONE.fullmatch(body["to"]):
            raise _invalid("to", "must be a phone number: digits, optionally with a leading +")
    elif not isinstance(body["recipient"], str) or not is_bsuid(body["recipient"]):
        raise _invalid("recipient", "must be a business-scoped user id (BSUID) such as BR.1502…")
    if body.get("type") != "template":
        raise _invalid("type", "must be 'template' (free text needs an open service window)")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        raise _invalid("biz_opaque_callback_data", "must be a string of at most 512 characters")
    template = body.get("template")
    if not isinstance(template, dict):
        raise _invalid("template", "must be an object")
    if not isinstance(template.get("name"), str) or not template["name"]:
        raise _invalid("template.name", "is required")
    language = template.get("language")
    if not isinstance(language, dict) or not isinstance(language.get("code"), str):
        raise _invalid("template.language.code", "is required")
    components = template.get("components", [])
    if not isinstance(components, list):
        raise _invalid("template.components", "must be a list")
    parameters: list[str] = []
    for i, component in enumerate(components):
        if not isinstance(component, dict) or not isinstance(component.get("type"), str):
            raise _invalid(f"template.components[{i}].type", "is required")
        if component["type"] != "body":
            continue
        items = component.get("parameters", [])
        if not isinstance(items, list):
            raise _invalid(f"template.components[{i}].parameters", "must be a list")
        for j, item in enumerate(items):
            where = f"template.components[{i}].parameters[{j}]"
            if not isinstance(item, dict) or item.get("type") != "text":
                raise _invalid(f"{where}.type", "must be 'text'")
            if not isinstance(item.get("text"), str):
                raise _invalid(f"{where}.text", "must be a string")
            parameters.append(item["text"])
    return template["name"], language["code"], parameters


def _status(message: AcceptedMessage, status: str, at: float, code: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message.wamid, "status": status, "timestamp": str(int(at))}
    if message.to:
        entry["recipient_id"] = message.to
    else:  # sent to a BSUID: Meta names the recipient by it alone
        entry["recipient_user_id"] = message.user_id
    if message.biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if status in ("sent", "delivered"):
        entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "marketing"}
    if status == "failed":
        title = _TITLES.get(code, "Message failed")
        details = f"sandbox async_failed fault ({code})"
        entry["errors"] = [
            {"code": code, "title": title, "message": title, "error_data": {"details": details}}
        ]
    return entry


def _template_status_update(waba_id: str, template: dict[str, Any]) -> dict[str, Any]:
    """Meta's ``message_template_status_update`` webhook for a template's current status."""
    value = {
        "event": template["status"],
        "message_template_id": int(template["id"]) if template["id"].isdigit() else template["id"],
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "message_template_category": template["category"],
        "reason": "NONE",
    }
    change = {"field": "message_template_status_update", "value": value}
    entry = {"id": waba_id, "time": int(time.time()), "changes": [change]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def derived_bsuid(seed: str) -> str:
    """A stable BSUID for a phone (digits) or for the BSUID it replaces: what the sandbox's
    Meta calls a person it has not been told about. The country is the phone's (``BR`` for
    +55), as Meta's prefix is, and ``US`` when the seed is not a phone."""
    number = int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16)
    country = "BR" if seed.startswith("55") else "US"
    return f"{country}.{number}"


def _addressee(body: Any) -> Any:
    """Who a send request is for, as sent: ``to`` when present (it wins), else ``recipient``."""
    if not isinstance(body, dict):
        return None
    return body.get("to", body.get("recipient"))


def _masked(addressee: str) -> str:
    return mask_bsuid(addressee) if is_bsuid(addressee) else logs.mask_phone(addressee)


def _contact(phone: str, user_id: str) -> dict[str, str]:
    """An entry of a webhook's ``contacts[]``: the BSUID always, the phone when it is shown."""
    return {"wa_id": phone, "user_id": user_id} if phone else {"user_id": user_id}


def _content(body: dict[str, Any]) -> dict[str, Any]:
    if "text" in body:
        return {"type": "text", "text": {"body": str(body["text"])}}
    if "button_payload" in body:
        button = {"payload": str(body["button_payload"]), "text": str(body.get("button_text", ""))}
        return {"type": "button", "button": button}
    raise _invalid("text", "or button_payload is required")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _envelope(config: SandboxConfig, phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    metadata = {
        "display_phone_number": config.display_phone_number,
        "phone_number_id": phone_number_id,
    }
    change = {
        "field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": config.waba_id, "changes": [change]}],
    }


def _drop(request: Request) -> None:
    """Close the socket with no answer; raising ConnectionAbortedError makes werkzeug treat it as
    a dropped connection and write nothing. The client sees the connection closed before any
    response (``requests.ConnectionError``, "Remote end closed connection without response")."""
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("drop_connection fault")


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.get_data())
    except ValueError:
        return None


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status, mimetype="application/json")


@contextmanager
def serving(app: WsgiApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a thread (port 0 = a free one) and yield its base URL."""
    server = make_server(host, port, app, threaded=True)
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
    config = SandboxConfig(
        access_token=os.environ.get("WHATSAPP_ACCESS_TOKEN", "sandbox-token"),
        app_secret=os.environ.get("WHATSAPP_APP_SECRET", "sandbox-secret"),
        webhook_url=args.webhook_url,
        seed=args.seed,
    )
    sandbox = Sandbox(config)
    try:
        run_simple("127.0.0.1", args.port, sandbox, threaded=True)
    finally:
        sandbox.close()


if __name__ == "__main__":
    main()
