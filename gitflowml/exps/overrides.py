"""`-S/--set-param`: Hydra's basic override grammar, parsed here, and its effect on params
files.

`[FILE:]KEY=VALUE` sets a key that exists, `+KEY=VALUE` adds one that does not, `++KEY=VALUE`
sets one either way, `~KEY` (or `~KEY=VALUE`, when it has that value) removes one. VALUE is
a YAML scalar or flow collection; top-level commas make a sweep (`lr=0.1,0.01`), as do
`range(start, stop[, step])` and `choice(a, b, …)`. Several sweeps are a Cartesian product.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from gitflowml.errors import ExperimentError
from gitflowml.pipeline import params as params_mod
from gitflowml.util import fsutil, yamlio

Op = Literal["set", "add", "force", "remove"]
_KEY = re.compile(r"^[A-Za-z0-9_][\w\-]*(\.[\w\-]+)*$")
_FUNC = re.compile(r"^(range|choice)\((.*)\)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Override:
    file: str  # the params file, relative to the repository root
    key: str  # dotted
    op: Op
    value: Any = None  # for remove with check_value: the value it must have
    text: str = ""  # as given, for messages
    check_value: bool = False  # remove only when the value matches

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Parsed:
    file: str
    key: str
    op: Op
    values: tuple[Any, ...]  # one value, or a sweep's values
    text: str
    check_value: bool = False

    @property
    def sweep(self) -> bool:
        return len(self.values) > 1


def parse(text: str, default_file: str = params_mod.DEFAULT_PARAMS) -> Parsed:
    """One override; ExperimentError names it and says what is wrong."""
    body, op = _op(text)
    left, eq, right = body.partition("=")
    if not eq and op != "remove":
        raise ExperimentError(
            f"override '{text}' has no '='; write KEY=VALUE (or +KEY=VALUE, ~KEY)"
        )
    file, colon, key = left.rpartition(":")
    if not colon:
        file = default_file
    key = key.strip()
    if not _KEY.match(key):
        raise ExperimentError(
            f"override '{text}': '{key}' is not a params key; keys are names joined by '.'"
        )
    if not file:
        raise ExperimentError(f"override '{text}': the file before ':' is empty")
    if op == "remove":
        values = (_value(right, text),) if eq else (None,)
        return Parsed(file, key, op, values, text, check_value=bool(eq))
    return Parsed(file, key, op, tuple(_values(right, text)), text)


def _op(text: str) -> tuple[str, Op]:
    if text.startswith("++"):
        return text[2:], "force"
    if text.startswith("+"):
        return text[1:], "add"
    if text.startswith("~"):
        return text[1:], "remove"
    return text, "set"


def _values(text: str, whole: str) -> list[Any]:
    stripped = text.strip()
    func = _FUNC.match(stripped)
    if func:
        inside = func.group(2)
        args = [_value(a, whole) for a in _split(inside, whole)] if inside.strip() else []
        if func.group(1) == "choice":
            if not args:
                raise ExperimentError(f"override '{whole}': choice() needs at least one value")
            return args
        return _range(args, whole)
    parts = _split(text, whole)
    return [_value(p, whole) for p in parts] if len(parts) > 1 else [_value(text, whole)]


def _range(args: list[Any], whole: str) -> list[Any]:
    if not 1 <= len(args) <= 3 or not all(_number(a) for a in args):
        raise ExperimentError(
            f"override '{whole}': range() takes numbers: range(stop), range(start, stop) or "
            "range(start, stop, step)"
        )
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args[:2], 1)
    if len(args) == 3:
        step = args[2]
    if step == 0:
        raise ExperimentError(f"override '{whole}': range() step must not be 0")
    out: list[Any] = []
    value = start
    while (value < stop) if step > 0 else (value > stop):
        out.append(value)
        value = start + step * len(out)  # no drift for floats
        if len(out) > 10_000:
            raise ExperimentError(f"override '{whole}': range() gives over 10,000 values")
    if not out:
        raise ExperimentError(f"override '{whole}': range() is empty")
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _split(text: str, whole: str) -> list[str]:
    """`text` split at commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if quote or depth:
        raise ExperimentError(f"override '{whole}': unbalanced quotes or brackets")
    parts.append(text[start:])
    return parts


def _value(text: str, whole: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        return yaml.safe_load(stripped)
    except yaml.YAMLError:
        raise ExperimentError(f"override '{whole}': '{stripped}' is not a valid value") from None


def expand(parsed: Sequence[Parsed]) -> list[tuple[Override, ...]]:
    """Every combination of the sweeps (one combination when there is none), in order."""
    choices = [
        [Override(p.file, p.key, p.op, v, p.text, p.check_value) for v in p.values] for p in parsed
    ]
    return [tuple(combo) for combo in itertools.product(*choices)]


# -- applying them ---------------------------------------------------------------------------
def apply(doc: dict[str, Any], overrides: Sequence[Override], file: str) -> dict[str, Any]:
    """`doc` with the overrides of `file` applied (a new dict; `doc` is left as it is)."""
    out: dict[str, Any] = copy.deepcopy(doc)
    for o in overrides:
        if o.file != file:
            continue
        parent, last = _parent(out, o, create=o.op in ("add", "force"))
        exists = _has(parent, last)
        if o.op == "set" and not exists:
            raise ExperimentError(
                f"'{o.key}' is not in {file}; use '+{o.text}' to add it, or check the spelling"
            )
        if o.op == "add" and exists:
            raise ExperimentError(
                f"'{o.key}' is in {file} already; use '{o.text[1:]}' to change it"
            )
        if o.op == "remove":
            if not exists:
                raise ExperimentError(f"'{o.key}' is not in {file}, so '~{o.key}' removes nothing")
            if o.check_value and _get(parent, last) != o.value:
                raise ExperimentError(f"'{o.key}' in {file} is not {o.value!r}; nothing removed")
            del parent[int(last) if isinstance(parent, list) else last]
            continue
        _set(parent, last, o.value, o)
    return out


def _parent(doc: dict[str, Any], o: Override, create: bool) -> tuple[Any, str]:
    node: Any = doc
    parts = o.key.split(".")
    for part in parts[:-1]:
        if isinstance(node, Mapping):
            if part not in node:
                if not create:
                    raise ExperimentError(
                        f"'{o.key}' is not in {o.file}; use '+{o.text}' to add it, or check "
                        "the spelling"
                    )
                node[part] = {}  # type: ignore[index]
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ExperimentError(f"override '{o.text}': '{part}' of '{o.key}' is not a mapping")
    if not isinstance(node, Mapping | list):
        raise ExperimentError(f"override '{o.text}': the parent of '{parts[-1]}' is not a mapping")
    return node, parts[-1]


def _has(parent: Any, last: str) -> bool:
    if isinstance(parent, list):
        return last.isdigit() and int(last) < len(parent)
    return isinstance(parent, Mapping) and last in parent


def _get(parent: Any, last: str) -> Any:
    return parent[int(last)] if isinstance(parent, list) else parent[last]


def _set(parent: Any, last: str, value: Any, o: Override) -> None:
    if isinstance(parent, list):
        if not _has(parent, last):
            raise ExperimentError(f"override '{o.text}': no item {last} in that list")
        parent[int(last)] = value
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise ExperimentError(f"override '{o.text}': the parent of '{last}' is not a mapping")


def files_of(overrides: Sequence[Override]) -> list[str]:
    return sorted({o.file for o in overrides})


def rendered(root: Path, overrides: Sequence[Override]) -> dict[str, str]:
    """The new text of each params file the overrides change (read from under `root`; a
    file that does not exist starts empty, for `+key`)."""
    out = {}
    for file in files_of(overrides):
        path = root / file
        doc = params_mod.load(path, file) if path.exists() else {}
        out[file] = dump(apply(doc, overrides, file), path.suffix.lower(), file)
    return out


def write(root: Path, texts: Mapping[str, str]) -> None:
    """Write the params files `rendered` made, each atomically."""
    for file, text in texts.items():
        fsutil.atomic_write_text(root / file, text)


def dump(doc: dict[str, Any], suffix: str, shown: str) -> str:
    if suffix == ".json":
        return json.dumps(doc, indent=2) + "\n"
    if suffix == ".toml":
        raise ExperimentError(
            f"{shown} is TOML, which gitflowml can read but not write; move those params to a "
            "YAML or JSON file to set them with -S"
        )
    return yamlio.dumps(doc)
