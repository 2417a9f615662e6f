"""Measures what the workspace holds for a pipeline's deps, outs and params, through the
state cache (unchanged files are not read) and, for URL deps, what their file system
reports (ETag, checksum, or size and mtime), without downloading anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gitflowml import config, quick
from gitflowml.errors import PipelineError
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline.codedeps import CodeAnalyzer
from gitflowml.pipeline.lockfile import Entry
from gitflowml.pipeline.model import Stage
from gitflowml.pipeline.plan import Observed
from gitflowml.storage.workspace import DirInfo, FileInfo, Scanner

_FINGERPRINT_KEYS = ("ETag", "etag", "checksum", "md5", "sha256", "crc32c")


def observe(
    root: Path, stages: Iterable[Stage], scanner: Scanner, code: CodeAnalyzer | None = None
) -> Observed:
    """Deps, outs, params and code of `stages` now. Pass one `code` analyser for several
    calls in one command, so that shared modules are resolved once."""
    chosen = list(stages)
    paths = sorted({p for s in chosen for p in s.deps} | {o.path for s in chosen for o in s.outs})
    local = [p for p in paths if "://" not in p]
    infos = scanner.scan_many([workspace_path(root, p) for p in local], need_manifest=False)
    entries: dict[str, Entry | None] = {}
    for path, info in zip(local, infos, strict=True):
        if isinstance(info, FileInfo):
            entries[path] = Entry(path, info.oid, info.size)
        elif isinstance(info, DirInfo):
            entries[path] = Entry(path, info.oid, info.size, info.nfiles)
        else:
            entries[path] = None
    for url in (p for p in paths if "://" in p):
        quick.spoil()  # what a URL holds is not in any file we can stat
        entries[url] = url_entry(url)
    params: dict[str, Any] = {}
    for file in sorted({ref.file for s in chosen for ref in s.params}):
        params_path = root / file
        quick.note(params_path)
        params[file] = params_mod.load(params_path, file) if params_path.exists() else None
    analyser = code or CodeAnalyzer(root, scanner, scanner.state)
    code_of = {s.name: analyser.code_of(s) for s in chosen}
    return Observed(paths=entries, params=params, code=code_of, env=config.active_env())


def workspace_path(root: Path, path: str) -> Path:
    """Where a dep or out path of a pipeline is (its hash-state key is this, as a string)."""
    return Path(path) if Path(path).is_absolute() else root / path


def url_entry(url: str) -> Entry | None:
    """A URL dep by what its file system says of it; None when it does not exist."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url)
        info = fs.info(path)
    except FileNotFoundError:
        return None
    except (ImportError, ValueError) as exc:
        raise PipelineError(f"dep {url}: {exc}") from exc
    except OSError as exc:
        raise PipelineError(
            f"dep {url} could not be reached ({exc}); check the URL and your credentials"
        ) from exc
    for key in _FINGERPRINT_KEYS:
        value = info.get(key)
        if value:
            return Entry(url, f"{key.lower()}:{str(value).strip(chr(34))}", info.get("size"))
    stamp = info.get("mtime") or info.get("LastModified") or info.get("created") or ""
    return Entry(url, f"size-mtime:{info.get('size')}-{stamp}", info.get("size"))
