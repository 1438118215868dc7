"""Cloud Function ``send_message``: a Cloud Task (HTTP, OIDC) -> at most one WhatsApp message."""

import flask
import functions_framework

from shared import logs
from shared.config import get_settings
from shared.entrypoints.http import handle_send_task

logs.configure(get_settings().log_level)


@functions_framework.http
def send_message(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return handle_send_task(request)
