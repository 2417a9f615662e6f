"""Owns `.gitflowml/config.yaml` and `config.local.yaml`.

The only reader of GITFLOWML_* environment variables.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitflowml import fsutil, quick, yamlio
from gitflowml.errors import ConfigError

SCHEMA = 1
CONFIG_NAME = "config.yaml"
LOCAL_CONFIG_NAME = "config.local.yaml"


class LinkType(enum.Enum):
    """How `checkout` puts a cached object into the workspace."""

    REFLINK = "reflink"
    COPY = "copy"
    HARDLINK = "hardlink"
    SYMLINK = "symlink"


DEFAULT_LINK_TYPES = (LinkType.REFLINK, LinkType.COPY)


@dataclass(frozen=True, slots=True)
class Config:
    cache_types: tuple[LinkType, ...] = DEFAULT_LINK_TYPES
    cache_dir: Path | None = None  # None: .gitflowml/cache
    jobs: int | None = None  # None: chosen from the CPU count


def default_text() -> str:
    return yamlio.dumps({"schema": SCHEMA, "cache": {"type": "reflink,copy"}})


def write_default(dot_dir: Path) -> bool:
    """Create config.yaml if it is missing; True when it was created."""
    path = dot_dir / CONFIG_NAME
    if path.exists():
        return False
    fsutil.atomic_write_text(path, default_text())
    return True


def _read(path: Path) -> dict[str, Any]:
    quick.note(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = yamlio.loads(text)
    except yamlio.YamlError as exc:
        raise ConfigError(f"{exc.where(str(path))}; fix or remove the file") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    schema = data.get("schema", SCHEMA)
    if schema != SCHEMA:
        raise ConfigError(
            f"{path}: schema {schema!r} is not supported by this gitflowml "
            f"(expected {SCHEMA}); upgrade gitflowml"
        )
    return data


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_link_types(value: str, where: str) -> tuple[LinkType, ...]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    try:
        types = tuple(LinkType(name) for name in names)
    except ValueError:
        choices = ", ".join(t.value for t in LinkType)
        raise ConfigError(
            f"{where}: cache.type {value!r} is not valid; use one or more of {choices} "
            "separated by commas"
        ) from None
    if not types:
        raise ConfigError(f"{where}: cache.type is empty")
    return types


def load(dot_dir: Path, environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    path = dot_dir / CONFIG_NAME
    data = _merge(_read(path), _read(dot_dir / LOCAL_CONFIG_NAME))
    cache = data.get("cache") or {}
    core = data.get("core") or {}
    if not isinstance(cache, dict) or not isinstance(core, dict):
        raise ConfigError(f"{path}: 'cache' and 'core' must be mappings")

    type_value = env.get("GITFLOWML_CACHE_TYPE") or cache.get("type") or "reflink,copy"
    types = parse_link_types(str(type_value), str(path))

    dir_value = env.get("GITFLOWML_CACHE_DIR") or cache.get("dir")
    cache_dir: Path | None = None
    if dir_value:
        cache_dir = Path(str(dir_value)).expanduser()
        if not cache_dir.is_absolute():
            cache_dir = (dot_dir / cache_dir).resolve()

    jobs_value = env.get("GITFLOWML_JOBS") or core.get("jobs")
    jobs: int | None = None
    if jobs_value is not None:
        try:
            jobs = int(jobs_value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: core.jobs must be a whole number") from None
        if jobs < 1:
            raise ConfigError(f"{path}: core.jobs must be at least 1")
    return Config(cache_types=types, cache_dir=cache_dir, jobs=jobs)
