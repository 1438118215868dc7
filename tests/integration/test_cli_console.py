"""``campaigns signin-link`` and ``campaigns serve-console`` against the running local stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest
import requests

from shared.cli.main import main
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import Stack


def test_the_printed_link_signs_in_once(
    stack: Stack, sample_tenant: Callable[..., Cnpj], capsys: pytest.CaptureFixture[str]
) -> None:
    cnpj = sample_tenant(customers=5)
    assert main(["signin-link", "--cnpj", cnpj.value, "--role", "viewer"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(f"{stack.environment()['CAMPAIGNS_FUNCTIONS_URL']}/api/app/signin?")
    page = requests.get(link, timeout=60)
    assert page.status_code == 200 and "Início" in page.text
    assert requests.get(link, timeout=60).status_code == 401


def test_serve_console_prints_a_working_link_and_stops_on_ctrl_c(
    stack: Stack, sample_tenant: Callable[..., Cnpj]
) -> None:
    sample_tenant(customers=5)
    with subprocess.Popen(  # the context closes the pipe, which the process leaves open
        [sys.executable, "-m", "shared.cli.main", "serve-console"],
        env={**os.environ, **stack.environment()},
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.strip())
            if "Ctrl-C" in line:
                break
        link = next(line for line in lines if "/api/app/signin?token=" in line)
        assert requests.get(link, timeout=60).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
