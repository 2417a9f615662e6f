"""`gitflowml config`: read, set and unset settings at one level, list them with where each
comes from. A change is checked against every level before it is written: a value that
would leave the settings unusable is refused and nothing is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitflowml.config import PACK_OPTIONS, SECRET_OPTIONS, build, keys, levels, parse_size
from gitflowml.errors import ConfigError

WRITABLE = levels.FILE_LEVELS


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: Any
    origin: str  # file:PATH, env:NAME or command line:-c
    level: str


def listing(dot_dir: Path | None, level: str | None, environ: Mapping[str, str]) -> list[Setting]:
    """Every setting in effect (or only those of `level`), by name."""
    found = levels.layers(dot_dir, environ)
    if level is not None:
        _path(level, dot_dir, environ)  # a repository's level outside one: say so
        found = [layer for layer in found if layer.level == level]
    effective: dict[str, Setting] = {}
    for layer in found:
        for key, value in keys.flatten(layer.data).items():
            effective[key] = Setting(key, value, layer.origin, layer.level)
    return [effective[k] for k in sorted(effective)]


def get(dot_dir: Path | None, key: str, level: str | None, environ: Mapping[str, str]) -> Setting:
    name = keys.parse(key)
    for setting in listing(dot_dir, level, environ):
        if setting.key == name.key:
            return setting
    where = f" in the {level} settings" if level else ""
    raise ConfigError(f"{key} is not set{where}; set it with 'gitflowml config {key} VALUE'")


def set_value(
    dot_dir: Path | None, key: str, text: str, level: str, environ: Mapping[str, str]
) -> Path:
    """Set `key` at `level`; returns the file written."""
    name = keys.parse(key)
    option = name.remote_option
    if option in SECRET_OPTIONS and level in ("repo", "system"):
        raise ConfigError(
            f"'{key}' is a credential and the {level} settings are shared "
            f"({'committed to git' if level == 'repo' else 'readable by every user'}); set it "
            "with --local or --global, or use the file system's own environment variables "
            "or profiles"
        )
    if option in PACK_OPTIONS and parse_size(text, key) < (option == "pack_size"):
        raise ConfigError(f"{key} must be at least 1 byte")  # a threshold of 0: all loose
    if option is not None and option != "url":
        remotes = build(levels.layers(dot_dir, environ)).remotes
        if not any(r.name == name.parts[1] for r in remotes):
            raise ConfigError(
                f"remote '{name.parts[1]}' does not exist; add it with "
                f"'gitflowml remote add {name.parts[1]} URL'"
            )
    value = keys.value_of(name, text)
    return _change(dot_dir, level, environ, lambda data: keys.put(data, name, value))


def unset(dot_dir: Path | None, key: str, level: str, environ: Mapping[str, str]) -> Path:
    name = keys.parse(key)
    path = _path(level, dot_dir, environ)

    def change(data: dict[str, Any]) -> None:
        if not keys.drop(data, name):
            raise ConfigError(f"{key} is not set in the {level} settings ({path})")

    return _change(dot_dir, level, environ, change)


def _change(dot_dir: Path | None, level: str, environ: Mapping[str, str], change: Any) -> Path:
    path = _path(level, dot_dir, environ)
    data = levels.read(path) or {"schema": levels.SCHEMA}
    change(data)
    trial = [layer for layer in levels.layers(dot_dir, environ) if layer.level != level]
    at = sum(1 for layer in trial if layer.level in WRITABLE[: WRITABLE.index(level)])
    trial.insert(at, levels.Layer(level, f"file:{path}", data))
    build(trial)  # refuses a result that would not load; nothing is written then
    levels.write(path, data)
    return path


def _path(level: str, dot_dir: Path | None, environ: Mapping[str, str]) -> Path:
    if level not in WRITABLE:
        raise ConfigError(f"'{level}' is not a level; use one of {', '.join(WRITABLE)}")
    path = levels.path_of(level, dot_dir, environ)
    if path is None:
        raise ConfigError(
            f"the {level} settings belong to a repository, and this is not in one; use "
            "--global or --system, or run 'gitflowml init' first"
        )
    return path
