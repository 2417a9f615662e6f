"""pull's direct placement: workspace files written from the fetched bytes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from gitflowml.project import Project
from gitflowml.storage.odb import LocalOdb
from gitflowml.storage.tracked import Tracked
from gitflowml.util import fsutil


@dataclass
class Placing:
    """pull: workspace files written straight from the fetched bytes, for tracked paths
    that do not exist in the workspace at all (nothing there to compare or to lose). Only
    when checkout would make plain copies (no reflink, hardlink or symlink configured)."""

    entries: list[Tracked]
    dests: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # oid -> files
    files: dict[str, set[str]] = field(default_factory=dict)  # target -> its files
    written: list[tuple[str, str]] = field(default_factory=list)  # (file, oid)

    def plan(self, project: Project, odb: LocalOdb) -> None:
        """Once the manifests are local: which file gets which object."""
        made: set[str] = set()
        for entry in self.entries:
            base = os.fspath(project.abspath(entry.target))
            ptr = entry.pointer
            if not ptr.is_dir:
                rows = [(base, ptr.oid, ptr.isexec)]
            elif odb.exists(ptr.oid, True):
                manifest = odb.read_manifest(ptr.oid)
                rows = [(f"{base}/{r.relpath}", r.oid, r.isexec) for r in manifest.entries]
            else:
                continue  # not on the remote either (lenient): checkout will say so
            try:
                for parent in sorted({os.path.dirname(p) for p, _, _ in rows} - made):
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
            except OSError:
                continue  # a file where a directory should be: checkout will say so
            self.files[entry.target] = {p for p, _, _ in rows}
            for path, oid, isexec in rows:
                self.dests.setdefault(oid, []).append((path, isexec))

    def place(self, oid: str, data: bytes) -> None:
        """Write the files that hold object `oid` (verified bytes), never over anything."""
        for path, isexec in self.dests.get(oid, ()):
            if fsutil.write_new(path, data, 0o777 if isexec else 0o666):
                self.written.append((path, oid))

    def complete(self) -> list[str]:
        """Targets whose every file was written here."""
        done = {path for path, _ in self.written}
        return [t for t, paths in self.files.items() if paths <= done]
