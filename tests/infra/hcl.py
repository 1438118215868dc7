"""Terraform source as plain Python values, for tests that check what ``infra/`` declares.

python-hcl2 8.x returns source syntax rather than values by default: string literals keep their
double quotes, block labels are quoted keys, blocks carry ``__is_block__`` markers and heredocs
come back as raw ``<<EOT ... EOT`` text. The library's own heredoc decoding is unusable for
``<<-`` heredocs (it backslash-escapes every quote inside them), so this module asks for the
quote-stripped form with heredocs kept raw, and decodes the heredocs itself with Terraform's
rules. Doing it in one place means a python-hcl2 upgrade that changes the shape again breaks
tests/infra/test_hcl_module.py, not every check written against the Terraform.

The shape callers get, for ``resource "google_storage_bucket" "raw" {...}``:

* a string literal is its value: ``"dev"`` -> ``dev``, escapes decoded (``"a\\"b"`` -> ``a"b``);
* an expression keeps its ``${...}`` wrapper: ``var.env`` -> ``${var.env}``,
  ``"${local.name}-raw"`` -> ``${local.name}-raw``; a ``${`` in a value therefore always
  means an expression (an escaped ``$${`` stays ``$${``), and ``for_each``/``count`` are
  strings such as ``${toset(var.tenants)}``; a bare type keyword stays bare
  (``type = string`` -> ``string``, but ``list(string)`` -> ``${list(string)}``);
* numbers, booleans and null are Python ``int``/``float``/``bool``/``None``;
* a nested block is a list with one dict per occurrence (``versioning`` -> ``[{...}]``),
  while a map attribute (``labels = {...}``) is a plain dict;
* a heredoc is its text as Terraform sees it, ending in a newline, ``<<-`` dedented;
* comments are dropped. Duplicate attributes in one block are not reported: the last one wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
from lark.exceptions import LarkError, UnexpectedInput

Body = dict[str, Any]
Tree = dict[Path, Body]
Block = tuple[Path, str, Body]

_OPTIONS = hcl2.SerializationOptions(
    with_comments=False,
    explicit_blocks=False,
    preserve_heredocs=True,
    strip_string_quotes=True,
)
# What python-hcl2 leaves of a heredoc once it has stripped trailing whitespace: the opening
# marker line, the body (absent for an empty heredoc) and the closing marker, maybe indented.
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\n(?:(.*)\n)?[ \t]*\2", re.DOTALL)


class HclSyntaxError(ValueError):
    """A .tf file python-hcl2 cannot parse; the message starts with ``path:line``."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


def load_file(path: Path) -> Body:
    """One .tf file as a dict of top-level block kinds (``resource``, ``module``, ...)."""
    text = path.read_text(encoding="utf-8")
    try:
        raw = hcl2.loads(text, serialization_options=_OPTIONS)
    except UnexpectedInput as exc:
        line = exc.line if exc.line > 0 else text.count("\n") + 1
        summary = str(exc).splitlines()[0]
        context = exc.get_context(text).rstrip()
        raise HclSyntaxError(path, line, f"invalid HCL: {summary}\n{context}") from exc
    except LarkError as exc:
        raise HclSyntaxError(path, None, f"invalid HCL: {exc}") from exc
    body = _normalise(raw)
    assert isinstance(body, dict)
    return body


def load_tree(root: Path) -> Tree:
    """Every *.tf under ``root`` (skipping ``.terraform/``), keyed by path relative to ``root``."""
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory")
    files = sorted(
        path for path in root.rglob("*.tf") if ".terraform" not in path.relative_to(root).parts
    )
    return {path.relative_to(root): load_file(path) for path in files}


def resources(tree: Tree, resource_type: str) -> list[Block]:
    """``(file, name, body)`` of every ``resource "<resource_type>" "<name>"`` in the tree."""
    return [
        (path, name, body)
        for path, document in tree.items()
        for block in document.get("resource", [])
        for name, body in block.get(resource_type, {}).items()
    ]


def data_sources(tree: Tree, data_type: str) -> list[Block]:
    """``(file, name, body)`` of every ``data "<data_type>" "<name>"`` in the tree."""
    return [
        (path, name, body)
        for path, document in tree.items()
        for block in document.get("data", [])
        for name, body in block.get(data_type, {}).items()
    ]


def modules(tree: Tree) -> list[Block]:
    """``(file, name, body)`` of every ``module "<name>"`` call; ``body["source"]`` is a string."""
    return _labelled(tree, "module")


def variables(tree: Tree) -> list[Block]:
    """``(file, name, body)`` of every ``variable "<name>"``."""
    return _labelled(tree, "variable")


def locals_(tree: Tree) -> list[tuple[Path, str, Any]]:
    """``(file, name, value)`` of every local value, across all ``locals`` blocks."""
    return [
        (path, name, value)
        for path, document in tree.items()
        for block in document.get("locals", [])
        for name, value in block.items()
    ]


def _labelled(tree: Tree, kind: str) -> list[Block]:
    return [
        (path, name, body)
        for path, document in tree.items()
        for block in document.get(kind, [])
        for name, body in block.items()
    ]


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str):
        return _heredoc_value(value)
    return value


def _heredoc_value(text: str) -> str:
    """The value of a raw heredoc as Terraform computes it; any other string unchanged."""
    match = _HEREDOC.fullmatch(text)
    if match is None:
        return text
    trim, _marker, body = match.groups()
    if body is None:
        return ""
    lines = body.split("\n")
    if trim:
        indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
        indent = min(indents, default=0)
        lines = [line[indent:] for line in lines]
    return "\n".join(lines) + "\n"
