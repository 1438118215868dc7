"""Write a directory so that the same inputs always give the same bytes, modes and times.

Terraform zips a function's directory and redeploys when the zip's hash changes. Its
``archive_file`` zeroes timestamps but keeps each file's permission bits, and other zippers
(``gcloud``, ``zip -X``) keep times too, so the tree fixes both: files 0644, directories
0755, every mtime 2020-01-01. A build on another machine, with another umask or a fresh
checkout, then yields the same archive, and it changes only when a staged byte does.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

FIXED_MTIME = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
FILE_MODE = 0o644
DIR_MODE = 0o755


def write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(FILE_MODE)
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def seal(root: Path) -> None:
    """Fix the directories' modes and times; called last, since writing a file touches them."""
    for directory in sorted(_directories(root), key=lambda p: len(p.parts), reverse=True):
        directory.chmod(DIR_MODE)
        os.utime(directory, (FIXED_MTIME, FIXED_MTIME))


def files(root: Path) -> list[str]:
    """Relative POSIX paths of every file under ``root``, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def digest(root: Path) -> str:
    """sha256 over the sorted relative paths and each file's content: the tree's identity."""
    tree = hashlib.sha256()
    for relative in files(root):
        tree.update(relative.encode() + b"\0")
        tree.update(hashlib.sha256((root / relative).read_bytes()).digest())
    return tree.hexdigest()


def _directories(root: Path) -> Iterator[Path]:
    yield root
    yield from (p for p in root.rglob("*") if p.is_dir())
