"""Settings: what they mean once every level is merged (`Config`), and the edits commands
make (remotes, `config KEY VALUE`). Where they live is `config.levels`; the names there are
`config.keys`. This package is the only reader of GITFLOWML_* environment variables.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitflowml.config import keys, levels
from gitflowml.config.levels import CONFIG_NAME as CONFIG_NAME
from gitflowml.config.levels import LOCAL_CONFIG_NAME as LOCAL_CONFIG_NAME
from gitflowml.config.levels import SCHEMA as SCHEMA
from gitflowml.errors import ConfigError
from gitflowml.util import yamlio


class LinkType(enum.Enum):
    """How `checkout` puts a cached object into the workspace."""

    REFLINK = "reflink"
    COPY = "copy"
    HARDLINK = "hardlink"
    SYMLINK = "symlink"


DEFAULT_LINK_TYPES = (LinkType.REFLINK, LinkType.COPY)


# options that hold credentials: only ever written to config.local.yaml (never committed)
SECRET_OPTIONS = frozenset(
    {
        "key",
        "secret",
        "token",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "password",
        "passphrase",
        "client_secret",
        "account_key",
        "sas_token",
        "credentials",
    }
)
_REMOTE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# gitflowml's own remote options (SPEC section 14): sizes, never passed to the file system
PACK_OPTIONS = {"pack_threshold": 1 << 20, "pack_size": 64 << 20}
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?i?B?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str, what: str) -> int:
    """A byte count: `1048576`, `512KiB`, `4MiB`, `1G` (units are powers of 1024)."""
    match = _SIZE.match(text)
    if match is None:
        raise ConfigError(f"{what}: {text!r} is not a size; write bytes or e.g. 4MiB, 512KiB")
    unit = (match.group(2) or "").lower().rstrip("b").rstrip("i")
    return int(match.group(1)) * _UNITS[unit]


@dataclass(frozen=True, slots=True)
class RemoteConfig:
    name: str
    url: str
    options: tuple[tuple[str, str], ...] = ()  # as configured, PACK_OPTIONS included

    @property
    def fs_options(self) -> dict[str, str]:
        """The options passed to the fsspec file system."""
        return {k: v for k, v in self.options if k not in PACK_OPTIONS}

    def size_option(self, key: str) -> int:
        """`pack_threshold` or `pack_size`, in bytes (a default when unset)."""
        for name, value in self.options:
            if name == key:
                return parse_size(value, f"remote '{self.name}' option {key}")
        return PACK_OPTIONS[key]


@dataclass(frozen=True, slots=True)
class Config:
    cache_types: tuple[LinkType, ...] = DEFAULT_LINK_TYPES
    cache_dir: Path | None = None  # None: .gitflowml/cache
    jobs: int | None = None  # None: chosen from the CPU count
    remotes: tuple[RemoteConfig, ...] = ()
    default_remote: str | None = None
    allow_large_files: tuple[str, ...] = ()  # glob patterns check-large-files lets through
    executor: str = "local"  # core.executor: how repro runs stages by default
    scheduler: str | None = None  # core.scheduler: a Dask scheduler address

    def remote(self, name: str | None) -> RemoteConfig:
        """The named remote, or the default one; a clear error when there is none."""
        wanted = name or self.default_remote
        if wanted is None:
            raise ConfigError(
                "no default remote; name one with -r, or set one with "
                "'gitflowml remote add -d NAME URL'"
            )
        for remote in self.remotes:
            if remote.name == wanted:
                return remote
        known = ", ".join(r.name for r in self.remotes) or "none"
        raise ConfigError(
            f"remote '{wanted}' does not exist (known: {known}); add it with "
            f"'gitflowml remote add {wanted} URL'"
        )


ENV_VARIABLE = "GITFLOWML_ENV"  # the environment (`--env NAME`) of this command
_ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


def active_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The environment whose params overlays apply (`--env NAME` or GITFLOWML_ENV)."""
    name = (os.environ if environ is None else environ).get(ENV_VARIABLE) or None
    if name is not None:
        check_env_name(name)
    return name


def check_env_name(name: str) -> None:
    if not _ENV_NAME.match(name):
        raise ConfigError(
            f"'{name}' is not an environment name; use letters, digits, '_' and '-' (it "
            "names params.NAME.yaml)"
        )


def default_text() -> str:
    return yamlio.dumps({"schema": SCHEMA, "cache": {"type": "reflink,copy"}})


def write_default(dot_dir: Path) -> bool:
    """Create config.yaml if it is missing; True when it was created."""
    return levels.write_default(dot_dir)


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


def load(dot_dir: Path | None, environ: Mapping[str, str] | None = None) -> Config:
    """The settings of the repository whose private directory is `dot_dir` (None: outside
    any repository), every level merged."""
    env = os.environ if environ is None else environ
    return build(levels.layers(dot_dir, env))


def build(found: Sequence[levels.Layer]) -> Config:
    """`Config` from layers (lowest first); a ConfigError names the layer a bad value is in."""
    data = levels.merged(found)

    def where(*parts: str) -> str:
        for layer in reversed(found):
            if keys.get(layer.data, keys.Name("", parts, "text")) is not None:
                return layer.origin.removeprefix("file:")
        return "settings"

    cache = data.get("cache") or {}
    core = data.get("core") or {}
    for section, body in (("cache", cache), ("core", core)):
        if not isinstance(body, dict):
            raise ConfigError(f"{where(section)}: '{section}' must be a mapping")
    types = parse_link_types(str(cache.get("type") or "reflink,copy"), where("cache", "type"))
    dir_value = cache.get("dir")
    cache_dir: Path | None = None
    if dir_value:
        cache_dir = Path(str(dir_value)).expanduser()
        if not cache_dir.is_absolute():  # relative to the file that says so
            base = where("cache", "dir")
            anchor = Path(base).parent if base.endswith(".yaml") else Path.cwd()
            cache_dir = (anchor / cache_dir).resolve()
    jobs_value = core.get("jobs")
    jobs: int | None = None
    if jobs_value is not None:
        try:
            jobs = int(jobs_value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where('core', 'jobs')}: core.jobs must be a whole number"
            ) from None
        if jobs < 1:
            raise ConfigError(f"{where('core', 'jobs')}: core.jobs must be at least 1")
    remotes = _remotes(data.get("remote") or {}, where("remote"))
    default = core.get("remote")
    if default is not None and not any(r.name == default for r in remotes):
        raise ConfigError(
            f"{where('core', 'remote')}: core.remote names '{default}', which is not a remote"
        )
    allow = core.get("allow_large_files") or []
    if not isinstance(allow, list):
        raise ConfigError(
            f"{where('core', 'allow_large_files')}: core.allow_large_files must be a list of "
            "glob patterns"
        )
    return Config(
        cache_types=types,
        cache_dir=cache_dir,
        jobs=jobs,
        remotes=remotes,
        default_remote=None if default is None else str(default),
        allow_large_files=tuple(str(p) for p in allow),
        executor=_executor(core.get("executor"), where("core", "executor")),
        scheduler=None if core.get("scheduler") is None else str(core["scheduler"]),
    )


def _executor(value: Any, where: str) -> str:
    if value is None:
        return "local"
    if value not in ("local", "dask"):
        raise ConfigError(f"{where}: core.executor must be 'local' or 'dask', not {value!r}")
    return str(value)


def _remotes(section: Any, where: str) -> tuple[RemoteConfig, ...]:
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: 'remote' must be a mapping of remote names")
    out = []
    for name, body in sorted(section.items()):
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            raise ConfigError(f"{where}: remote '{name}' needs a 'url'")
        options = tuple(sorted((str(k), str(v)) for k, v in body.items() if k != "url"))
        out.append(RemoteConfig(str(name), body["url"], options))
    return tuple(out)


# -- writing remotes -------------------------------------------------------------------------
def _edit(dot_dir: Path, local: bool, change: Any) -> None:
    """Apply `change(data)` to config.yaml (or config.local.yaml) and write it atomically."""
    levels.edit(dot_dir / (LOCAL_CONFIG_NAME if local else CONFIG_NAME), change)


def _check_name(name: str) -> None:
    if not _REMOTE_NAME.match(name):
        raise ConfigError(
            f"'{name}' is not a valid remote name; use letters, digits, '_', '.' and '-'"
        )


def _refuse_secret(key: str, local: bool) -> None:
    if key in SECRET_OPTIONS and not local:
        raise ConfigError(
            f"'{key}' is a credential and config.yaml is committed to git; set it with "
            "--local (it then goes to .gitflowml/config.local.yaml, which git ignores), or "
            "use the standard environment variables or profiles of the file system"
        )


def add_remote(dot_dir: Path, name: str, url: str, *, default: bool, local: bool) -> None:
    _check_name(name)
    existing = load(dot_dir)
    if any(r.name == name for r in existing.remotes):
        raise ConfigError(
            f"remote '{name}' exists already; change it with 'gitflowml remote modify {name} "
            "url URL' or remove it first"
        )

    def change(data: dict[str, Any]) -> None:
        data.setdefault("remote", {})[name] = {"url": url}
        if default:
            data.setdefault("core", {})["remote"] = name

    _edit(dot_dir, local, change)


def modify_remote(dot_dir: Path, name: str, key: str, value: str, *, local: bool) -> None:
    _refuse_secret(key, local)
    if not any(r.name == name for r in load(dot_dir).remotes):
        load(dot_dir).remote(name)  # raises the "does not exist" error
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        raise ConfigError(f"'{key}' is not a valid option name")
    if key in PACK_OPTIONS and parse_size(value, f"option {key}") < (key == "pack_size"):
        raise ConfigError(f"option {key} must be at least 1 byte")  # a threshold of 0: loose

    def change(data: dict[str, Any]) -> None:
        data.setdefault("remote", {}).setdefault(name, {})[key] = value

    _edit(dot_dir, local, change)


def remove_remote(dot_dir: Path, name: str) -> None:
    load(dot_dir).remote(name)  # raises when it does not exist
    for local in (False, True):

        def change(data: dict[str, Any]) -> None:
            (data.get("remote") or {}).pop(name, None)
            if not data.get("remote"):
                data.pop("remote", None)
            core = data.get("core") or {}
            if core.get("remote") == name:
                core.pop("remote")
                if not core:
                    data.pop("core", None)

        path = dot_dir / (LOCAL_CONFIG_NAME if local else CONFIG_NAME)
        if path.exists():
            _edit(dot_dir, local, change)
