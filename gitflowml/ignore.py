"""Owns the `.gitignore` entries gitflowml writes for tracked paths."""

from __future__ import annotations

from pathlib import Path

from gitflowml import fsutil

GITIGNORE = ".gitignore"

# .gitflowml/.gitignore: what of gitflowml's own directory never goes into git
DOT_DIR_IGNORES = ("/cache/", "/state.db*", "/runs/", "/tmp/", "/config.local.yaml", "/lock")


def entry_for(name: str) -> str:
    """An anchored entry for a file or directory named `name` beside the .gitignore."""
    escaped = "".join("\\" + c if c in "*?[]!#\\ " else c for c in name)
    return "/" + escaped


def ensure_ignored(target: Path) -> Path | None:
    """Add `target` to the .gitignore of its directory; returns that file if it changed."""
    gitignore = target.parent / GITIGNORE
    entry = entry_for(target.name)
    try:
        text = gitignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if entry in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    fsutil.atomic_write_text(gitignore, text + entry + "\n")
    return gitignore


def write_dot_dir_ignore(dot_dir: Path) -> bool:
    path = dot_dir / GITIGNORE
    if path.exists():
        return False
    fsutil.atomic_write_text(path, "".join(line + "\n" for line in DOT_DIR_IGNORES))
    return True
