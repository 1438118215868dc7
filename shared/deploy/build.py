"""Stage each Cloud Function as the directory Google Cloud deploys: ``build/functions/<name>/``.

Cloud Functions wants ``main.py`` and ``requirements.txt`` at the root of the uploaded source.
Each function gets its entry point as ``main.py``, the ``shared`` package without what no
function can import (see :mod:`shared.deploy.graph`), the SQL files ``shared.sqlfiles`` reads,
and ``requirements.lock`` as its ``requirements.txt``. The tree is rebuilt from scratch every
time and written deterministically (:mod:`shared.deploy.tree`), so Terraform redeploys a
function exactly when one of its staged bytes changed. ``manifest.json`` records each tree's
sha256 for the same reason: a reviewer can see which functions a change redeploys.

Run ``python -m shared.deploy.build --out build/functions``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from shared.deploy import graph, lock, tree
from shared.manifest import FUNCTIONS, FunctionSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_FILE = "manifest.json"
SOURCE_DIRS = ("functions", graph.PACKAGE, "sql")
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


class BuildError(RuntimeError):
    """The sources cannot be staged as asked (stale lock, output inside the sources)."""


def stage_all(repo_root: Path, out_dir: Path) -> dict[str, Path]:
    """Stage every function of the manifest; drop functions a previous build staged but the
    manifest no longer lists; write ``manifest.json``. Returns name -> staged directory."""
    repo_root, out_dir = repo_root.resolve(), out_dir.resolve()
    common = _common_files(repo_root, out_dir)
    staged = {spec.name: _stage(spec, repo_root, common, out_dir) for spec in FUNCTIONS}
    for gone in sorted(_previously_staged(out_dir) - staged.keys()):
        shutil.rmtree(out_dir / gone, ignore_errors=True)
    entries = {
        spec.name: {
            "signature": spec.signature,
            "files": len(tree.files(staged[spec.name])),
            "bytes": _size(staged[spec.name]),
            "sha256": tree.digest(staged[spec.name]),
        }
        for spec in FUNCTIONS
    }
    document = json.dumps({"functions": entries}, indent=2, sort_keys=True) + "\n"
    tree.write_file(out_dir / MANIFEST_FILE, document.encode())
    return staged


def stage_function(spec: FunctionSpec, repo_root: Path, out_dir: Path) -> Path:
    """Write ``out_dir/<name>/`` from scratch: main.py, shared/, sql/, requirements.txt."""
    repo_root, out_dir = repo_root.resolve(), out_dir.resolve()
    return _stage(spec, repo_root, _common_files(repo_root, out_dir), out_dir)


def excluded_packages(repo_root: Path) -> tuple[str, ...]:
    """Dotted names of the ``shared`` packages no function imports, which are not staged."""
    entry_points = [repo_root / "functions" / f"{spec.name}.py" for spec in FUNCTIONS]
    return graph.scan(repo_root, entry_points).unused_packages()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.deploy.build", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/functions"))
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="default: this checkout")
    args = parser.parse_args(argv)
    try:
        staged = stage_all(args.repo, args.out)
    except (BuildError, lock.LockError) as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    manifest = json.loads((args.out / MANIFEST_FILE).read_text(encoding="utf-8"))
    for name in staged:
        entry = manifest["functions"][name]
        size = f"{entry['bytes'] / 1024:.0f} KiB"
        print(f"{name:<16} {entry['files']:>4} files {size:>9}  {entry['sha256'][:12]}")
    return 0


def _common_files(repo_root: Path, out_dir: Path) -> dict[str, bytes]:
    """What every function stages besides its ``main.py``: relative path -> content."""
    _check_out_dir(repo_root, out_dir)
    common = {"requirements.txt": _requirements(repo_root)}
    sources = [*_shared_files(repo_root), *sorted((repo_root / "sql").rglob("*.sql"))]
    for source in sources:
        common[source.relative_to(repo_root).as_posix()] = source.read_bytes()
    return common


def _stage(spec: FunctionSpec, repo_root: Path, common: dict[str, bytes], out_dir: Path) -> Path:
    contents = {"main.py": (repo_root / "functions" / f"{spec.name}.py").read_bytes(), **common}
    target = out_dir / spec.name
    if target.exists():
        shutil.rmtree(target)
    for relative, content in sorted(contents.items()):
        tree.write_file(target / relative, content)
    tree.seal(target)
    return target


def _requirements(repo_root: Path) -> bytes:
    if not (repo_root / lock.LOCK_FILE).is_file():
        raise BuildError(f"{lock.LOCK_FILE} is missing: run python -m shared.deploy.lock")
    stale = lock.stale_pins(repo_root)
    if stale:
        raise BuildError(
            f"{lock.LOCK_FILE} is stale (run python -m shared.deploy.lock): " + "; ".join(stale)
        )
    return (repo_root / lock.LOCK_FILE).read_bytes()


def _shared_files(repo_root: Path) -> Iterator[Path]:
    """Files of ``shared`` minus unimported packages, bytecode and hidden files, sorted."""
    root = repo_root / graph.PACKAGE
    excluded = {repo_root.joinpath(*name.split(".")) for name in excluded_packages(repo_root)}
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if name != "__pycache__"
            and not name.startswith(".")
            and Path(directory, name) not in excluded
        )
        for name in sorted(names):
            if not name.startswith(".") and not name.endswith(_SKIPPED_SUFFIXES):
                yield Path(directory, name)


def _check_out_dir(repo_root: Path, out_dir: Path) -> None:
    """Staging wipes ``out_dir/<name>``; refuse places where that could delete sources."""
    if out_dir == repo_root or repo_root.is_relative_to(out_dir):
        raise BuildError(f"--out {out_dir} would hold the repository itself")
    for name in SOURCE_DIRS:
        if out_dir.is_relative_to(repo_root / name):
            raise BuildError(f"--out {out_dir} is inside the sources ({name}/)")


def _previously_staged(out_dir: Path) -> set[str]:
    manifest = out_dir / MANIFEST_FILE
    if not manifest.is_file():
        return set()
    names: set[str] = set(json.loads(manifest.read_text(encoding="utf-8"))["functions"])
    return {name for name in names if name.isidentifier()}


def _size(root: Path) -> int:
    return sum((root / relative).stat().st_size for relative in tree.files(root))


if __name__ == "__main__":
    sys.exit(main())
