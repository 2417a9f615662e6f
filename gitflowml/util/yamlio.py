"""The only place that calls PyYAML: safe loading and deterministic dumping."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import yaml

try:  # the C loader/dumper are several times faster when libyaml is present
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class YamlError(ValueError):
    """Malformed YAML; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line

    def where(self, shown: str) -> str:
        """`file:line: malformed YAML (problem)`, for an error message about `shown`."""
        at = f":{self.line}" if self.line else ""
        return f"{shown}{at}: malformed YAML ({self})"


def loads(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(str(problem), line) from exc


class _LineLoader(_Loader):
    """Records, for every mapping it builds, the line of each of its keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.key_lines: dict[int, dict[Any, int]] = {}

    def construct_located_map(self, node: yaml.MappingNode) -> Any:
        data: dict[Any, Any] = {}
        yield data
        data.update(self.construct_mapping(node))
        self.key_lines[id(data)] = {
            key.value: key.start_mark.line + 1
            for key, _ in node.value
            if isinstance(key, yaml.ScalarNode)
        }


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_located_map)


class Located:
    """A parsed document plus the line of every mapping key, for error messages."""

    def __init__(self, data: Any, key_lines: dict[int, dict[Any, int]]) -> None:
        self.data = data
        self._key_lines = key_lines

    def line(self, mapping: object, key: object) -> int | None:
        return self._key_lines.get(id(mapping), {}).get(key)

    def plain(self) -> tuple[Any, list[dict[Any, int]]]:
        """The document and the key lines of its mappings, in document order: what
        marshal can keep, for `from_plain`."""
        return self.data, [self._key_lines.get(id(m), {}) for m in _mappings(self.data)]

    @classmethod
    def from_plain(cls, data: Any, lines: list[dict[Any, int]]) -> Located:
        mappings = list(_mappings(data))
        if len(mappings) != len(lines):
            raise ValueError("the key lines do not fit the document")
        return cls(data, {id(m): keys for m, keys in zip(mappings, lines, strict=True)})


def _mappings(data: Any) -> list[dict[Any, Any]]:
    """Every mapping in `data`, in document order."""
    found: list[dict[Any, Any]] = []
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            found.append(value)
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return found


def loads_located(text: str) -> Located:
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(str(problem), line) from exc
    finally:
        loader.dispose()
    return Located(data, loader.key_lines)


def dumps(data: Any, flow_leaves: bool = False) -> str:
    """Block style; with `flow_leaves`, collections of scalars go on one line each (lock
    entries), which keeps diffs and merges to one line per entry."""
    if flow_leaves and isinstance(data, dict):
        fast = _fast_dumps(data)
        if fast is not None:
            return fast
    return _dump(data, flow_leaves)


def _dump(data: Any, flow_leaves: bool) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None if flow_leaves else False,
        allow_unicode=True,
        width=1 << 16,
    )


# -- the same text as `_dump(data, flow_leaves=True)`, written directly ---------------------
# PyYAML spends about 5 µs of Python per node deciding what a 200-stage lock looks like.
# Here the common shapes are written directly: mappings and lists of strings that PyYAML
# writes unquoted, ints, bools and None. A second-level entry (a lock's stage) holding
# anything else is written by PyYAML, all such entries in one call, and spliced in. The
# tests check the whole against PyYAML's own text.
# what PyYAML writes unquoted in block and flow context alike (`analyze_scalar`): printable
# ASCII, no leading indicator or space, none of `,?[]{}:#` inside, no trailing space
_PLAIN = re.compile(
    r"(?!\.\.\.)[A-Za-z0-9_/.$()=+^;<\\~][ !\"$-+\-./0-9;->@-Z\\^-z|~]{0,999}(?<! )\Z"
)
_STR_TAG = "tag:yaml.org,2002:str"
_implicit = functools.partial(
    yaml.resolver.Resolver().resolve,  # the tag a plain scalar would be read with
    yaml.ScalarNode,
    implicit=(True, False),
)


class _Unsupported(Exception):
    pass


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is str and _PLAIN.match(value) and _implicit(value) == _STR_TAG:
        return value
    raise _Unsupported


def _key(value: Any) -> str:
    if type(value) is not str or len(value) > 128:  # longer keys are written as "? key"
        raise _Unsupported
    return _scalar(value)


def _flow(value: Any) -> str | None:
    """A collection of scalars on one line; None for anything else."""
    if isinstance(value, dict):
        if any(isinstance(v, (dict, list)) for v in value.values()):
            return None
        return "{" + ", ".join(f"{_key(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if any(isinstance(v, (dict, list)) for v in value):
            return None
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise _Unsupported


def _block_mapping(data: dict[Any, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        name = _key(key)
        if not isinstance(value, (dict, list)):
            out.append(f"{pad}{name}: {_scalar(value)}")
            continue
        flow = _flow(value)
        if flow is not None:
            out.append(f"{pad}{name}: {flow}")
        elif isinstance(value, dict):
            out.append(f"{pad}{name}:")
            _block_mapping(value, indent + 2, out)
        else:
            out.append(f"{pad}{name}:")
            for item in value:  # a list in a mapping is not indented further
                if not isinstance(item, (dict, list)):
                    out.append(f"{pad}- {_scalar(item)}")
                elif (flow := _flow(item)) is not None:
                    out.append(f"{pad}- {flow}")
                else:
                    raise _Unsupported


def _collections(value: Any, seen: set[int]) -> None:
    """Add the ids of the collections in `value` to `seen`; one met twice (PyYAML writes it
    as an anchor and an alias) raises _Unsupported."""
    if isinstance(value, (dict, list)):
        if id(value) in seen:
            raise _Unsupported
        seen.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _collections(item, seen)


def _fast_dumps(data: dict[Any, Any]) -> str | None:
    out: list[str] = []
    if not any(isinstance(v, (dict, list)) for v in data.values()):
        return None  # PyYAML writes that on one line, as a flow mapping
    try:
        _collections(data, set())
        for key, value in data.items():
            if (
                not isinstance(value, dict)
                or not value
                or any(not isinstance(v, (dict, list)) for v in value.values())
            ):
                _block_mapping({key: value}, 0, out)
                continue
            out.append(f"{_key(key)}:")
            others: dict[Any, Any] = {}
            places: list[int] = []
            for name, entry in value.items():
                mark = len(out)
                try:
                    _block_mapping({name: entry}, 2, out)
                except _Unsupported:
                    del out[mark:]
                    others[name] = entry
                    places.append(mark)
                    out.append("")  # a place for PyYAML's text of this entry
            if others:
                text = _dump({key: others}, True).splitlines()[1:]
                starts = [i for i, line in enumerate(text) if line[:2] == "  " and line[2] != " "]
                if len(starts) != len(places):
                    return None
                for place, start, end in zip(places, starts, [*starts[1:], len(text)], strict=True):
                    out[place] = "\n".join(text[start:end])
    except _Unsupported:
        return None
    return "\n".join(out) + "\n"


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: mappings merge key by key, all the way down; anything else in
    `over` (a list, a scalar) replaces what `base` has. Settings levels and params
    environments both merge this way (Kedro's rule)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
