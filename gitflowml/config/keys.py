"""The settings there are: their dotted names (`cache.type`, `remote.NAME.OPTION`), what
values they take, and the flat view of the nested files (`config --list`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitflowml.errors import ConfigError

_OPTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REMOTE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    kind: str  # how a value given on the command line is read: "text", "int" or "list"
    meaning: str


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("cache.type", "text", "link types checkout tries, in order: reflink,copy"),
        Key("cache.dir", "text", "the object cache, when not .gitflowml/cache"),
        Key("core.jobs", "int", "threads for hashing and transfers (default: from the CPUs)"),
        Key("core.remote", "text", "the default remote"),
        Key("core.executor", "text", "how repro runs stages: local or dask"),
        Key("core.scheduler", "text", "a Dask scheduler address for --executor dask"),
        Key("core.allow_large_files", "list", "globs check-large-files lets through"),
    )
}
REMOTE_OPTIONS = {  # the common ones, for "did you mean"; any option name is accepted
    "url": "where the remote is (a path or any fsspec URL)",
    "pack_threshold": "objects smaller than this go into packs (default 1MiB)",
    "pack_size": "the largest pack (default 64MiB)",
    "endpoint_url": "an S3-compatible server's address",
    "region": "the S3 region",
    "profile": "an AWS profile",
}


@dataclass(frozen=True, slots=True)
class Name:
    """A parsed setting name: the path into the nested files."""

    key: str
    parts: tuple[str, ...]
    kind: str

    @property
    def remote_option(self) -> str | None:
        return self.parts[2] if self.parts[0] == "remote" else None


def parse(key: str) -> Name:
    """A setting's name, checked; unknown ones get a "did you mean" hint."""
    if key in KEYS:
        section, option = key.split(".")
        return Name(key, (section, option), KEYS[key].kind)
    if key.startswith("remote."):
        name, _, option = key[len("remote.") :].rpartition(".")
        if not name or not _REMOTE_NAME.match(name):
            raise ConfigError(
                f"'{key}': a remote's setting is remote.NAME.OPTION, with a NAME of letters, "
                "digits, '_', '.' and '-'"
            )
        if not _OPTION.match(option):
            raise ConfigError(f"'{key}': '{option}' is not a valid option name")
        return Name(key, ("remote", name, option), "text")
    known = [*KEYS, *(f"remote.NAME.{o}" for o in REMOTE_OPTIONS)]
    import difflib  # only for the error: settings are read by every command

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ConfigError(
        f"'{key}' is not a gitflowml setting{hint} ('gitflowml config --list' shows what is "
        "set; docs/configuration.md lists every setting)"
    )


def value_of(name: Name, text: str) -> Any:
    """A value given as text, as it is stored."""
    if name.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{name.key} must be a whole number, not {text!r}") from None
    if name.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def get(data: Mapping[str, Any], name: Name) -> Any:
    node: Any = data
    for part in name.parts:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def put(data: dict[str, Any], name: Name, value: Any) -> None:
    node = data
    for part in name.parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[name.parts[-1]] = value


def drop(data: dict[str, Any], name: Name) -> bool:
    """Remove a setting (and the sections it leaves empty); False when it was not set."""
    chain: list[dict[str, Any]] = [data]
    for part in name.parts[:-1]:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            return False
        chain.append(child)
    if name.parts[-1] not in chain[-1]:
        return False
    del chain[-1][name.parts[-1]]
    for parent, part, child in reversed(list(zip(chain, name.parts, chain[1:], strict=False))):
        if not child:
            del parent[part]
    return True


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted name -> value, for every setting in a nested mapping (sections unknown to this
    version are shown as they are)."""
    out: dict[str, Any] = {}
    for section, body in data.items():
        if section == "schema":
            continue
        if not isinstance(body, Mapping):
            out[str(section)] = body
        elif section == "remote":
            for remote, options in body.items():
                if isinstance(options, Mapping):
                    out.update({f"remote.{remote}.{k}": v for k, v in options.items()})
        else:
            out.update({f"{section}.{k}": v for k, v in body.items()})
    return out


def shown(value: Any) -> str:
    """A value as `config` prints it."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
