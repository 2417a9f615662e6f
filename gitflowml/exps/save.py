"""An experiment's commit: the baseline's tree plus the workspace's changes to tracked
files, the run's results (lock, pointers, `cache: false` outs, .gitignore files) and the
params files the overrides wrote; its parent is the baseline. Its ref is taken only if the
name is still free (or with `force`), and the run records become its note."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from gitflowml.errors import ExperimentError, NotAGitRepoError
from gitflowml.lineage import notes
from gitflowml.pipeline.model import Pipeline
from gitflowml.project import Project
from gitflowml.repro.commit import results_paths
from gitflowml.scm import exprefs, plumbing

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clear", "cool", "crisp", "dapper", "eager", "fair",
    "fleet", "fond", "glad", "grand", "hale", "jolly", "keen", "kind", "lean", "lucid",
    "merry", "mild", "neat", "noble", "plucky", "proud", "quick", "quiet", "rapid", "ready",
    "sharp", "shy", "sleek", "smart", "snug", "spry", "stoic", "sunny", "swift", "tidy",
    "true", "vivid", "warm", "wise", "witty", "zesty",
)  # fmt: skip
_NOUNS = (
    "auk", "bass", "bear", "bison", "crane", "crow", "deer", "dove", "eagle", "egret",
    "elk", "finch", "fox", "gecko", "gull", "hare", "hawk", "heron", "ibis", "jay", "kite",
    "koala", "lark", "lemur", "lynx", "mink", "moth", "newt", "otter", "owl", "panda",
    "pike", "quail", "raven", "robin", "seal", "shrew", "skink", "stoat", "swan", "tern",
    "toad", "trout", "vole", "wasp", "wren", "yak",
)  # fmt: skip


def new_name(taken: Sequence[str] | set[str] = ()) -> str:
    """Two words (`tidy-lark`), not among `taken`; a number is added after many tries."""
    used = set(taken)
    for _ in range(200):
        name = f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}"
        if name not in used:
            return name
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(10**6)}"


def check_name(name: str) -> None:
    if not exprefs.valid_name(name):
        raise ExperimentError(
            f"'{name}' cannot name an experiment; use letters, digits, '-', '_' and '.' "
            "(up to 100, starting with a letter or digit)"
        )


def save(
    project: Project,
    loaded: Pipeline,
    baseline: str,
    name: str,
    message: str | None = None,
    extra: Sequence[str] = (),
    force: bool = False,
) -> exprefs.ExpRef:
    """Commit the workspace at `project.root` as experiment `name` of `baseline`."""
    paths = sorted({*results_paths(project, loaded), *extra})
    tree = plumbing.snapshot(project.root, baseline, paths)
    subject = message or f"gitflowml exp: {name}"
    commit = plumbing.commit_tree(project.root, tree, [baseline], subject)
    ref = exprefs.ref_for(baseline, name)
    try:
        plumbing.update_ref(project.root, ref, commit, None if force else "")
    except NotAGitRepoError as exc:  # git refused: the ref exists (taken meanwhile)
        if force or not exprefs.find(project.root, name):
            raise
        raise ExperimentError(
            f"experiment '{name}' exists already for this baseline; choose another name "
            "with -n, or replace it with -f"
        ) from exc
    notes.record(project.root, project.dot_dir, commit)
    found = [e for e in exprefs.find(project.root, name) if e.baseline == baseline]
    return found[0]


def start_commit(
    project: Project, baseline: str, params: Mapping[str, str], name: str, message: str | None
) -> str:
    """The commit a queued run starts from: the baseline plus the workspace's changes to
    tracked files and the params files' new text; nothing in the workspace changes."""
    contents = {path: text.encode() for path, text in params.items()}
    tree = plumbing.snapshot(project.root, baseline, (), contents)
    return plumbing.commit_tree(
        project.root, tree, [baseline], message or f"gitflowml exp (queued): {name}"
    )
