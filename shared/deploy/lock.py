"""``requirements.lock``: every package a deployed function installs, pinned, and tested.

``requirements.txt`` pins only what the code imports; Cloud Build would resolve everything
beneath it afresh at each deploy, so two deploys of the same commit could run different
libraries. The lock pins the whole runtime closure and is staged as each function's
``requirements.txt``.

It is resolved *together with* ``requirements-dev.txt`` and then cut down to what the runtime
needs, so every version in it is the one the test suite runs against (resolved alone, the
runtime would for instance take a protobuf that the BigQuery emulator's grpcio-tools
excludes, and production would run a protobuf no test ever saw). The setup installs the dev
environment with ``-c requirements.lock``, which holds it to the same versions.

The target is Cloud Functions' ``python311`` runtime: CPython 3.11 on Ubuntu 22.04, x86_64
(glibc 2.35). pip decides markers from the interpreter that runs it, so the generator refuses
to run on anything else; wheels are restricted to ones that install on the target.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK_FILE = "requirements.lock"
RUNTIME_FILE = "requirements.txt"
DEV_FILE = "requirements-dev.txt"
TARGET_PYTHON = "3.11"
TARGET_GLIBC_MINOR = 35
"""Ubuntu 22.04, the base image of the python311 runtime."""

HEADER = f"""\
# Every package the deployed Cloud Functions install, pinned for CPython {TARGET_PYTHON} on Linux
# x86_64. Generated from {RUNTIME_FILE}, resolved together with {DEV_FILE} so that
# production runs exactly the versions the tests run. Do not edit; after changing either file
# run `.venv/bin/python -m shared.deploy.lock` (on Linux x86_64 with Python {TARGET_PYTHON}).
"""


class LockError(RuntimeError):
    """The lock cannot be made (wrong host, resolution failure) or no longer matches."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """One distribution of a pip installation report."""

    version: str
    requires: tuple[str, ...]


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    repo_root = Path.cwd()
    pins = generate(repo_root)
    (repo_root / LOCK_FILE).write_text(render(pins), encoding="utf-8")
    print(f"{LOCK_FILE}: {len(pins)} packages")
    return 0


def generate(repo_root: Path) -> dict[str, str]:
    """Resolve runtime + dev requirements for the target; keep the runtime closure."""
    _check_host()
    report = _pip_report(repo_root, [RUNTIME_FILE, DEV_FILE])
    resolved: dict[str, Resolved] = {
        canonicalize_name(item["metadata"]["name"]): Resolved(
            item["metadata"]["version"],
            tuple(item["metadata"].get("requires_dist", [])),
        )
        for item in report["install"]
    }
    roots = read_requirements(repo_root / RUNTIME_FILE)
    return runtime_closure(roots, resolved, report["environment"])


def runtime_closure(
    roots: Iterable[Requirement], resolved: Mapping[str, Resolved], environment: Mapping[str, str]
) -> dict[str, str]:
    """Canonical name -> version of all that ``roots`` need, applying extras and markers."""
    needed: dict[str, set[str]] = {}
    pending = [
        (canonicalize_name(r.name), frozenset(r.extras))
        for r in roots
        if _applies(r, environment, frozenset())
    ]
    while pending:
        name, extras = pending.pop()
        seen = needed.get(name)
        if seen is not None and extras <= seen:
            continue
        needed.setdefault(name, set()).update(extras)
        if name not in resolved:
            raise LockError(f"{name} is required but pip did not resolve it")
        for line in resolved[name].requires:
            requirement = Requirement(line)
            if _applies(requirement, environment, frozenset(needed[name])):
                pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return {name: resolved[name].version for name in sorted(needed)}


def render(pins: Mapping[str, str]) -> str:
    return HEADER + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))


def read_requirements(path: Path) -> list[Requirement]:
    """The requirements of a requirements file (comments and ``-r``/``-c`` options skipped)."""
    lines = (
        line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
    )
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def read_pins(path: Path) -> dict[str, str]:
    """Canonical name -> version of each ``==`` pin of a requirements file; extras dropped."""
    pins: dict[str, str] = {}
    for requirement in read_requirements(path):
        exact = [s.version for s in requirement.specifier if s.operator == "=="]
        if exact:
            pins[canonicalize_name(requirement.name)] = exact[0]
    return pins


def stale_pins(repo_root: Path) -> list[str]:
    """How the lock disagrees with ``requirements.txt``'s pins; empty when it is current."""
    lock = read_pins(repo_root / LOCK_FILE)
    return [
        f"{name}: {RUNTIME_FILE} pins {version}, {LOCK_FILE} has {lock.get(name, 'nothing')}"
        for name, version in sorted(read_pins(repo_root / RUNTIME_FILE).items())
        if lock.get(name) != version
    ]


def _applies(
    requirement: Requirement, environment: Mapping[str, str], extras: frozenset[str]
) -> bool:
    marker = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate({**environment, "extra": extra}) for extra in {"", *extras})


def _check_host() -> None:
    host = (
        sys.implementation.name,
        platform.python_version_tuple()[:2],
        sys.platform,
        platform.machine(),
    )
    if host != ("cpython", tuple(TARGET_PYTHON.split(".")), "linux", "x86_64"):
        raise LockError(
            f"pip evaluates markers for the interpreter running it ({host}); generate the lock "
            f"with CPython {TARGET_PYTHON} on Linux x86_64 (e.g. in python:{TARGET_PYTHON})"
        )


def _target_options() -> list[str]:
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(TARGET_GLIBC_MINOR, 16, -1)]
    platforms += ["manylinux2014_x86_64", "linux_x86_64"]
    options = ["--python-version", TARGET_PYTHON, "--implementation", "cp", "--only-binary=:all:"]
    for abi in ("cp311", "abi3", "none"):
        options += ["--abi", abi]
    for tag in platforms:
        options += ["--platform", tag]
    return options


def _pip_report(repo_root: Path, requirement_files: Sequence[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lock-") as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        # pip 23 accepts platform options only with --target; --dry-run writes nothing there.
        command += ["--quiet", "--target", str(Path(scratch) / "target"), "--report", str(report)]
        command += _target_options()
        for name in requirement_files:
            command += ["-r", name]
        result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LockError(f"pip could not resolve {requirement_files}:\n{result.stderr[-3000:]}")
        parsed: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return parsed


if __name__ == "__main__":
    sys.exit(main())
