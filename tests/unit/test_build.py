"""The deployable build: what each staged function holds, that it is deterministic, that it runs.

The decisive test starts a fresh interpreter inside each staged directory with the repository
and the editable install taken off the import path, then imports ``main`` and asks
functions_framework to build the app the way the Cloud Functions runtime does. Anything the
build forgot to stage (a subpackage left out by mistake, a SQL file) fails there, not after a
deploy. The lock is checked against ``requirements.txt`` and against what the staged code
imports, so a dependency that only the dev environment happens to provide cannot slip through.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from shared.deploy import build, graph, lock, tree
from shared.manifest import FUNCTIONS, FunctionSpec

ROOT = Path(__file__).resolve().parents[2]
TOOLING = ("shared.cli", "shared.deploy", "shared.localstack")
"""Never deployed: the CLI, the local stack and this build."""
SOURCES = ("functions", "shared", "sql", lock.RUNTIME_FILE, lock.LOCK_FILE)

# Run by the staged directory's interpreter: nothing but the staged tree and site-packages.
ISOLATED_IMPORT = r"""
import importlib, json, os, sys
name, signature, repo = sys.argv[1], sys.argv[2], os.path.realpath(sys.argv[3])
venv = os.path.realpath(sys.prefix)
def editable(hook):
    return "__editable__" in getattr(hook, "__module__", "")
sys.meta_path[:] = [finder for finder in sys.meta_path if not editable(finder)]
sys.path_hooks[:] = [hook for hook in sys.path_hooks if not editable(hook)]
def foreign(entry):
    real = os.path.realpath(entry or ".")
    inside_repo = real == repo or real.startswith(repo + os.sep)
    return "__editable__" in entry or (inside_repo and not real.startswith(venv + os.sep))
sys.path[:] = [os.getcwd()] + [p for p in sys.path if p and not foreign(p)]
sys.path_importer_cache.clear()
assert "shared" not in sys.modules and "main" not in sys.modules

import main
import functions_framework
from functions_framework import _function_registry as registry

app = functions_framework.create_app(target=name, source="main.py")
# What the function imports lazily (on first request) must be staged too: import it all now.
for module in json.loads(sys.argv[4]):
    importlib.import_module(module)
print(json.dumps({
    "callable": callable(getattr(main, name, None)),
    "registered": registry.REGISTRY_MAP.get(name),
    "resolved": registry.get_func_signature_type(name, None),
    "app": type(app).__name__,
    "modules": sorted(
        os.path.realpath(m.__file__) for m in list(sys.modules.values())
        if getattr(m, "__file__", None)
    ),
}))
"""


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build.stage_all(ROOT, tmp_path_factory.mktemp("functions"))


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The sources a build reads, copied so that a test can change them."""
    copy = tmp_path / "repo"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.mkdir(exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def _manifest(out_dir: Path) -> dict[str, dict[str, object]]:
    functions: dict[str, dict[str, object]] = json.loads(
        (out_dir / build.MANIFEST_FILE).read_text(encoding="utf-8")
    )["functions"]
    return functions


def _hashes(out_dir: Path) -> dict[str, object]:
    return {name: entry["sha256"] for name, entry in _manifest(out_dir).items()}


# -- what a staged function holds ---------------------------------------------------------


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_function_is_staged_with_its_entry_point_lock_sql_and_runtime_shared(
    staged: dict[str, Path], spec: FunctionSpec
) -> None:
    root = staged[spec.name]
    assert (root / "main.py").read_bytes() == (ROOT / "functions" / f"{spec.name}.py").read_bytes()
    assert (root / "requirements.txt").read_bytes() == (ROOT / lock.LOCK_FILE).read_bytes()
    files = tree.files(root)
    sql = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "sql").rglob("*.sql"))
    assert [f for f in files if f.startswith("sql/")] == sql
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    for package in TOOLING:
        assert not (root / package.replace(".", "/")).exists(), package
    assert {"shared/__init__.py", "shared/sqlfiles.py", "shared/api/routes/__init__.py"} <= set(
        files
    )


def test_tooling_packages_are_left_out_because_no_function_imports_them() -> None:
    entry_points = [ROOT / "functions" / f"{spec.name}.py" for spec in FUNCTIONS]
    scanned = graph.scan(ROOT, entry_points)
    for package in TOOLING:
        assert not any(m == package or m.startswith(f"{package}.") for m in scanned.reached)
        assert package in build.excluded_packages(ROOT)
    # The graph sees through function bodies: a lazy import still counts as reached.
    assert "shared.api.app" in scanned.reached


def test_no_reached_module_imports_by_computed_name() -> None:
    """The static import graph is exact only while nothing imports a module by a string."""
    entry_points = [ROOT / "functions" / f"{spec.name}.py" for spec in FUNCTIONS]
    for module in graph.scan(ROOT, entry_points).reached:
        path = ROOT.joinpath(*module.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if source.is_file():
            text = source.read_text(encoding="utf-8")
            assert not re.search(r"import_module\(|__import__\(", text), module


def test_graph_follows_relative_lazy_and_namespace_imports(tmp_path: Path) -> None:
    files = {
        "functions/f.py": "from shared import a\n",
        "shared/__init__.py": "",
        "shared/a.py": "def g() -> None:\n    from .b import helper\n",
        "shared/b/__init__.py": "from ..ns import mod\n",
        "shared/ns/mod.py": "import shared.deep.leaf\n",
        "shared/deep/__init__.py": "",
        "shared/deep/leaf.py": "import requests\n",
        "shared/tool/__init__.py": "import shared.tool.inner\n",
        "shared/tool/inner/__init__.py": "",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    scanned = graph.scan(tmp_path, [tmp_path / "functions/f.py"])
    assert {"shared.b", "shared.ns", "shared.ns.mod", "shared.deep.leaf"} <= scanned.reached
    assert "requests" in scanned.external
    assert scanned.unused_packages() == ("shared.tool",)


# -- determinism ----------------------------------------------------------------------------


def test_restaging_is_byte_identical_and_wipes_stale_files(
    staged: dict[str, Path], tmp_path: Path
) -> None:
    first = _hashes(staged["api"].parent)
    out_dir = tmp_path / "out"
    build.stage_all(ROOT, out_dir)
    (out_dir / "api" / "shared" / "leftover.py").write_text("raise SystemExit\n")
    (out_dir / "api" / "sql" / "old").mkdir()
    rebuilt = build.stage_all(ROOT, out_dir)
    assert _hashes(out_dir) == first
    assert (out_dir / build.MANIFEST_FILE).read_bytes() == (
        staged["api"].parent / build.MANIFEST_FILE
    ).read_bytes()
    assert not (out_dir / "api" / "shared" / "leftover.py").exists()
    assert not (out_dir / "api" / "sql" / "old").exists()
    for path in [rebuilt["api"], *rebuilt["api"].rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert path.stat().st_mtime == tree.FIXED_MTIME, path
        assert mode == (tree.DIR_MODE if path.is_dir() else tree.FILE_MODE), path


def test_a_changed_entry_point_changes_only_its_function(repo_copy: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    build.stage_all(repo_copy, out_dir)
    before = _hashes(out_dir)
    with (repo_copy / "functions" / "sweeper.py").open("a") as source:
        source.write("# changed\n")
    build.stage_all(repo_copy, out_dir)
    after = _hashes(out_dir)
    assert [name for name in before if before[name] != after[name]] == ["sweeper"]

    (repo_copy / "sql" / "contacts" / "find.sql").write_text("SELECT 1\n")
    build.stage_all(repo_copy, out_dir)
    assert all(_hashes(out_dir)[name] != after[name] for name in after)


def test_a_change_in_unstaged_tooling_redeploys_nothing(repo_copy: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    build.stage_all(repo_copy, out_dir)
    before = _hashes(out_dir)
    with (repo_copy / "shared" / "cli" / "main.py").open("a") as source:
        source.write("# changed\n")
    build.stage_all(repo_copy, out_dir)
    assert _hashes(out_dir) == before


def test_a_function_no_longer_in_the_manifest_is_removed(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    build.stage_all(ROOT, out_dir)
    manifest = json.loads((out_dir / build.MANIFEST_FILE).read_text())
    manifest["functions"]["retired"] = manifest["functions"]["api"]
    (out_dir / build.MANIFEST_FILE).write_text(json.dumps(manifest))
    shutil.copytree(out_dir / "api", out_dir / "retired")
    (out_dir / "unrelated").mkdir()
    build.stage_all(ROOT, out_dir)
    assert not (out_dir / "retired").exists()
    assert (out_dir / "unrelated").is_dir()
    assert set(_manifest(out_dir)) == {spec.name for spec in FUNCTIONS}


def test_a_stale_lock_stops_the_build(repo_copy: Path, tmp_path: Path) -> None:
    requirements = repo_copy / lock.RUNTIME_FILE
    requirements.write_text(requirements.read_text().replace("pydantic==", "pydantic==0.", 1))
    with pytest.raises(build.BuildError, match="pydantic"):
        build.stage_all(repo_copy, tmp_path / "out")


@pytest.mark.parametrize("inside", [".", "shared", "sql/contacts", ".."])
def test_the_build_refuses_to_write_over_sources(repo_copy: Path, inside: str) -> None:
    with pytest.raises(build.BuildError):
        build.stage_function(FUNCTIONS[0], repo_copy, repo_copy / inside)
    assert (repo_copy / "shared" / "__init__.py").is_file()


def test_cli_prints_one_line_per_function(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.deploy.build", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    hashes = _hashes(tmp_path / "out")
    assert [line.split()[0] for line in lines] == [spec.name for spec in FUNCTIONS]
    for line in lines:
        name, files = line.split()[:2]
        assert str(hashes[name])[:12] == line.split()[-1]
        assert int(files) == len(tree.files(tmp_path / "out" / name))


# -- the staged directory runs on its own -----------------------------------------------------


@pytest.fixture(scope="module")
def isolated_imports(staged: dict[str, Path]) -> dict[str, dict[str, object]]:
    """One fresh interpreter per function, started together (each takes a second or two)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    entry_points = [ROOT / "functions" / f"{spec.name}.py" for spec in FUNCTIONS]
    # Every function stages the same shared/, so one of them imports all of it.
    reached = json.dumps(sorted(graph.scan(ROOT, entry_points).reached))
    processes = {
        spec.name: subprocess.Popen(
            [
                *(sys.executable, "-I", "-c", ISOLATED_IMPORT),
                *(spec.name, spec.signature, str(ROOT), reached if spec.name == "api" else "[]"),
            ],
            cwd=staged[spec.name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for spec in FUNCTIONS
    }
    results: dict[str, dict[str, object]] = {}
    try:
        for name, process in processes.items():
            stdout, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, f"{name}:\n{stderr[-3000:]}"
            results[name] = json.loads(stdout.strip().splitlines()[-1])
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_staged_function_imports_from_its_directory_alone(
    staged: dict[str, Path], isolated_imports: dict[str, dict[str, object]], spec: FunctionSpec
) -> None:
    result = isolated_imports[spec.name]
    assert result["callable"] is True
    assert result["registered"] == spec.signature
    assert result["resolved"] == spec.signature
    assert result["app"] == "Flask"
    root = os.path.realpath(staged[spec.name])
    modules = result["modules"]
    assert isinstance(modules, list)
    assert os.path.join(root, "shared", "__init__.py") in modules
    venv = os.path.realpath(sys.prefix)
    from_repo = [m for m in modules if m.startswith(str(ROOT)) and not m.startswith(venv)]
    assert from_repo == [], "imported from the repository instead of the staged directory"
    staged_shared = [m for m in modules if m.startswith(os.path.join(root, "shared"))]
    assert len(staged_shared) > 20  # the function really loaded its services from there
    if spec.name == "api":  # the one that also imported every reached module
        assert os.path.join(root, "shared", "api", "app.py") in modules


# -- the lock -----------------------------------------------------------------------------------


def test_lock_holds_every_pin_of_requirements_at_the_same_version() -> None:
    assert lock.stale_pins(ROOT) == []
    pins = lock.read_pins(ROOT / lock.LOCK_FILE)
    assert pins["pyjwt"] == lock.read_pins(ROOT / lock.RUNTIME_FILE)["pyjwt"]
    assert "cryptography" in pins  # PyJWT[crypto]'s extra was followed
    lines = [line for line in (ROOT / lock.LOCK_FILE).read_text().splitlines() if line]
    requirements = [line for line in lines if not line.startswith("#")]
    assert all(re.fullmatch(r"[a-z0-9-]+==[^\s;]+", line) for line in requirements)
    names = [line.split("==")[0] for line in requirements]
    assert names == sorted(names)


def test_lock_pins_the_installed_versions_the_tests_run_against() -> None:
    installed: dict[str, str] = {
        canonicalize_name(d.metadata["Name"]): d.version for d in distributions()
    }
    pins = lock.read_pins(ROOT / lock.LOCK_FILE)
    assert {name: installed.get(name) for name in pins} == pins


def test_every_third_party_import_of_the_staged_code_comes_from_a_locked_package() -> None:
    entry_points = [ROOT / "functions" / f"{spec.name}.py" for spec in FUNCTIONS]
    external = graph.scan(ROOT, entry_points).external
    providers = _module_providers()
    namespaces = {prefix for module in providers for prefix in _prefixes(module)[1:]}
    pins = lock.read_pins(ROOT / lock.LOCK_FILE)
    unlocked: dict[str, str | None] = {}
    for name in sorted(external):
        top = name.split(".", 1)[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        if name in namespaces - providers.keys():
            continue  # ``google.cloud``: a namespace; its modules are checked one by one
        provider = next(
            (providers[p] for p in _prefixes(name) if p in providers),
            None,
        )
        if provider not in pins:
            unlocked[name] = provider
    assert unlocked == {}


def test_runtime_closure_follows_extras_and_markers() -> None:
    resolved = {
        "app": lock.Resolved("1", ("lib[fast]>=1", 'winonly; sys_platform == "win32"')),
        "lib": lock.Resolved("2", ('speedup; extra == "fast"', 'docs; extra == "docs"')),
        "speedup": lock.Resolved("3", ()),
        "winonly": lock.Resolved("4", ()),
        "docs": lock.Resolved("5", ()),
    }
    environment = {"sys_platform": "linux", "python_version": "3.11"}
    pins = lock.runtime_closure([Requirement("app==1")], resolved, environment)
    assert pins == {"app": "1", "lib": "2", "speedup": "3"}


def _module_providers() -> dict[str, str]:
    """Dotted module name -> canonical distribution name, for every installed distribution."""
    providers: dict[str, str] = {}
    for dist in distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or []:
            parts = list(file.parts)
            if not parts or ".." in parts or parts[0].endswith((".dist-info", ".data")):
                continue
            if parts[-1] == "__init__.py":
                parts = parts[:-1]
            elif parts[-1].endswith((".py", ".so")):
                parts[-1] = parts[-1].split(".", 1)[0]
            else:
                continue
            if parts:
                providers.setdefault(".".join(parts), name)
    return providers


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:depth]) for depth in range(len(parts), 0, -1)]
