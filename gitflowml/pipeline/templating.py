"""Pure templating of pipeline definitions: `${var}` interpolation, `foreach`/`do`, `matrix`.

Follows dvc.yaml: a string that is exactly one `${...}` takes the value with its type; inside
longer strings values are formatted (booleans as `true`/`false`); `\\${` is a literal `${`.
Expressions are dotted paths with list indexes: `${train.lr}`, `${layers[0].size}`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

_TOKEN = re.compile(r"(\\)?\$\{([^}]*)\}")
_EXPR = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*")
_STEP = re.compile(r"\.?([\w-]+)|\[(\d+)\]")


class TemplateError(ValueError):
    """A template could not be expanded; the message names the variable or construct."""


def resolve(expr: str, context: Mapping[str, Any]) -> Any:
    """The value of a `${...}` expression such as `a.b[0].c` (or `a.b.0.c`)."""
    text = expr.strip()
    if not text:
        raise TemplateError("empty ${} expression")
    if not _EXPR.fullmatch(text):
        raise TemplateError(f"cannot parse ${{{expr}}}: use names joined by '.' and [index]")
    node: Any = context
    walked = ""
    for name, index in _STEP.findall(text):
        if index or (name.isdigit() and isinstance(node, list)):
            i = int(index or name)
            if not isinstance(node, list) or i >= len(node):
                raise TemplateError(f"'{walked}' has no item [{i}]")
            node = node[i]
            walked += f"[{i}]"
            continue
        if not isinstance(node, Mapping) or name not in node:
            if not walked:
                raise TemplateError(f"undefined variable '{name}'")
            raise TemplateError(f"'{walked}' has no key '{name}'")
        node = node[name]
        walked += f".{name}" if walked else name
    return node


def _format(value: Any, expr: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        raise TemplateError(f"${{{expr}}} is null and cannot be put into a string")
    if isinstance(value, (dict, list)):
        raise TemplateError(
            f"${{{expr}}} is a {type(value).__name__} and cannot be put "
            "into a string; use it on its own, or name one of its items"
        )
    return str(value)


def interpolate(value: Any, context: Mapping[str, Any]) -> Any:
    """Expand every `${...}` in `value` (strings, lists, dict keys and values)."""
    if isinstance(value, str):
        return _interpolate_str(value, context)
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    if isinstance(value, dict):
        return {interpolate(k, context): interpolate(v, context) for k, v in value.items()}
    return value


def _interpolate_str(text: str, context: Mapping[str, Any]) -> Any:
    whole = _TOKEN.fullmatch(text)
    if whole and not whole.group(1):
        return resolve(whole.group(2), context)

    def sub(match: re.Match[str]) -> str:
        if match.group(1):  # escaped: \${x} stays ${x}
            return match.group(0)[1:]
        return _format(resolve(match.group(2), context), match.group(2))

    return _TOKEN.sub(sub, text)


def _key(value: Any, index: int) -> str:
    return str(value) if isinstance(value, (str, int, float, bool)) else str(index)


def expand_foreach(
    name: str, foreach: Any, do: Any, context: Mapping[str, Any]
) -> Iterator[tuple[str, Any]]:
    """`name@key` stages from a list (key: the item, or its index if not a scalar) or a dict
    (key: the dict key, also available as `${key}`)."""
    items = interpolate(foreach, context)
    if isinstance(items, list):
        pairs = [(_key(v, i), v, None) for i, v in enumerate(items)]
    elif isinstance(items, dict):
        pairs = [(str(k), v, k) for k, v in items.items()]
    else:
        raise TemplateError("'foreach' must be a list, a mapping, or a ${} naming one")
    if not isinstance(do, dict):
        raise TemplateError("'do' must be a mapping: the stage to repeat")
    seen: set[str] = set()
    for key, item, dict_key in pairs:
        if key in seen:
            raise TemplateError(f"foreach gives two stages the name '{name}@{key}'")
        seen.add(key)
        scope = {**context, "item": item}
        if dict_key is not None:
            scope["key"] = dict_key
        yield f"{name}@{key}", interpolate(do, scope)


def expand_matrix(
    name: str, matrix: Any, body: Mapping[str, Any], context: Mapping[str, Any]
) -> Iterator[tuple[str, Any]]:
    """One stage per combination, `name@v1-v2` in the order the matrix lists its keys;
    `${item.<key>}` is each combination's value."""
    grid = interpolate(matrix, context)
    if not isinstance(grid, dict) or not grid:
        raise TemplateError("'matrix' must be a non-empty mapping of name: list of values")
    axes = []
    for axis, values in grid.items():
        if not isinstance(values, list) or not values:
            raise TemplateError(f"matrix '{axis}' must be a non-empty list")
        axes.append([(_key(v, i), v) for i, v in enumerate(values)])
    for combo in itertools.product(*axes):
        item = {axis: value for axis, (_, value) in zip(grid, combo, strict=True)}
        suffix = "-".join(key for key, _ in combo)
        yield f"{name}@{suffix}", interpolate(dict(body), {**context, "item": item})


def expressions(value: Any) -> list[str]:
    """Every unescaped `${...}` expression in `value`, in order."""
    if isinstance(value, str):
        return [m.group(2) for m in _TOKEN.finditer(value) if not m.group(1)]
    if isinstance(value, list):
        return [e for v in value for e in expressions(v)]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in (*expressions(k), *expressions(v))]
    return []
