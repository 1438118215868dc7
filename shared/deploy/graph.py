"""Which parts of ``shared`` the deployed functions can ever import, read from the source.

A deployed function ships only what it can run, so tooling (the CLI, the local stack, this
build) stays out of production and cannot drag its dependencies in. The answer comes from
the code itself — every ``import`` statement, including those inside function bodies and
``TYPE_CHECKING`` blocks, followed transitively from ``functions/*.py`` — rather than from a
hand-kept list that would go stale the day a function starts using a new subpackage. The
project imports nothing by computed name (no ``importlib.import_module``), which is what makes
a static graph exact; a test re-checks that no reached module does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "shared"


@dataclass(frozen=True, slots=True)
class ImportGraph:
    """The modules of ``shared`` reachable from the entry points, and what else they import."""

    reached: frozenset[str]
    """Dotted names of reached ``shared`` modules and packages (``shared``, ``shared.logs``)."""
    external: frozenset[str]
    """Absolute names imported by reached code (and the entry points) outside ``shared``."""
    packages: frozenset[str]
    """Every package (directory holding Python files) under ``shared``, reached or not."""

    def unused_packages(self) -> tuple[str, ...]:
        """Outermost packages none of whose modules are reached: safe to leave out."""
        unused = sorted(name for name in self.packages if name not in self.reached)
        return tuple(
            name for name in unused if not any(name.startswith(f"{outer}.") for outer in unused)
        )


def scan(repo_root: Path, entry_points: Iterable[Path]) -> ImportGraph:
    """Follow imports from ``entry_points`` through ``repo_root/shared``."""
    reached: set[str] = set()
    external: set[str] = set()
    pending: list[str] = []
    for entry in entry_points:
        pending.extend(_imports(entry, "main", is_package=False))
    files: dict[str, Path | None] = {}
    while pending:
        name = pending.pop()
        if name.split(".", 1)[0] != PACKAGE:
            external.add(name)
            continue
        parts = name.split(".")
        # Importing a.b.c runs a/__init__, a/b/__init__ and a/b/c; names that are not modules
        # (``from shared.logs import configure`` yields ``shared.logs.configure``) end the walk.
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            if module not in files:
                files[module] = _module_file(repo_root, module)
            path = files[module]
            if path is None:
                break
            if module not in reached:
                reached.add(module)
                if path.is_file():
                    pending.extend(_imports(path, module, is_package=path.name == "__init__.py"))
    packages = {
        ".".join(source.parent.relative_to(repo_root).parts)
        for source in (repo_root / PACKAGE).rglob("*.py")
        if "__pycache__" not in source.parts
    }
    return ImportGraph(frozenset(reached), frozenset(external), frozenset(packages))


def _module_file(repo_root: Path, module: str) -> Path | None:
    """The module's source file; for a namespace package (no ``__init__``), its directory."""
    base = repo_root.joinpath(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if base.is_dir() and any(base.glob("*.py")):
        return base
    return None


def _imports(path: Path, module: str, *, is_package: bool) -> list[str]:
    """Absolute names ``path`` imports; ``from m import x`` yields both ``m`` and ``m.x``."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names: list[str] = []
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package=is_package)
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """Every statement, however nested (imports are statements; expressions are skipped)."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                pending.extend(child for child in children if isinstance(child, ast.AST))


def _absolute(node: ast.ImportFrom, module: str, *, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    anchor = module.split(".") if is_package else module.split(".")[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])
