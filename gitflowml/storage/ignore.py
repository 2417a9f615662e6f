"""Owns the `.gitignore` entries gitflowml writes for tracked paths."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gitflowml import quick
from gitflowml.util import fsutil

GITIGNORE = ".gitignore"

# .gitflowml/.gitignore: what of gitflowml's own directory never goes into git
DOT_DIR_IGNORES = ("/cache/", "/state.db*", "/runs/", "/tmp/", "/config.local.yaml", "/lock")


def entry_for(name: str) -> str:
    """An anchored entry for a file or directory named `name` beside the .gitignore."""
    escaped = "".join("\\" + c if c in "*?[]!#\\ " else c for c in name)
    return "/" + escaped


def ensure_ignored(target: Path) -> Path | None:
    """Add `target` to the .gitignore of its directory; returns that file if it changed."""
    changed = ensure_all_ignored([target])
    return changed[0] if changed else None


def ensure_all_ignored(targets: Iterable[Path]) -> list[Path]:
    """Add every target to the .gitignore of its directory, writing each file at most once;
    returns the .gitignore files that changed."""
    by_dir: dict[Path, list[str]] = {}
    for target in targets:
        by_dir.setdefault(target.parent, []).append(entry_for(target.name))
    changed = []
    for directory, entries in by_dir.items():
        gitignore = directory / GITIGNORE
        quick.note(gitignore)
        try:
            text = gitignore.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        present = set(text.splitlines())
        new = [e for e in dict.fromkeys(entries) if e not in present]
        if not new:
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        fsutil.atomic_write_text(gitignore, text + "".join(e + "\n" for e in new))
        changed.append(gitignore)
    return changed


def unignore(target: Path) -> Path | None:
    """Remove the entry `ensure_ignored` wrote for `target` (the user's own lines stay);
    returns the .gitignore if it changed. A .gitignore left empty is deleted."""
    gitignore = target.parent / GITIGNORE
    quick.note(gitignore)
    try:
        text = gitignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    entry = entry_for(target.name)
    lines = text.splitlines()
    kept = [line for line in lines if line != entry]
    if kept == lines:
        return None
    if kept:
        fsutil.atomic_write_text(gitignore, "".join(line + "\n" for line in kept))
    else:
        gitignore.unlink()
    return gitignore


def write_dot_dir_ignore(dot_dir: Path) -> bool:
    path = dot_dir / GITIGNORE
    if path.exists():
        return False
    fsutil.atomic_write_text(path, "".join(line + "\n" for line in DOT_DIR_IGNORES))
    return True
