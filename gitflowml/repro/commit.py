"""`repro --commit`: commit what a run changed that git should store, and attach its
records as a note. What is committed: pipeline.lock, pointer files, the `cache: false` outs
and metrics of the pipeline, and .gitignore files, plus pipeline.yaml and params files if the
user staged them. Anything else already staged is refused before the run starts, so a
commit never sweeps up unrelated work."""

from __future__ import annotations

from collections.abc import Sequence

from gitflowml import scm
from gitflowml.errors import PipelineError
from gitflowml.lineage import notes
from gitflowml.pipeline import lockfile
from gitflowml.pipeline.loader import PIPELINE_FILE
from gitflowml.pipeline.model import Pipeline
from gitflowml.pipeline.params import DEFAULT_PARAMS
from gitflowml.project import Project
from gitflowml.storage import pointer


def results_paths(project: Project, loaded: Pipeline) -> list[str]:
    """The paths a run's commit may contain, as they are changed now (experiments keep the
    same ones)."""
    in_git = [o.path for s in loaded.stages.values() for o in s.outs if not o.cache]
    patterns = [lockfile.LOCK_FILE, f"*{pointer.SUFFIX}", ".gitignore", "*/.gitignore", *in_git]
    return scm.changed(project.root, patterns)


def _related(loaded: Pipeline) -> set[str]:
    """Files a user may stage for the results commit: pipeline.yaml and its params files."""
    files = {p.file for s in loaded.stages.values() for p in s.params}
    return files | {PIPELINE_FILE, DEFAULT_PARAMS}


def ignored_git_outs(project: Project, loaded: Pipeline) -> list[str]:
    """`cache: false` outs (git's to store) that .gitignore keeps out of git: nobody would
    keep them, since neither git nor the cache would."""
    in_git = [o.path for s in loaded.stages.values() for o in s.outs if not o.cache]
    return scm.ignored(project.root, in_git)


def refuse_ignored_git_outs(project: Project, loaded: Pipeline) -> None:
    found = ignored_git_outs(project, loaded)
    if found:
        raise PipelineError(
            f"{found[0]} is a 'cache: false' out, which git should store, but .gitignore "
            "ignores it, so the commit would lose it; remove it from .gitignore, or give it "
            "'cache: true' in pipeline.yaml"
        )


def check_nothing_unrelated_staged(project: Project, loaded: Pipeline) -> None:
    allowed = set(results_paths(project, loaded)) | {lockfile.LOCK_FILE} | _related(loaded)
    unrelated = [p for p in scm.staged(project.root) if p not in allowed]
    if unrelated:
        shown = ", ".join(unrelated[:3]) + (" …" if len(unrelated) > 3 else "")
        raise PipelineError(
            f"files unrelated to the pipeline are staged ({shown}); commit or unstage them "
            "('git restore --staged PATH') before 'gitflowml repro --commit'"
        )


def commit_results(
    project: Project, loaded: Pipeline, ran: Sequence[str], message: str | None
) -> str | None:
    """Stage and commit the run's results, then attach the pending records to the commit.
    None when there was nothing to commit."""
    paths = results_paths(project, loaded)
    scm.stage_paths(project.root, paths)
    if not scm.staged(project.root):
        return None
    text = message or (
        f"gitflowml repro: ran {', '.join(ran)}" if ran else "gitflowml repro: update results"
    )
    sha = scm.commit(project.root, text)
    notes.record(project.root, project.dot_dir, sha)
    return sha
