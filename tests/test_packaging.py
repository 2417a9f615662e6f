"""The distribution ships every subpackage (an editable install would hide a missing one)."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_directory_is_included() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "gitflowml").rglob("__init__.py")
    )
    assert "gitflowml.executors" in packages
    missing = [p for p in packages if not any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
    assert missing == []
