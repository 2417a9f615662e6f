"""`import-dvc`: turn a DVC project into a gitflowml one, in place.

- `dvc.yaml` becomes `pipeline.yaml` (the formats are compatible: the file is copied, and
  kept as it is when pipeline.yaml exists already). `params.yaml` is used by both as is.
- Each `*.dvc` file of an added path becomes a `*.gfml` pointer. DVC's md5 hashes cannot
  be reused, so the data is hashed again if it is in the workspace; data that is not there
  is reported (fetch it with `dvc pull` first, or add it later).
- `.dvc/config` remotes (and `core.remote`) become gitflowml remotes; credentials found
  in `.dvc/config.local` go to `.gitflowml/config.local.yaml`.
- `dvc.lock` is not needed, and not read: gitflowml never trusts hashes it did not
  compute. The first `gitflowml repro` runs the stages once and writes pipeline.lock.

Running it again converts only what is new.
"""

from __future__ import annotations

import configparser
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from gitflowml import config, index, scm
from gitflowml.errors import ConfigError
from gitflowml.pipeline.model import PIPELINE_FILE
from gitflowml.project import Project
from gitflowml.storage import add, pointer
from gitflowml.util import yamlio

_REMOTE_SECTION = re.compile(r"""^\s*'?remote\s+"([^"]+)"'?\s*$""")
# DVC option names that mean something else (or the same thing) to gitflowml / s3fs
_OPTION_NAMES = {
    "endpointurl": "endpoint_url",
    "access_key_id": "key",
    "secret_access_key": "secret",
}


@dataclass
class ImportReport:
    pipeline: str = ""  # what happened to dvc.yaml
    added: list[str] = field(default_factory=list)  # data paths now tracked by .gfml
    unchanged: list[str] = field(default_factory=list)  # converted before
    absent: list[str] = field(default_factory=list)  # .dvc files whose data is not here
    remotes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # what could not be converted, and why


def import_dvc(project: Project) -> ImportReport:
    report = ImportReport()
    root = project.root
    dvc_yaml, pipeline = root / "dvc.yaml", root / PIPELINE_FILE
    if dvc_yaml.exists():
        if pipeline.exists():
            report.pipeline = "pipeline.yaml exists already; dvc.yaml left as it is"
        else:
            shutil.copyfile(dvc_yaml, pipeline)
            report.pipeline = "dvc.yaml copied to pipeline.yaml"
    _pointers(project, report)
    _remotes(project, report)
    return report


def _pointers(project: Project, report: ImportReport) -> None:
    to_add = []
    for rel in scm.files_matching(project.root, ".dvc"):
        dvc_file = project.root / rel
        try:
            doc = yamlio.loads(dvc_file.read_text(encoding="utf-8"))
            outs = doc.get("outs") or [] if isinstance(doc, dict) else []
        except (yamlio.YamlError, OSError, AttributeError):
            report.skipped.append(f"{rel}: not a readable .dvc file")
            continue
        for out in outs:
            path = out.get("path") if isinstance(out, dict) else None
            if not isinstance(path, str):
                report.skipped.append(f"{rel}: an out without a path")
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
            if (project.root / (target + pointer.SUFFIX)).exists():
                report.unchanged.append(target)
            elif not (project.root / target).exists():
                report.absent.append(target)
            else:
                to_add.append(target)
    if to_add:
        add.add(project, to_add, refuse=lambda rels: index.refuse_stage_outs(project, rels))
        report.added.extend(to_add)


def _remotes(project: Project, report: ImportReport) -> None:
    dvc_dir = project.root / ".dvc"
    main, local = _ini(dvc_dir / "config"), _ini(dvc_dir / "config.local")
    existing = {r.name for r in project.config.remotes}
    default = None
    for parser in (main, local):
        if parser.has_option("core", "remote"):
            default = parser.get("core", "remote")
    for is_local, parser in ((False, main), (True, local)):
        for section in parser.sections():
            match = _REMOTE_SECTION.match(section)
            if not match:
                continue
            name = match.group(1)
            options = dict(parser.items(section))
            url = options.pop("url", None)
            if name not in existing:
                if url is None:
                    report.skipped.append(f"remote '{name}': no url")
                    continue
                config.add_remote(
                    project.dot_dir, name, url, default=name == default, local=is_local
                )
                existing.add(name)
                report.remotes.append(name)
            for key, value in options.items():
                key = _OPTION_NAMES.get(key, key)
                secret = key in config.SECRET_OPTIONS
                try:
                    config.modify_remote(
                        project.dot_dir, name, key, value, local=is_local or secret
                    )
                except ConfigError as exc:
                    report.skipped.append(f"remote '{name}' option {key}: {exc}")


def _ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        # DVC (configobj) indents options and quotes section names; configparser copes with
        # both once leading blanks are gone
        parser.read_string("\n".join(line.strip() for line in text.splitlines()))
    return parser
