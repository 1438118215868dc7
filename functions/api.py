"""Cloud Function ``api`` (public HTTP): the WhatsApp webhook (and the campaign REST API)."""

import flask
import functions_framework

from shared import logs
from shared.config import get_settings
from shared.entrypoints.http import handle_api

logs.configure(get_settings().log_level)


@functions_framework.http
def api(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return handle_api(request)
