"""DVC's remotes (as `storage/dvc.py` reads them) as gitflowml remotes. The
gitflowml remote is a sub-path of DVC's (`<url>/gitflowml`), so that gitflowml's objects
never mix with DVC's and `gc --cloud` never sees them; DVC's own URL is kept for reading
DVC's objects during the import.
"""

from __future__ import annotations

from gitflowml import config
from gitflowml.errors import ConfigError
from gitflowml.project import Project
from gitflowml.storage import dvc

SUB_PATH = "gitflowml"


def gitflowml_url(url: str) -> str:
    return url.rstrip("/") + "/" + SUB_PATH


def convert(project: Project, remotes: list[dvc.DvcRemote]) -> tuple[list[str], list[str]]:
    """Add the remotes gitflowml lacks; (converted names, what was skipped and why)."""
    existing = {r.name for r in project.config.remotes}
    converted, skipped = [], []
    for remote in remotes:
        if remote.name in existing:
            continue
        if not remote.url:
            skipped.append(f"remote '{remote.name}': no url")
            continue
        config.add_remote(
            project.dot_dir,
            remote.name,
            gitflowml_url(remote.url),
            default=remote.default,
            local=remote.local,
        )
        converted.append(remote.name)
        for key, value, from_local in remote.options:
            secret = key in config.SECRET_OPTIONS
            try:
                config.modify_remote(
                    project.dot_dir, remote.name, key, value, local=from_local or secret
                )
            except ConfigError as exc:
                skipped.append(f"remote '{remote.name}' option {key}: {exc}")
    return converted, skipped
