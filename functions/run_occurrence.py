"""Cloud Function ``run_occurrence``: a Cloud Task (HTTP, OIDC) at an API campaign occurrence's
instant -> its audience materialised, exactly then."""

import flask
import functions_framework

from shared import logs
from shared.config import get_settings
from shared.entrypoints.http import handle_occurrence_task

logs.configure(get_settings().log_level)


@functions_framework.http
def run_occurrence(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return handle_occurrence_task(request)
