"""Metrics and params at any revision, and their differences (SPEC section 5).

Files are JSON, YAML, TOML or CSV/TSV, nested keys flattened with `.`. A table is read
as its last row, or, when its first column holds distinct names, as every row keyed by
that name (`cat.precision`).
Which metrics files: those named, else every `metrics` out of the pipeline.yaml of that
revision (and its top-level `metrics` list). Which params: the keys the pipeline's stages
track, or with `all_keys` every key of their params files. Everything is read through
`artifacts.Revision`, so nothing is checked out.
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitflowml import config, index
from gitflowml.errors import PipelineError
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline.model import PIPELINE_FILE
from gitflowml.project import Project
from gitflowml.revision import Revision
from gitflowml.storage import hashing
from gitflowml.storage.tracked import is_under
from gitflowml.util import yamlio

Values = dict[str, dict[str, Any]]  # file -> flattened key -> value


@dataclass(frozen=True)
class Row:
    path: str
    key: str
    old: Any  # None: absent on that side
    new: Any

    @property
    def change(self) -> Any:
        """new - old for numbers; None when either side lacks it or they are not numbers."""
        if _number(self.old) and _number(self.new):
            return self.new - self.old
        return None

    @property
    def pct(self) -> float | None:
        if _number(self.old) and _number(self.new) and self.old:
            return float((self.new - self.old) / abs(self.old) * 100)
        return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse(path: str, data: bytes) -> dict[str, Any]:
    """A metrics or params file, flattened; a file that does not parse gives {}."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix not in (".csv", ".tsv"):
        doc = _doc(path, data)
        return {} if doc is None else params_mod.flatten(doc)
    text = data.decode("utf-8", "replace")
    try:
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
    except ValueError:
        return {}
    return _table(rows)


def _table(rows: list[dict[str, str | None]]) -> dict[str, Any]:
    """A CSV/TSV table: keyed by its first column when that holds distinct names (one
    row per class, say: `cat.precision`), else its last row (a log of epochs)."""
    if not rows:
        return {}
    first = next(iter(rows[0]))
    names = [r.get(first) for r in rows]
    if all(isinstance(_scalar(n), str) for n in names) and len(set(names)) == len(names):
        return {f"{r[first]}.{k}": _scalar(v) for r in rows for k, v in r.items() if k != first}
    return {k: _scalar(v) for k, v in rows[-1].items()}


def _scalar(value: str | None) -> Any:
    if value is None:
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def declared_metrics(revision: Revision) -> list[str]:
    """The metrics files the pipeline declares at that revision: every stage's `metrics`
    (foreach and matrix expanded) and the top-level `metrics` list. A revision from before
    the switch is read through its dvc.yaml."""
    found = revision.pipeline()
    if found is None:
        return []
    name, loaded = found
    paths = {o.path for s in loaded.stages.values() for o in s.outs if o.kind == "metric"}
    data = revision.read(name) or b""
    try:
        doc = yamlio.loads(data.decode("utf-8", "replace"))
    except yamlio.YamlError:
        doc = None
    for entry in (doc.get("metrics") or []) if isinstance(doc, dict) else []:
        paths.update(_paths(entry, ""))
    return sorted(p for p in paths if "${" not in p)


def _paths(entry: Any, wdir: str) -> list[str]:
    names = [entry] if isinstance(entry, str) else list(entry) if isinstance(entry, dict) else []
    return [posixpath.normpath(posixpath.join(wdir, str(n))) for n in names]


def show(revision: Revision, paths: Sequence[str] = ()) -> Values:
    files = list(paths) or declared_metrics(revision)
    out: Values = {}
    for path in files:
        data = revision.read(path)
        if data is not None:
            out[path] = parse(path, data)
    return out


def diff_values(old: Values, new: Values, all_rows: bool) -> list[Row]:
    rows = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, {}), new.get(path, {})
        for key in sorted(set(a) | set(b)):
            row = Row(path, key, a.get(key), b.get(key))
            if all_rows or row.old != row.new or type(row.old) is not type(row.new):
                rows.append(row)
    return rows


def metrics_diff(
    project: Project,
    a: str | None,
    b: str | None,
    paths: Sequence[str] = (),
    all_rows: bool = False,
) -> list[Row]:
    ra, rb = Revision(project, a or "HEAD"), Revision(project, b)
    files = list(paths) or sorted(set(declared_metrics(ra)) | set(declared_metrics(rb)))
    return diff_values(show(ra, files), show(rb, files), all_rows)


def effective(
    revision: Revision, file: str, env: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """A params file at `revision` with environment `env`'s overlay merged over it: its
    flattened values, and the file each value comes from."""
    data = revision.read(file)
    doc = (_doc(file, data) if data is not None else None) or {}
    origin = dict.fromkeys(params_mod.flatten(doc), file)
    if env:
        over_file = params_mod.overlay_name(file, env)
        over_data = revision.read(over_file)
        if over_data is not None:
            over = _doc(over_file, over_data) or {}
            doc = params_mod.merge(doc, over)
            origin = {k: origin.get(k, file) for k in params_mod.flatten(doc)}
            origin.update(dict.fromkeys(params_mod.flatten(over), over_file))
    values = params_mod.flatten(doc)
    return values, {k: origin.get(k, file) for k in values}


def _doc(path: str, data: bytes) -> dict[str, Any] | None:
    """A params or metrics file's mapping; None when it does not parse as one."""
    try:
        suffix = posixpath.splitext(path)[1].lower()
        doc = params_mod.parse_data(data.decode("utf-8", "replace"), suffix)
    except (ValueError, yamlio.YamlError):
        return None
    return doc if isinstance(doc, dict) else None


def params_files(project: Project) -> list[str]:
    """The params files the pipeline's stages read."""
    found = index.load(project)
    if found is None:
        raise PipelineError(f"there is no {PIPELINE_FILE} here, so no params to show")
    return sorted({ref.file for s in found[0].stages.values() for ref in s.params})


def params_show(project: Project, env: str | None) -> list[tuple[str, str, Any, str]]:
    """(file, key, value, the file it comes from) of every key of the params files the
    pipeline reads, in the workspace, with environment `env` (default: the active one)."""
    env = env or config.active_env()
    rows = []
    for file in params_files(project):
        values, origin = effective(Revision(project, None), file, env)
        rows += [(file, key, values[key], origin[key]) for key in sorted(values)]
    return rows


def params_at(
    project: Project, revision: Revision, all_keys: bool, env: str | None = None
) -> Values:
    """The params the workspace's pipeline tracks (every key of their files with
    `all_keys`), with their values at `revision` in environment `env` (default: the
    active one)."""
    found = index.load(project)
    if found is None:
        raise PipelineError(f"there is no {PIPELINE_FILE} here, so no params to compare")
    refs = [ref for s in found[0].stages.values() for ref in s.params]
    out: Values = {}
    for file in sorted({r.file for r in refs}):
        values, _ = effective(revision, file, env or config.active_env())
        if all_keys or any(r.keys is None for r in refs if r.file == file):
            out[file] = values
            continue
        keys = {k for r in refs if r.file == file for k in r.keys or ()}
        out[file] = {
            k: v for k, v in values.items() if any(k == w or k.startswith(w + ".") for w in keys)
        }
    return out


def params_diff(
    project: Project,
    a: str | None,
    b: str | None,
    all_rows: bool = False,
    envs: tuple[str | None, str | None] = (None, None),
) -> list[Row]:
    """From `a` (default HEAD) to `b` (default the workspace), each side in its
    environment; two environments and no revisions compare them in the workspace."""
    if envs[0] and envs[1] and a is None and b is None:
        ra, rb = Revision(project, None), Revision(project, None)
    else:
        ra, rb = Revision(project, a or "HEAD"), Revision(project, b)
    old = params_at(project, ra, all_rows, envs[0])
    return diff_values(old, params_at(project, rb, all_rows, envs[1]), all_rows)


@dataclass(frozen=True)
class DataDiff:
    added: tuple[str, ...]
    modified: tuple[str, ...]
    deleted: tuple[str, ...]


def data_diff(project: Project, a: str | None, b: str | None, git_stored: bool = True) -> DataDiff:
    """Data paths (files inside tracked directories too) added, modified or deleted from
    revision `a` (default HEAD) to `b` (default the workspace's pointers and lock). A
    revision from before the switch has DVC's md5 hashes: a file hashed one way on one side
    and the other way on the other is compared by its content. Without `git_stored`, outs
    that git stores (`cache: false`) are left to git, as `dvc diff` leaves them."""
    ra, rb = Revision(project, a or "HEAD"), Revision(project, b)
    old, new = _files(ra, git_stored), _files(rb, git_stored)
    return DataDiff(
        tuple(sorted(set(new) - set(old))),
        tuple(sorted(p for p in set(old) & set(new) if not _same(p, ra, old[p], rb, new[p]))),
        tuple(sorted(set(old) - set(new))),
    )


def _same(path: str, ra: Revision, a: str, rb: Revision, b: str) -> bool:
    if a == b or a.startswith(_MD5) == b.startswith(_MD5):
        return a == b
    ours = b if a.startswith(_MD5) else a
    return hashing.hash_bytes((ra if a.startswith(_MD5) else rb).read(path) or b"") == ours


_MD5 = "md5:"  # an oid from DVC's files


def _files(revision: Revision, git_stored: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    tops = revision.tracked()
    in_git = set() if git_stored else set(revision.in_git([*tops, *revision.dvc_tracked()]))
    for path, (oid, is_dir) in tops.items():
        if path in in_git:
            continue
        if not is_dir:
            out[path] = oid
            continue
        for row in revision.manifest(oid, path).entries:
            out[f"{path}/{row.relpath}"] = row.oid
    for path, entry in revision.dvc_tracked().items():
        if path in tops or path in in_git or any(is_under(path, top) for top in tops):
            continue  # converted: gitflowml's entry answers; or git's to diff
        if not entry.is_dir:
            out[path] = _MD5 + entry.md5
            continue
        for rel, md5 in revision.dvc_listing(entry):
            out[f"{path}/{rel}"] = _MD5 + md5
    return out
