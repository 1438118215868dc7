"""One local process that serves every function of ``functions/`` the way Cloud Functions does.

Each function gets its own functions-framework app, mounted under ``/<name>``; Pub/Sub push
subscriptions POST there and the framework turns the push envelope into the same CloudEvent
that Eventarc delivers in production, and Cloud Tasks (the emulator, or
:class:`~shared.localstack.faithful_tasks.FaithfulCloudTasks`) POST the HTTP functions' tasks
there: ``/send_message`` and ``/run_occurrence``, the URLs ``CAMPAIGNS_FUNCTIONS_URL`` gives.
Firestore-triggered functions are also reachable at the path the Firestore emulator calls,
``/functions/projects/<p>/triggers/<name>``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

import functions_framework
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple
from werkzeug.wrappers import Response

from shared import logs
from shared.config import get_settings
from shared.manifest import FUNCTIONS

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _root_path(app: WsgiApp) -> WsgiApp:
    """A mount point itself has an empty PATH_INFO; Flask would answer 308, a push failure."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return app(environ, start_response)

    return wrapped


def _health(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    names = ",".join(spec.name for spec in FUNCTIONS)
    status = 200 if environ.get("PATH_INFO") == "/healthz" else 404
    return Response(names, status=status)(environ, start_response)


def build_app(project: str) -> WsgiApp:
    mounts: dict[str, WsgiApp] = {}
    for spec in FUNCTIONS:
        app = _root_path(
            functions_framework.create_app(spec.name, str(spec.source), spec.signature)  # type: ignore[no-untyped-call]
        )
        mounts[f"/{spec.name}"] = app
        mounts[f"/functions/projects/{project}/triggers/{spec.name}"] = app
    return DispatcherMiddleware(_health, mounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = get_settings()
    logs.configure(settings.log_level)
    run_simple("127.0.0.1", args.port, build_app(settings.google_cloud_project), threaded=True)


if __name__ == "__main__":
    main()
