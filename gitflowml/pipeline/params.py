"""Reads params files (YAML, JSON, TOML) and looks values up by dotted key.

Params files belong to the user; gitflowml only reads them. Keys are flattened with `.`
(`train.lr`), and list items are addressed by index (`layers.0`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitflowml import config, quick
from gitflowml.errors import PipelineError
from gitflowml.util import fsutil, yamlio

DEFAULT_PARAMS = "params.yaml"
_MISSING = object()


def parse_data(text: str, suffix: str) -> Any:
    """The content of a params or metrics file, by its suffix: JSON, TOML, else YAML.
    Raises ValueError (JSON, TOML) or yamlio.YamlError."""
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        return parse_toml(text)
    return yamlio.loads(text)


def load(path: Path, shown: str | None = None, env: str | None = None) -> dict[str, Any]:
    """The whole params file as nested data, with the active environment's overlay
    (`P.NAME.yaml` beside `P.yaml`, see `overlay_name`) merged over it when there is one;
    `env` names another environment. An error names the file and what to do."""
    data = _load_one(path, shown)
    wanted = env or config.active_env()
    if wanted:
        over = path.with_name(overlay_name(path.name, wanted))
        quick.note(over)
        if over.is_file():
            data = merge(data, _load_one(over, overlay_name(shown or str(path), wanted)))
    return data


def effective_file(base: Path, scratch: Path, name: str) -> Path | None:
    """For a shell stage's GITFLOWML_PARAMS_FILE: the params.yaml of its directory `base`
    as the stage sees it. That is the file itself unless the active environment overlays
    it; then the merged values, written to `scratch/NAME.yaml` (the tracked files are never
    rewritten). None when there is no params.yaml."""
    default = base / DEFAULT_PARAMS
    if not default.is_file():
        return None
    env = config.active_env()
    if not env or not (base / overlay_name(DEFAULT_PARAMS, env)).is_file():
        return default
    scratch.mkdir(parents=True, exist_ok=True)
    dest = scratch / f"{name}.yaml"
    fsutil.atomic_write_text(dest, yamlio.dumps(load(default)))
    return dest


def overlay_name(name: str, env: str) -> str:
    """`params.yaml` -> `params.prod.yaml`: the overlay of environment `env` (any path)."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{env}.{suffix}" if dot and "/" not in suffix else f"{name}.{env}"


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Kedro's rule (`yamlio.merge`): mappings merge all the way down; lists and scalars in
    `over` replace what `base` has."""
    return yamlio.merge(base, over)


def _load_one(path: Path, shown: str | None) -> dict[str, Any]:
    name = shown or str(path)
    quick.note(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(
            f"params file {name} does not exist; create it or fix the path"
        ) from None
    suffix = path.suffix.lower()
    try:
        data = parse_data(text, suffix)
    except yamlio.YamlError as exc:
        raise PipelineError(f"{exc.where(name)}; fix the file") from exc
    except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError
        raise PipelineError(f"{name}: malformed {suffix[1:].upper()} ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PipelineError(f"{name}: expected a mapping of params at the top level")
    return data


def parse_toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def lookup(data: Any, key: str) -> Any:
    """`data["a"]["b"][0]` for key `a.b.0`; a KeyError names the key when it is absent."""
    node = data
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(key)
    return node


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf value by its dotted key (`{"train": {"lr": 1}}` -> `{"train.lr": 1}`)."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(data, list) and data:
        for index, value in enumerate(data):
            out.update(flatten(value, f"{prefix}{index}."))
    else:
        out[prefix[:-1]] = data
    return out
