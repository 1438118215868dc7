"""HTTP-triggered functions: ``send_message`` and ``run_occurrence`` (Cloud Tasks, OIDC) and
the public ``api`` (the WhatsApp webhook here; the REST API and the console through
:mod:`shared.api.bridge`).

Cloud Tasks and Meta retry any non-2xx answer, so only a transient failure answers one;
anything a retry cannot fix is logged and answered 200.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import flask

from shared import logs
from shared.bootstrap import container
from shared.domain.delivery import TargetRef
from shared.domain.errors import CampaignError, FieldError, PermanentError, TransientError
from shared.domain.tracked_links import LINK_PATH
from shared.services.link_clicks import Followed, LinkPorts, follow_link, record_tap
from shared.services.occurrence_tasks import OccurrenceTask
from shared.services.process_tenant import TenantPorts
from shared.services.run_occurrence import run_occurrence
from shared.services.send import send_message
from shared.services.webhooks import handle_webhook
from shared.whatsapp import signature

_log = logging.getLogger(__name__)


def handle_send_task(request: flask.Request) -> flask.typing.ResponseReturnValue:
    """Cloud Tasks retries any non-2xx answer, so only a transient failure answers one."""
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict):
            raise FieldError("body", "expected a JSON object")
        ref = TargetRef.parse(str(body.get("target", "")))
        generation = body.get("generation")
        if not isinstance(generation, int) or generation < 1:
            raise FieldError("generation", "expected a positive integer")
    except FieldError as error:
        logs.log(_log, logging.ERROR, "malformed send task acknowledged", error=str(error))
        return {"outcome": "malformed", "error": str(error)}, 200
    try:
        outcome = send_message(ref, generation, container().delivery_ports())
    except TransientError as error:
        logs.log(_log, logging.WARNING, "send will be retried", target=ref.path, error=str(error))
        return {"outcome": "retry", "error": str(error)}, 503
    except PermanentError as error:
        logs.log(_log, logging.ERROR, "send failed permanently", target=ref.path, error=str(error))
        return {"outcome": "error", "error": str(error)}, 200
    return {"outcome": outcome.label, "status": outcome.status}, 200


def handle_occurrence_task(
    request: flask.Request, ports: TenantPorts | None = None
) -> flask.typing.ResponseReturnValue:
    """A campaign occurrence's task (``ports``: the container's unless a test gives its own).

    Cloud Tasks retries only a transient failure; a campaign that cannot run (gone, invalid)
    is logged and acknowledged: the hourly tick tries it again and records why it fails.
    """
    try:
        task = OccurrenceTask.parse(request.get_json(silent=True))
    except FieldError as error:
        logs.log(_log, logging.ERROR, "malformed occurrence task acknowledged", error=str(error))
        return {"outcome": "malformed", "error": str(error)}, 200
    where = {"tenant": task.cnpj.value, "campaign": task.campaign_id}
    try:
        outcome = run_occurrence(task, ports or container().tenant_ports())
    except TransientError as error:
        logs.log(_log, logging.WARNING, "occurrence will be retried", **where, error=str(error))
        return {"outcome": "retry", "error": str(error)}, 503
    except CampaignError as error:
        logs.log(_log, logging.ERROR, "campaign failed", **where, error=str(error))  # alerted
        return {"outcome": "error", "error": str(error)}, 200
    if outcome is None:
        return {"outcome": "nothing_due"}, 200
    return {"outcome": "materialised", "created": outcome.created}, 200


def handle_api(request: flask.Request) -> flask.typing.ResponseReturnValue:
    """The public HTTP function: the WhatsApp webhook here, everything else to the REST API."""
    if request.path.startswith(LINK_PATH):
        return _follow_link(request)
    if request.path.rstrip("/") == "/webhooks/whatsapp":
        if request.method == "GET":
            return _verify_subscription(request)
        if request.method == "POST":
            return _receive_webhook(request)
        return {"error": "method not allowed"}, 405
    from shared.api.bridge import serve  # imported on first use: the webhook needs no FastAPI

    return serve(request)


def _follow_link(request: flask.Request) -> flask.typing.ResponseReturnValue:
    """``/l/<cnpj>/<token>``: a tracked link (:mod:`shared.services.link_clicks`). Never cached,
    so every person's tap reaches us; no referrer, so the target's token stays ours."""
    if request.method not in ("GET", "HEAD"):
        return {"error": "method not allowed"}, 405
    cnpj_value, _, token = request.path[len(LINK_PATH) :].partition("/")
    ports = container().link_ports()
    try:
        followed = follow_link(
            cnpj_value, token, request.method, request.headers.get("User-Agent", ""), ports
        )
    except TransientError as error:
        # The person still gets nowhere else: a retry (their next tap) records the click.
        logs.log(_log, logging.WARNING, "tracked link not recorded", error=str(error))
        return {"error": "try again"}, 503
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if followed is None:
        return "not found", 404, {**headers, "Content-Type": "text/plain"}
    response = flask.Response("", 302, {**headers, "Location": followed.url})
    if followed.tap is not None:  # the click is recorded once the person has their answer
        response.call_on_close(lambda: _record_tap_quietly(followed, ports))
    return response


def _record_tap_quietly(followed: Followed, ports: LinkPorts) -> None:
    """After the answer: a failure before the click record leaves the tap to the person's next
    one, after it leaves the row to the sweeper (:mod:`shared.services.link_clicks`)."""
    try:
        record_tap(followed, ports)
    except Exception as error:
        logs.log(_log, logging.WARNING, "click left to the next tap or sweep", error=repr(error))


def _verify_subscription(request: flask.Request) -> flask.typing.ResponseReturnValue:
    expected = container().settings.whatsapp_verify_token.get_secret_value()
    token = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") == "subscribe"
        and expected
        and signature.constant_time_equal(token, expected)
    ):
        return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain"}
    return {"error": "verification failed"}, 403


def _receive_webhook(request: flask.Request) -> flask.typing.ResponseReturnValue:
    raw = request.get_data(cache=True)
    secret = container().settings.whatsapp_app_secret.get_secret_value()
    if not signature.is_valid(raw, request.headers.get(signature.HEADER), secret):
        logs.log(_log, logging.WARNING, "webhook with a missing or bad signature refused")
        return {"error": "invalid signature"}, 401
    try:
        payload: Any = json.loads(raw)
    except ValueError:
        logs.log(_log, logging.ERROR, "signed webhook that is not JSON acknowledged")
        return {"status": "ignored"}, 200
    if not isinstance(payload, dict):
        return {"status": "ignored"}, 200
    try:
        report = handle_webhook(payload, container().delivery_ports())
    except TransientError as error:
        logs.log(_log, logging.WARNING, "webhook will be retried by Meta", error=str(error))
        return {"error": "try again"}, 503
    return {"status": "ok", **dict(report)}, 200
