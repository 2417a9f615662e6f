"""The only place that calls PyYAML: safe loading and deterministic dumping."""

from __future__ import annotations

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
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None if flow_leaves else False,
        allow_unicode=True,
        width=1 << 16,
    )
