"""checkov's Terraform policies over ``infra/``: nothing fails, and every suppression says why.

checkov pins dozens of packages that fight ours, so it lives in ``.venv/checkov``, which
``make setup`` creates. It runs fully offline (``--skip-download``: no policy metadata from the
vendor's API), from an empty working directory and without ``CKV_*``/``BC_*`` variables, so
neither a stray ``.checkov.yaml`` nor the environment can skip checks behind the tests' back:
the only way to accept a finding is an inline ``#checkov:skip=CKV_GCP_NN:reason`` inside the
resource, and the reason must be written out.

The JSON report is read rather than checkov's exit code alone because the exit code hides two
ways to pass vacuously: a file checkov cannot parse is listed under ``parsing_errors`` and
dropped with exit 0, and an empty directory scans nothing with exit 0. ``--quiet`` is not used:
with JSON output it drops the passed and skipped checks this module needs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
INFRA = ROOT / "infra"
# infra/ declares ~35 resources today (functions, topics, queues, datasets, IAM, alerts), and
# checkov evaluates most of them against several policies; far fewer results means it did not
# see the Terraform (a moved directory, a module it could not resolve).
MIN_RESULTS = 20
MIN_REASON_WORDS = 4
# What checkov reports for `#checkov:skip=CKV_X` written without a reason.
_CHECKOV_NO_REASON = "No comment provided"
_SKIP_COMMENT = re.compile(r"(?:checkov|bridgecrew):skip=\s*([A-Za-z0-9_]+)")
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Finding:
    """One check result on one resource, located in a file a developer can open."""

    check_id: str
    check_name: str
    resource: str
    file: Path
    first_line: int
    last_line: int
    reason: str | None

    def where(self) -> str:
        return f"{_shown(self.file)}:{self.first_line}"

    def describe(self) -> str:
        return f"{self.check_id} {self.resource} at {self.where()}: {self.check_name}"


@dataclass(frozen=True)
class Scan:
    returncode: int
    passed: list[Finding]
    failed: list[Finding]
    skipped: list[Finding]
    parsing_errors: list[str]
    resource_count: int
    stderr: str


def run_checkov(directory: Path, workdir: Path) -> Scan:
    """Scan ``directory`` the way CI does; fails the test if checkov is missing or crashed."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make setup` (checkov has its own virtualenv)")
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CKV_", "BC_", "PRISMA_", "CHECKOV_"))
    }
    command = [
        str(CHECKOV),
        "--directory",
        str(directory.resolve()),
        "--framework",
        "terraform",
        "--output",
        "json",
        "--skip-download",
    ]
    result = subprocess.run(
        command,
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # checkov exits 0 when nothing failed, 1 when a check failed, 2 when it crashed.
    if result.returncode not in (0, 1):
        pytest.fail(f"checkov exited {result.returncode}:\n{result.stderr[-4000:]}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"checkov printed no JSON report:\n{result.stdout[:2000]}{result.stderr[-2000:]}"
        )
    return _scan(report, result.returncode, result.stderr)


def _scan(report: Any, returncode: int, stderr: str) -> Scan:
    # One framework gives one dict; several give a list of them; an empty directory gives
    # only the summary, without "results".
    if isinstance(report, list):
        report = next((item for item in report if item.get("check_type") == "terraform"), {})
    results: dict[str, Any] = report.get("results", {})
    summary: dict[str, Any] = report.get("summary", report)
    return Scan(
        returncode=returncode,
        passed=_findings(results.get("passed_checks", [])),
        failed=_findings(results.get("failed_checks", [])),
        skipped=_findings(results.get("skipped_checks", [])),
        parsing_errors=[str(path) for path in results.get("parsing_errors", [])],
        resource_count=int(summary.get("resource_count", 0)),
        stderr=stderr,
    )


def _findings(entries: list[dict[str, Any]]) -> list[Finding]:
    # A module called from both environments reports its resources once per caller.
    unique = {
        Finding(
            check_id=entry["check_id"],
            check_name=entry.get("check_name") or "",
            resource=entry["resource"],
            file=Path(entry.get("file_abs_path") or entry["file_path"]),
            first_line=entry["file_line_range"][0],
            last_line=entry["file_line_range"][1],
            reason=entry["check_result"].get("suppress_comment"),
        )
        for entry in entries
    }
    return sorted(unique, key=lambda f: (str(f.file), f.first_line, f.check_id, f.resource))


def unjustified(skipped: list[Finding]) -> list[str]:
    """Suppressions whose reason is missing or too short to tell a reviewer anything."""
    problems = []
    for finding in skipped:
        reason = (finding.reason or "").strip()
        words = _WORD.findall(reason.replace(finding.check_id, " "))
        if reason == _CHECKOV_NO_REASON or len(words) < MIN_REASON_WORDS:
            problems.append(f"{finding.describe()} -- reason {reason!r}")
    return problems


def ineffective_skip_comments(directory: Path, skipped: list[Finding]) -> list[str]:
    """``checkov:skip`` comments that suppressed nothing: wrong id, or outside any resource."""
    applied: dict[tuple[str, Path], list[range]] = {}
    for finding in skipped:
        lines = range(finding.first_line, finding.last_line + 1)
        applied.setdefault((finding.check_id, finding.file.resolve()), []).append(lines)
    problems = []
    for path in sorted(directory.rglob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for check_id in _SKIP_COMMENT.findall(line):
                ranges = applied.get((check_id, path.resolve()), [])
                if not any(number in lines for lines in ranges):
                    problems.append(
                        f"{_shown(path)}:{number}: skip of {check_id} suppressed no result"
                    )
    return problems


def _shown(path: Path) -> Path:
    """The path as a developer at the repository root would type it."""
    try:
        return path.resolve().relative_to(ROOT)
    except ValueError:
        return path


def results_count(scan: Scan) -> int:
    return len(scan.passed) + len(scan.failed) + len(scan.skipped)


@pytest.fixture(scope="module")
def infra_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_checkov(INFRA, tmp_path_factory.mktemp("checkov-cwd"))


def test_no_check_fails(infra_scan: Scan) -> None:
    failures = "\n".join(f.describe() for f in infra_scan.failed)
    assert not failures, (
        f"checkov failed {len(infra_scan.failed)} check(s); fix the resource or add "
        f"`#checkov:skip=<id>:<why>` inside it:\n{failures}"
    )


def test_every_suppression_is_justified(infra_scan: Scan) -> None:
    problems = "\n".join(unjustified(infra_scan.skipped))
    assert not problems, (
        f"each `#checkov:skip=<id>:<reason>` needs a reason of {MIN_REASON_WORDS}+ words:\n"
        f"{problems}"
    )


def test_every_skip_comment_suppresses_something(infra_scan: Scan) -> None:
    problems = "\n".join(ineffective_skip_comments(INFRA, infra_scan.skipped))
    assert not problems, f"skip comments that checkov did not apply:\n{problems}"


def test_checkov_parsed_the_terraform(infra_scan: Scan) -> None:
    assert not infra_scan.parsing_errors, f"checkov could not parse: {infra_scan.parsing_errors}"
    assert results_count(infra_scan) >= MIN_RESULTS, (
        f"checkov produced {results_count(infra_scan)} results over "
        f"{infra_scan.resource_count} resources: it did not see infra/"
    )


def test_exit_code_agrees_with_the_report(infra_scan: Scan) -> None:
    assert infra_scan.returncode == (1 if infra_scan.failed else 0), infra_scan.stderr[-2000:]


def test_the_checks_catch_bad_terraform(tmp_path: Path) -> None:
    """The assertions above on a directory built to trip each of them."""
    sample = tmp_path / "infra"
    sample.mkdir()
    (sample / "main.tf").write_text(
        textwrap.dedent(
            """\
            resource "google_storage_bucket" "open" {
              name     = "open"
              location = "southamerica-east1"
            }

            resource "google_pubsub_topic" "terse" {
              #checkov:skip=CKV_GCP_83:no CMEK
              name = "terse"
            }

            resource "google_pubsub_topic" "silent" {
              #checkov:skip=CKV_GCP_83
              name = "silent"
            }

            resource "google_pubsub_topic" "explained" {
              #checkov:skip=CKV_GCP_83:Messages carry only ids; Google-managed keys are enough
              #checkov:skip=CKV_GCP_999:a check that does not exist suppresses nothing at all
              name = "explained"
            }
            """
        ),
        encoding="utf-8",
    )
    (sample / "broken.tf").write_text('resource "google_pubsub_topic" "x" {\n  name = = 1\n')
    scan = run_checkov(sample, tmp_path)

    assert scan.returncode == 1
    failed = {(f.check_id, f.resource, f.where()) for f in scan.failed}
    bucket_at = f"{sample / 'main.tf'}:1"
    assert {
        (check, "google_storage_bucket.open", bucket_at)
        for check in ("CKV_GCP_29", "CKV_GCP_62", "CKV_GCP_78", "CKV_GCP_114")
    } <= failed
    assert [problem.split(" at ")[0] for problem in unjustified(scan.skipped)] == [
        "CKV_GCP_83 google_pubsub_topic.terse",
        "CKV_GCP_83 google_pubsub_topic.silent",
    ]
    assert ineffective_skip_comments(sample, scan.skipped) == [
        f"{sample / 'main.tf'}:18: skip of CKV_GCP_999 suppressed no result"
    ]
    assert scan.parsing_errors == [str(sample / "broken.tf")]
