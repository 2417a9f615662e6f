#!/usr/bin/env python3
"""`lineage` and `log -n 20` in a repository with N commits of history, each with notes.

    python benchmarks/lineage.py --gitflowml .venv-bench/bin/gitflowml [--commits 500]

Builds the history for real: added data and a three-stage pipeline, then N times a
param change and `repro --commit` (so every commit carries run records). Then it times
`lineage` of the final output and `log -n 20`, medians of 5 runs. Stdlib only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@invalid",
}
PIPELINE = """\
stages:
  prep:
    cmd: cp raw/a.csv clean.csv && echo ${step} >> clean.csv
    deps: [raw]
    params: [step]
    outs: [clean.csv]
  features:
    cmd: wc -l clean.csv > features.txt && cat clean.csv >> features.txt
    deps: [clean.csv]
    outs: [features.txt]
  train:
    cmd: cp features.txt model.txt
    deps: [features.txt]
    outs: [model.txt]
"""


def sh(argv: list[str], cwd: Path) -> str:
    return subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def timed(argv: list[str], cwd: Path, runs: int = 5) -> float:
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples[1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--commits", type=int, default=500)
    a = ap.parse_args()
    g = a.gitflowml
    work = Path(tempfile.mkdtemp(prefix="gfml-lineage-bench-"))
    try:
        root = work / "repo"
        root.mkdir()
        sh(["git", "init", "-q", "-b", "main"], root)
        sh([g, "init"], root)
        (root / "raw").mkdir()
        (root / "raw" / "a.csv").write_text("x,y\n1,2\n")
        (root / "pipeline.yaml").write_text(PIPELINE)
        (root / "params.yaml").write_text("step: 0\n")
        sh([g, "add", "raw"], root)
        sh(["git", "add", "-A"], root)
        sh(["git", "commit", "-qm", "data"], root)
        start = time.perf_counter()
        for i in range(a.commits):
            (root / "params.yaml").write_text(f"step: {i + 1}\n")
            sh(["git", "add", "params.yaml"], root)
            sh([g, "-q", "repro", "--commit", "-m", f"step {i + 1}"], root)
        built = time.perf_counter() - start
        commits = int(sh(["git", "rev-list", "--count", "HEAD"], root))
        notes = len(sh(["git", "notes", "--ref=gitflowml", "list"], root).splitlines())
        print(f"built {commits} commits, {notes} with notes, in {built:.0f} s", file=sys.stderr)
        lin = timed([g, "lineage", "model.txt"], root)
        log = timed([g, "log", "-n", "20"], root)
        print(f"| {commits} commits, {notes} with notes | median of 5, s | target |")
        print("|---|---|---|")
        print(f"| `lineage model.txt` | {lin:.3f} | < 1 |")
        print(f"| `log -n 20` | {log:.3f} | < 0.5 |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
