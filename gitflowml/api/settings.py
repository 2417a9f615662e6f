"""The API over settings (`gitflowml config`). It works outside a repository for the global
and system levels, and inside one whose settings are broken (so that they can be fixed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from gitflowml.project import DOT_DIR, Project

if TYPE_CHECKING:
    from gitflowml.config.settings import Setting


def _dot_dir() -> Path | None:
    root = Project.find_root()
    return None if root is None else root / DOT_DIR


def config_list(level: str | None = None) -> list[Setting]:
    """Every setting in effect (or only those set at `level`), with where it comes from."""
    from gitflowml.config import settings

    return settings.listing(_dot_dir(), level, os.environ)


def config_get(key: str, level: str | None = None) -> Setting:
    from gitflowml.config import settings

    return settings.get(_dot_dir(), key, level, os.environ)


def config_set(key: str, value: str, level: str = "repo") -> Path:
    """Set KEY at `level` (checked first: nothing is written when it is wrong)."""
    from gitflowml.config import settings

    return settings.set_value(_dot_dir(), key, value, level, os.environ)


def config_unset(key: str, level: str = "repo") -> Path:
    from gitflowml.config import settings

    return settings.unset(_dot_dir(), key, level, os.environ)
