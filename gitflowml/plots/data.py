"""Plot data files into records: JSON (a list of records, or the first list found in an
object), YAML (the same), CSV and TSV. Images are not data: they are shown as they are.

A million CSV points are read in about a second: columns convert at C speed, and the fields
each point gets (its revision, a step counter) are added in the same pass.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitflowml.util import yamlio

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}
DATA_SUFFIXES = {".json", ".yaml", ".yml", ".csv", ".tsv"}
Record = dict[str, Any]


class DataError(ValueError):
    """A data file that cannot be read as records; the message says why."""


@dataclass(frozen=True, slots=True)
class Table:
    rows: list[Record]
    fields: list[str]  # the file's own fields, in first-seen order (not rev or step)


def is_image(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in IMAGE_SUFFIXES


def is_data(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in DATA_SUFFIXES


def records(path: str, data: bytes, rev: str | None = None, step: str | None = None) -> Table:
    """The file's records; with `rev`, each gets a `rev` field of that value, and with
    `step`, a field of that name counting from 0."""
    suffix = posixpath.splitext(path)[1].lower()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("is not UTF-8 text") from None
    if suffix in (".csv", ".tsv"):
        return _table(text, "\t" if suffix == ".tsv" else ",", rev, step)
    try:
        doc = json.loads(text) if suffix == ".json" else yamlio.loads(text)
    except (ValueError, yamlio.YamlError) as exc:
        kind = "JSON" if suffix == ".json" else "YAML"
        raise DataError(f"is malformed {kind} ({str(exc).splitlines()[0]})") from None
    found = _first_list(doc)
    if found is None:
        raise DataError("holds no list of records")
    rows = [r for r in found if isinstance(r, dict)]
    if len(rows) != len(found):
        raise DataError("holds a list whose items are not records")
    names = fields(rows)
    extra = {} if rev is None else {"rev": rev}
    if step is None:
        rows = [{**r, **extra} for r in rows] if extra else rows
    else:
        rows = [{**r, **extra, step: i} for i, r in enumerate(rows)]
    return Table(rows, names)


def _first_list(doc: Any) -> list[Any] | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for value in doc.values():
            found = _first_list(value)
            if found is not None:
                return found
    return None


def _table(text: str, delimiter: str, rev: str | None, step: str | None) -> Table:
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
    if not rows:
        return Table([], [])
    head = rows[0]
    if len(set(head)) != len(head) or any(not h for h in head):
        raise DataError("has an empty or repeated column name in its header")
    width = len(head)
    if set(map(len, rows)) != {width}:  # C speed; then find the line to name
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != width:
                raise DataError(f"line {number} has {len(row)} fields, the header {width}")
    count = len(rows) - 1
    columns: list[Iterable[Any]] = (
        [_column(c) for c in zip(*rows[1:], strict=True)] if count else []
    )
    if count == 0:
        columns = [[] for _ in head]
    keys = list(head)
    if rev is not None:
        keys.append("rev")
        columns.append(itertools.repeat(rev, count))
    if step is not None:
        keys.append(step)
        columns.append(range(count))
    return Table([dict(zip(keys, v, strict=True)) for v in zip(*columns, strict=True)], head)


def _column(values: tuple[str, ...]) -> list[Any]:
    """A column as ints, else floats, else value by value (at C speed when it is all
    numbers)."""
    for kind in (int, float):
        try:
            return list(map(kind, values))
        except ValueError:
            continue
    return [_scalar(v) for v in values]


def _scalar(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def fields(rows: Iterable[Record]) -> list[str]:
    """Every field, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)
