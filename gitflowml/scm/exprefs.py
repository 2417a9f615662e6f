"""Owns the shape of experiment refs: `refs/gitflowml/exps/<baseline sha>/<name>` (SPEC
section 11), and the stash `exp apply --force` keeps. Experiments are found from these refs
alone, never from history, so a rebase or a failed run hides none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gitflowml.scm import plumbing, rev_parse

PREFIX = "refs/gitflowml/exps/"
STASH = PREFIX + "apply/stash"
QUEUE = "refs/gitflowml/queue/"  # a queued run's starting commit, kept alive
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class ExpRef:
    name: str
    baseline: str  # the full sha of the commit it started from
    commit: str
    created: int  # unix seconds
    subject: str

    @property
    def ref(self) -> str:
        return ref_for(self.baseline, self.name)


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name)) and not name.endswith((".lock", ".")) and ".." not in name


def ref_for(baseline: str, name: str) -> str:
    return f"{PREFIX}{baseline}/{name}"


def parse(refname: str) -> tuple[str, str] | None:
    """(baseline, name) of an experiment ref; None for anything else (the stash, say)."""
    if not refname.startswith(PREFIX):
        return None
    baseline, _, name = refname[len(PREFIX) :].partition("/")
    return (baseline, name) if _SHA.match(baseline) and name and "/" not in name else None


def every(root: Path) -> list[ExpRef]:
    """Every experiment of the repository, oldest first: one `for-each-ref`."""
    out = []
    for ref in plumbing.refs(root, PREFIX):
        found = parse(ref.name)
        if found is not None:
            out.append(ExpRef(found[1], found[0], ref.commit, ref.created, ref.subject))
    out.sort(key=lambda e: (e.created, e.name))
    return out


def find(root: Path, name: str) -> list[ExpRef]:
    """The experiments called `name` (one per baseline that has one)."""
    if not valid_name(name):
        return []
    return [e for e in every(root) if e.name == name]


def commit_of(root: Path, rev: str) -> str | None:
    """The commit `rev` names: anything git understands, else an experiment's name."""
    return rev_parse(root, rev) or resolve(root, rev)


def resolve(root: Path, name: str) -> str | None:
    """The commit of the newest experiment called `name`, for use as a revision."""
    found = find(root, name)
    return found[-1].commit if found else None
