"""Owns where settings live and the files there, level by level (SPEC section 16), lowest
first: `system` (`$XDG_CONFIG_DIRS`, first entry, else `/etc/xdg`: `gitflowml/config.yaml`),
`global` (`$XDG_CONFIG_HOME`, else `~/.config`: `gitflowml/config.yaml`), `repo`
(`.gitflowml/config.yaml`, committed), `local` (`.gitflowml/config.local.yaml`, ignored by
git); above them the `GITFLOWML_*` environment variables that name a setting, and on top the
`-c KEY=VALUE` overrides of one command, which travel in `GITFLOWML_CONFIG_PARAMETERS` (as
git's `-c` does in `GIT_CONFIG_PARAMETERS`) so that the processes a command starts see them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitflowml import quick
from gitflowml.config import keys
from gitflowml.errors import ConfigError
from gitflowml.util import fsutil, yamlio

SCHEMA = 1
CONFIG_NAME = "config.yaml"
LOCAL_CONFIG_NAME = "config.local.yaml"
FILE_LEVELS = ("system", "global", "repo", "local")  # lowest first
OVERRIDES_ENV = "GITFLOWML_CONFIG_PARAMETERS"
# environment variables that set a key, above every file
ENV_KEYS = {
    "GITFLOWML_CACHE_TYPE": ("cache", "type"),
    "GITFLOWML_CACHE_DIR": ("cache", "dir"),
    "GITFLOWML_JOBS": ("core", "jobs"),
}


@dataclass(frozen=True, slots=True)
class Layer:
    level: str  # one of FILE_LEVELS, "env" or "command line"
    origin: str  # what `config --show-origin` prints: file:PATH, env:NAME, command line:-c
    data: dict[str, Any]


def path_of(level: str, dot_dir: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file of a level; None for the repository's levels outside a repository."""
    if level in ("repo", "local"):
        if dot_dir is None:
            return None
        return dot_dir / (CONFIG_NAME if level == "repo" else LOCAL_CONFIG_NAME)
    if level == "global":
        home = environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        return Path(home) / "gitflowml" / CONFIG_NAME
    if level == "system":
        first = (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")[0] or "/etc/xdg"
        return Path(first) / "gitflowml" / CONFIG_NAME
    raise ValueError(level)


def layers(dot_dir: Path | None, environ: Mapping[str, str]) -> list[Layer]:
    """Every level that sets something, lowest first."""
    out = []
    for level in FILE_LEVELS:
        path = path_of(level, dot_dir, environ)
        if path is not None:
            data = read(path)
            if data:
                out.append(Layer(level, f"file:{path}", data))
    for variable, (section, option) in ENV_KEYS.items():
        if environ.get(variable):
            out.append(Layer("env", f"env:{variable}", {section: {option: environ[variable]}}))
    for key, text in overrides(environ):
        value = keys.value_of(keys.parse(key), text)
        out.append(Layer("command line", "command line:-c", nest(key, value)))
    return out


def merged(found: Sequence[Layer]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for layer in found:
        data = yamlio.merge(data, layer.data)
    data.pop("schema", None)
    return data


def read(path: Path) -> dict[str, Any]:
    """A config file's mapping ({} when there is none); ConfigError when it is not one."""
    quick.note(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
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


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change(data)` to one level's file and write it atomically (made if missing)."""
    data = read(path) or {"schema": SCHEMA}
    change(data)
    write(path, data)


def write(path: Path, data: dict[str, Any]) -> None:
    """Replace one level's file with `data`, atomically (its directory made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write_text(path, yamlio.dumps(data))


def write_default(dot_dir: Path) -> bool:
    """Create the repo's config.yaml if it is missing; True when it was created."""
    path = dot_dir / CONFIG_NAME
    if path.exists():
        return False
    fsutil.atomic_write_text(
        path, yamlio.dumps({"schema": SCHEMA, "cache": {"type": "reflink,copy"}})
    )
    return True


# -- the -c overrides of one command -----------------------------------------------------------
def nest(key: str, value: Any) -> dict[str, Any]:
    """`remote.s3.region`, "x" -> {"remote": {"s3": {"region": "x"}}} (a remote's name may
    hold dots: the first part is the section, the last the option)."""
    section, _, rest = key.partition(".")
    if section == "remote":
        name, _, option = rest.rpartition(".")
        return {"remote": {name: {option: value}}}
    return {section: {rest: value}}


def overrides(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    text = environ.get(OVERRIDES_ENV)
    if not text:
        return []
    try:
        pairs = json.loads(text)
        return [(str(k), str(v)) for k, v in pairs]
    except (ValueError, TypeError):
        raise ConfigError(f"{OVERRIDES_ENV} is not what gitflowml's -c writes; unset it") from None


def add_overrides(pairs: Sequence[tuple[str, str]], environ: MutableMapping[str, str]) -> None:
    """Make `-c` settings part of this process's (and its children's) configuration."""
    environ[OVERRIDES_ENV] = json.dumps([*overrides(environ), *map(list, pairs)])
