"""``campaigns stack``: a second ``up`` is harmless, ``down`` stops exactly what ``up`` started."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from shared.cli.main import main as cli
from shared.localstack.stack import SERVICE_NAMES, PortNumbers, Stack
from shared.manifest import FUNCTIONS


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_twice_status_and_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ports = PortNumbers.free()
    args = ["--state-dir", str(tmp_path)] + [
        item
        for name, port in ports.__dict__.items()
        for item in (f"--{name.replace('_', '-')}-port", str(port))
    ]
    stack_args = [*args[:2], "stack"]
    port_args = args[2:]
    assert cli([*stack_args, "up", *port_args]) == 0
    try:
        state = Stack(tmp_path, ports=ports)
        pids = {service.pid for service in state._load()}
        assert len(pids) == len(SERVICE_NAMES) and all(_alive(pid) for pid in pids)
        env = (tmp_path / "env").read_text()
        assert f"FIRESTORE_EMULATOR_HOST=127.0.0.1:{ports.firestore}" in env
        assert f"BIGQUERY_EMULATOR_HOST=127.0.0.1:{ports.bigquery}" in env
        health = requests.get(f"http://127.0.0.1:{ports.functions}/healthz", timeout=5)
        assert health.text == ",".join(spec.name for spec in FUNCTIONS)

        assert cli([*stack_args, "up", *port_args]) == 0  # harmless: same processes
        assert "already running" in capsys.readouterr().out
        assert {service.pid for service in state._load()} == pids

        assert cli([*stack_args, "status"]) == 0
        status = capsys.readouterr().out
        assert (
            status.count("running (pid") == len(SERVICE_NAMES)
            and f"127.0.0.1:{ports.pubsub}" in status
        )
    finally:
        assert cli([*stack_args, "down"]) == 0
    assert not any(_alive(pid) for pid in pids)
    assert not (tmp_path / "env").exists()
