"""`dvc.yaml` as `pipeline.yaml`. The formats are the same but for one default: DVC caches
a stage's `metrics` and `plots` unless they say `cache: false` (and gitignores them), while
gitflowml keeps them in git by default. So each one without a `cache` option is written
with an explicit `cache: true`, and keeps DVC's meaning: a teammate's `pull` restores it.
Everything else is copied as DVC has it (comments are not kept: the file is re-written)."""

from __future__ import annotations

from typing import Any

from gitflowml.storage import dvc
from gitflowml.util import yamlio

_CACHED_BY_DVC = ("metrics", "plots")


def convert(text: str) -> tuple[str, list[str]]:
    """pipeline.yaml's text for `dvc.yaml`'s, and the paths given `cache: true`."""
    try:
        doc = yamlio.loads(text)
    except yamlio.YamlError as exc:
        raise dvc.DvcFormatError(f"{exc.where(dvc.DVC_YAML)}; fix it with DVC first") from None
    if not isinstance(doc, dict):
        raise dvc.DvcFormatError(f"{dvc.DVC_YAML}: not a mapping of stages")
    marked: list[str] = []
    for body in (doc.get("stages") or {}).values():
        if isinstance(body, dict):
            _mark(body.get("do", body) if "foreach" in body else body, marked)
    if not marked:
        return text, []
    return yamlio.dumps(doc), marked


def _mark(body: Any, marked: list[str]) -> None:
    if not isinstance(body, dict):
        return
    for kind in _CACHED_BY_DVC:
        entries = body.get(kind)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if isinstance(entry, str):
                entries[i] = {entry: {"cache": True}}
                marked.append(entry)
            elif isinstance(entry, dict) and len(entry) == 1:
                ((path, options),) = entry.items()
                if options is None:
                    options = entry[path] = {}
                if isinstance(options, dict) and "cache" not in options:
                    options["cache"] = True
                    marked.append(str(path))
