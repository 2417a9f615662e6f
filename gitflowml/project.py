"""The frozen `Project`: where the repository, `.gitflowml/` and the cache are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gitflowml import config as config_mod
from gitflowml.errors import NotAProjectError, PathError
from gitflowml.util import fsutil

DOT_DIR = ".gitflowml"


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    config: config_mod.Config

    @property
    def dot_dir(self) -> Path:
        return self.root / DOT_DIR

    @property
    def work_dir(self) -> Path:
        """`.gitflowml/tmp/work`: where workspace files are written before they are given
        their names, when it is on their file system (a crash leaves nothing among them)."""
        return self.dot_dir / "tmp" / "work"

    @property
    def cache_dir(self) -> Path:
        return self.config.cache_dir or self.dot_dir / "cache"

    @property
    def state_path(self) -> Path:
        return self.dot_dir / "state.db"

    @property
    def jobs(self) -> int:
        """Threads for hashing and copying. More than one per CPU only adds contention in the
        kernel when many small files are created (measured on ext4 with 20,000 files)."""
        return self.config.jobs or max(2, min(8, os.cpu_count() or 1))

    @staticmethod
    def find_root(start: Path | None = None) -> Path | None:
        """The directory whose `.gitflowml/` is at `start` or above it, without reading its
        settings (which may be what the caller is about to repair); None outside one."""
        here = (start or Path.cwd()).resolve()
        for candidate in (here, *here.parents):
            if (candidate / DOT_DIR).is_dir():
                return candidate
        return None

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        """The project whose `.gitflowml/` is at `start` or above it."""
        root = cls.find_root(start)
        if root is not None:
            return cls.at(root)
        here = (start or Path.cwd()).resolve()
        raise NotAProjectError(
            f"{here} is not in a gitflowml project; run 'gitflowml init' at the top of "
            "your git repository"
        )

    @classmethod
    def at(cls, root: Path) -> Project:
        project = cls(root=root, config=config_mod.load(root / DOT_DIR))
        fsutil.use_private_dir(root, project.work_dir)  # workspace temporaries go there
        return project

    def relpath(self, path: str | os.PathLike[str], cwd: Path | None = None) -> str:
        """A user-given path as a POSIX path relative to the root; error if outside it."""
        absolute = Path(os.path.abspath((cwd or Path.cwd()) / path))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            raise PathError(
                f"{path} is outside the repository {self.root}; gitflowml tracks paths inside it"
            ) from None
        parts = rel.parts
        if parts and parts[0] in (DOT_DIR, ".git"):
            raise PathError(f"{path} is inside {parts[0]}/, which gitflowml manages itself")
        return rel.as_posix() if parts else "."

    def abspath(self, rel: str) -> Path:
        return self.root / rel
