"""Plot data files into records: JSON (a list of records, or the first list found in an
object), YAML (the same), CSV and TSV. Images are not data: they are shown as they are."""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Iterable
from typing import Any

from gitflowml.util import yamlio

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg"}
DATA_SUFFIXES = {".json", ".yaml", ".yml", ".csv", ".tsv"}
Record = dict[str, Any]


class DataError(ValueError):
    """A data file that cannot be read as records; the message says why."""


def is_image(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in IMAGE_SUFFIXES


def is_data(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in DATA_SUFFIXES


def records(path: str, data: bytes) -> list[Record]:
    suffix = posixpath.splitext(path)[1].lower()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("is not UTF-8 text") from None
    if suffix in (".csv", ".tsv"):
        return _table(text, "\t" if suffix == ".tsv" else ",")
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
    return rows


def _first_list(doc: Any) -> list[Any] | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for value in doc.values():
            found = _first_list(value)
            if found is not None:
                return found
    return None


def _table(text: str, delimiter: str) -> list[Record]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [r for r in reader if r]
    if not rows:
        return []
    head = rows[0]
    if len(set(head)) != len(head) or any(not h for h in head):
        raise DataError("has an empty or repeated column name in its header")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(head):
            raise DataError(f"line {number} has {len(row)} fields, the header {len(head)}")
        out.append({h: _scalar(v) for h, v in zip(head, row, strict=True)})
    return out


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
