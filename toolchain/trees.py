"""Compare two generated trees file by file: what `nox -s check` reports as stale."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TextIO

# Folders a tool or an editable install may leave behind that are not part of the generated tree.
IGNORED_NAMES = {".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache", "build", "dist"}
IGNORED_SUFFIXES = (".egg-info",)


def ignored(relative: Path) -> bool:
    return any(part in IGNORED_NAMES or part.endswith(IGNORED_SUFFIXES) for part in relative.parts)


def tree_files(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every file under root (tool caches left out)."""
    files: dict[str, bytes] = {}
    if not root.exists():
        return files
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if ignored(relative) or not path.is_file():
            continue
        files[relative.as_posix()] = path.read_bytes()
    return files


def compare_trees(expected: Path, actual: Path) -> list[tuple[str, str]]:
    """(path, 'missing' | 'extra' | 'differs') for each file where `actual` is stale."""
    want, have = tree_files(expected), tree_files(actual)
    stale: list[tuple[str, str]] = []
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            stale.append((name, "missing"))
        elif name not in want:
            stale.append((name, "extra"))
        elif want[name] != have[name]:
            stale.append((name, "differs"))
    return stale


def report_stale(fresh: Path, target: Path, stale: list[tuple[str, str]], out: TextIO) -> None:
    """List the stale files of `target`, then the diff of each that differs from `fresh`."""
    write = out.write
    write(f"{target.name}/ is stale: {len(stale)} file(s) differ from a fresh generation\n")
    for name, status in stale:
        write(f"  {status:8} {target.name}/{name}\n")
    for name, status in stale:
        if status != "differs":
            continue
        try:
            old = (target / name).read_text(encoding="utf-8").splitlines(keepends=True)
            new = (fresh / name).read_text(encoding="utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            continue
        committed, regenerated = (
            f"{target.name}/{name} (committed)",
            f"{target.name}/{name} (fresh)",
        )
        write("".join(difflib.unified_diff(old, new, committed, regenerated)))
    write("Run `nox -s generate` and commit the result.\n")
