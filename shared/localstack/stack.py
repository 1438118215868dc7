"""``campaigns stack up | down | status``: the local Google Cloud stack, on 127.0.0.1 only.

Starts the Firestore and Pub/Sub emulators (Google's jars, run with ``java`` directly so the
PID we keep is the JVM's), bqemulator, the Cloud Tasks emulator, one functions host and the
WhatsApp sandbox; then creates the topics and push subscriptions of :mod:`shared.manifest`,
registers its Firestore triggers with the emulator, and writes
``<state dir>/env`` with the standard emulator variables. ``down`` stops exactly the PIDs
recorded in ``<state dir>/state.json`` (after checking each is still the process we started).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from shared.localstack import resources
from shared.manifest import WEBHOOK_PATH

FIRESTORE_JAR = Path(
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
)
PUBSUB_JAR_DIR = Path("/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib")
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60
DEFAULT_PROJECT = "demo-campaigns"
SERVICE_NAMES = ("firestore", "pubsub", "bigquery", "tasks", "functions", "whatsapp")
"""In start order; ``_services`` builds them, ``up`` trusts a state file only if it lists all."""


LOCAL_WHATSAPP = {
    "WHATSAPP_ACCESS_TOKEN": "sandbox-token",
    "WHATSAPP_APP_SECRET": "sandbox-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "sandbox-verify-token",
    "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "100000000000000",  # the sandbox's default account
    "API_JWT_SECRET": "local-api-jwt-secret-not-for-production",
    "LINK_SECRET": "local-link-secret-not-for-production",
}
"""Local-only credentials shared by the sandbox and the functions (never real secrets)."""


_children: dict[int, subprocess.Popen[bytes]] = {}
"""The services this process started and has not yet seen end, by pid. Kept, not dropped: a
running child's ``Popen`` that is garbage-collected warns (ResourceWarning), and only through
it is the child's exit status read, so it never lingers as a zombie."""


class StackError(RuntimeError):
    """The stack cannot start; the message says what is missing and how to get it."""


@dataclass
class PortNumbers:
    firestore: int = 8080
    pubsub: int = 8085
    bigquery: int = 9050
    bigquery_grpc: int = 9060
    tasks: int = 9123
    functions: int = 8081
    whatsapp: int = 8090

    @classmethod
    def free(cls) -> PortNumbers:
        """Port numbers nobody listens on now (tests run a private stack beside a developer's)."""
        return cls(*(_free_port() for _ in range(7)))


@dataclass
class Service:
    name: str
    port: int
    command: list[str]
    marker: str
    """A string of the process's command line: proves a recorded PID is still ours."""
    env: dict[str, str] = field(default_factory=dict)
    pid: int = 0


@dataclass
class Stack:
    state_dir: Path
    ports: PortNumbers = field(default_factory=PortNumbers)
    project: str = DEFAULT_PROJECT
    delivery: bool = True
    """False: targets are created but no Firestore trigger runs (targeting benchmarks)."""

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "env"

    def environment(self) -> dict[str, str]:
        """The standard variables the official clients (and our Settings) read."""
        return {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "FIRESTORE_EMULATOR_HOST": f"{HOST}:{self.ports.firestore}",
            "PUBSUB_EMULATOR_HOST": f"{HOST}:{self.ports.pubsub}",
            "BIGQUERY_EMULATOR_HOST": f"{HOST}:{self.ports.bigquery}",
            "CLOUD_TASKS_EMULATOR_HOST": f"{HOST}:{self.ports.tasks}",
            "CAMPAIGNS_FUNCTIONS_URL": f"http://{HOST}:{self.ports.functions}",
            "WHATSAPP_API_BASE_URL": f"http://{HOST}:{self.ports.whatsapp}",
            **LOCAL_WHATSAPP,
        }

    # -- up -------------------------------------------------------------------------------

    def up(self, say: Callable[[str], None] = print) -> None:
        running = self._load_running()
        if running is not None:
            say(f"stack already running ({len(running)} services); nothing to do")
            return
        self.down(say=lambda _: None)  # leftovers of a half-dead stack
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        services = self._services()
        started: list[Service] = []
        try:
            for service in services:
                self._start(service)
                started.append(service)
                self._save(started)
            for service in services:
                _wait_ready(service, self.state_dir)
            resources.create_all(self.environment(), self.ports.functions, self.delivery)
        except BaseException:
            self.down(say=lambda _: None)
            raise
        self.env_file.write_text(
            "".join(f"export {key}={value}\n" for key, value in self.environment().items())
        )
        for service in services:
            say(f"  {service.name:<10} {HOST}:{service.port}  pid {service.pid}")
        say(f"stack up; variables in {self.env_file}")

    def _services(self) -> list[Service]:
        ports = self.ports
        java = _require_java()
        venv = Path(sys.prefix)
        return [
            Service(
                "firestore",
                ports.firestore,
                [
                    java,
                    "-Duser.language=en",
                    "-cp",
                    str(_require(FIRESTORE_JAR, "cloud-firestore-emulator")),
                    "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                    f"--host={HOST}",
                    f"--port={ports.firestore}",
                    f"--functions_emulator={HOST}:{ports.functions}",
                ],
                marker="CloudFirestore",
            ),
            Service(
                "pubsub",
                ports.pubsub,
                [java, "-jar", str(_pubsub_jar()), f"--host={HOST}", f"--port={ports.pubsub}"],
                marker="pubsub-emulator",
            ),
            Service(
                "bigquery",
                ports.bigquery,
                [
                    str(_require(venv / "bin" / "bqemulator", "bqemulator (make setup)")),
                    "start",
                    "--rest-host",
                    HOST,
                    "--rest-port",
                    str(ports.bigquery),
                    "--grpc-host",
                    HOST,
                    "--grpc-port",
                    str(ports.bigquery_grpc),
                    "--project",
                    self.project,
                    "--log-level",
                    "warning",
                ],
                marker="bqemulator",
                env={"HOME": str(_bqemulator_home(venv))},
            ),
            Service(
                "tasks",
                ports.tasks,
                [
                    str(
                        _require(
                            venv / "tasks-emulator" / "bin" / "python",
                            "the Cloud Tasks emulator's virtualenv (make setup)",
                        )
                    ),
                    str(Path(__file__).with_name("tasks_emulator_main.py")),
                    "--port",
                    str(ports.tasks),
                ],
                marker="tasks_emulator_main",
            ),
            Service(
                "functions",
                ports.functions,
                [
                    sys.executable,
                    "-m",
                    "shared.localstack.functions_host",
                    "--port",
                    str(ports.functions),
                ],
                marker="functions_host",
                env=self.environment(),
            ),
            Service(
                "whatsapp",
                ports.whatsapp,
                [
                    sys.executable,
                    "-m",
                    "shared.localstack.whatsapp_sandbox",
                    "--port",
                    str(ports.whatsapp),
                    "--webhook-url",
                    f"http://{HOST}:{ports.functions}/api{WEBHOOK_PATH}",
                ],
                marker="whatsapp_sandbox",
                env=self.environment(),
            ),
        ]

    def _start(self, service: Service) -> None:
        env = {**os.environ, **service.env}
        with (self.state_dir / "logs" / f"{service.name}.log").open("ab") as log:
            process = subprocess.Popen(  # the child keeps its own copy of the log's descriptor
                service.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        _children[process.pid] = process
        service.pid = process.pid

    # -- down / status --------------------------------------------------------------------

    def down(self, say: Callable[[str], None] = print) -> None:
        services = self._load()
        # Reverse start order: the functions host and sandbox go first, so no task or webhook
        # in flight waits on an emulator that is already gone.
        for service in reversed(services):
            if service.pid in _children or _is_ours(service):  # a child of ours even as a zombie
                _terminate(service.pid)
                say(f"  stopped {service.name} (pid {service.pid})")
        self.state_file.unlink(missing_ok=True)
        self.env_file.unlink(missing_ok=True)
        say("stack down" if services else "stack was not running")

    def status(self) -> list[tuple[str, str, str]]:
        """(service, address, state) rows."""
        rows = []
        for service in self._load():
            state = f"running (pid {service.pid})" if _is_ours(service) else "stopped"
            rows.append((service.name, f"{HOST}:{service.port}", state))
        return rows

    def _save(self, services: list[Service]) -> None:
        state = {
            "project": self.project,
            "ports": asdict(self.ports),
            "services": [asdict(service) for service in services],
        }
        self.state_file.write_text(json.dumps(state, indent=2))

    def _load(self) -> list[Service]:
        if not self.state_file.exists():
            return []
        state = json.loads(self.state_file.read_text())
        return [Service(**service) for service in state["services"]]

    def _load_running(self) -> list[Service] | None:
        services = self._load()
        complete = [service.name for service in services] == list(SERVICE_NAMES)
        if complete and all(_is_ours(service) for service in services):
            return services
        return None


def load_env(state_dir: Path) -> dict[str, str]:
    """The variables of a running stack (empty if none runs there)."""
    env_file = state_dir / "env"
    if not env_file.exists():
        return {}
    pairs = (
        line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines()
    )
    return {key: value for key, value in pairs}


# -- helpers ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise StackError(f"{what} is missing: expected {path}")
    return path


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("java (17+) is required by the Firestore and Pub/Sub emulators")
    return java


def _pubsub_jar() -> Path:
    jars = sorted(PUBSUB_JAR_DIR.glob("cloud-pubsub-emulator-*-all.jar"))
    if not jars:
        raise StackError(
            "the Pub/Sub emulator is missing: install it with `gcloud components install "
            "pubsub-emulator` or the apt package google-cloud-cli-pubsub-emulator"
        )
    return jars[-1]


def _bqemulator_home(venv: Path) -> Path:
    """bqemulator's DuckDB home, with the spatial/avro extensions installed from their wheels.

    Offline, DuckDB cannot download extensions; the duckdb-extension-* wheels carry them.
    """
    home = venv / "bqemulator-home"
    if not (home / ".duckdb").exists():
        home.mkdir(parents=True, exist_ok=True)
        script = (
            "import duckdb, glob, sysconfig\n"
            "site = sysconfig.get_paths()['purelib']\n"
            "connection = duckdb.connect()\n"
            "for name in ('spatial', 'avro'):\n"
            "    pattern = f'{site}/duckdb_extension_{name}/extensions/*/{name}.duckdb_extension'\n"
            "    connection.execute(f\"INSTALL '{glob.glob(pattern)[0]}'\")\n"
        )
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "HOME": str(home)}, check=True
        )
    return home


def _is_ours(service: Service) -> bool:
    try:
        cmdline = Path(f"/proc/{service.pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return service.pid > 0 and service.marker in cmdline


def _terminate(pid: int) -> None:
    """SIGTERM the process group we created, then SIGKILL what is left after 10 s."""
    child = _children.pop(pid, None)
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        if _ended(pid, child, wait):
            break
    if child is not None and child.poll() is None:
        _children[pid] = child  # alive even after SIGKILL: still ours to reap


def _ended(pid: int, child: subprocess.Popen[bytes] | None, wait: float) -> bool:
    """Whether ``pid`` ended within ``wait`` seconds. A child of ours has ended once its exit
    status is read; /proc alone can mislead, since a threaded process whose main thread has
    exited shows as a zombie while its other threads still run."""
    if child is not None:
        try:
            child.wait(wait)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def _wait_ready(service: Service, state_dir: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not Path(f"/proc/{service.pid}").exists() or _is_zombie(service.pid):
            log = state_dir / "logs" / f"{service.name}.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise StackError(f"{service.name} exited during start-up; its log ends:\n{tail}")
        if _answers(service):
            return
        time.sleep(0.1)
    raise StackError(
        f"{service.name} did not answer on {HOST}:{service.port} within {READY_TIMEOUT_SECONDS} s"
    )


def _answers(service: Service) -> bool:
    if service.name == "tasks":  # gRPC only: an open port is the best cheap signal
        with socket.socket() as probe:
            return probe.connect_ex((HOST, service.port)) == 0
    paths = {
        "bigquery": "/discovery/v1/apis/bigquery/v2/rest",
        "functions": "/healthz",
        "whatsapp": "/healthz",
    }
    try:
        response = requests.get(
            f"http://{HOST}:{service.port}{paths.get(service.name, '/')}", timeout=1
        )
    except requests.RequestException:
        return False
    return response.status_code < 500
