"""What the workspace's pointer files track: `Tracked` entries, and choosing among them."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gitflowml import scm
from gitflowml.errors import PathError
from gitflowml.project import Project
from gitflowml.storage import pointer
from gitflowml.storage.pointer import Pointer


@dataclass(frozen=True, slots=True)
class Tracked:
    """A pointer file and what it points at, both relative to the project root."""

    pointer_file: str
    target: str
    pointer: Pointer

    @classmethod
    def of_pointer(cls, pointer_file: str, ptr: Pointer) -> Tracked:
        """The entry of a pointer file (a path relative to the root) and its content."""
        target = posixpath.normpath(posixpath.join(posixpath.dirname(pointer_file), ptr.path))
        return cls(pointer_file, target, ptr)


def tracked(project: Project) -> list[Tracked]:
    """Every pointer file in the repository (tracked or not yet committed), sorted."""
    out = []
    for rel in scm.files_matching(project.root, pointer.SUFFIX):
        path = project.root / rel
        if not path.is_file():
            continue  # deleted from the work tree but still in the index
        out.append(Tracked.of_pointer(rel, pointer.load(path, rel)))
    return out


def select(
    project: Project,
    targets: Sequence[str],
    extra: Sequence[Tracked] = (),
    groups: Mapping[str, Sequence[Tracked]] | None = None,
) -> list[Tracked]:
    """The entries named by `targets`: data paths, pointer files, directories holding them,
    or names in `groups` (stage names -> their outs); all when there are no targets.
    `extra` adds entries that have no pointer file of their own (stage outs)."""
    everything = [*tracked(project), *extra]
    if not targets:
        return everything
    chosen: dict[str, Tracked] = {}
    for target in targets:
        if groups and target in groups:
            hits = list(groups[target])
        else:
            rel = project.relpath(target)
            hits = [
                t
                for t in everything
                if rel in (t.target, t.pointer_file) or is_under(t.target, rel)
            ]
        if not hits:
            raise PathError(f"{target} is not tracked by gitflowml; track it with 'gitflowml add'")
        for hit in hits:
            chosen[hit.target] = hit
    return [chosen[k] for k in sorted(chosen)]


def is_under(path: str, parent: str) -> bool:
    return parent == "." or path.startswith(parent.rstrip("/") + "/")
