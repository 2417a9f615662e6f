#!/usr/bin/env python3
"""`plots show --format html` with 20 plots of 10,000 points each, and `plots diff` of 5
revisions of them (HTML), each timed as a user runs it (a fresh process).

    python benchmarks/plots.py --gitflowml .venv-bench/bin/gitflowml [--runs 5]

The first run of a repository builds vl-convert's JavaScript bundle (about 2 s) and keeps
it in .gitflowml/tmp/plots/; "cold" rows remove it first. Stdlib only.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@x",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@x",
}


def sh(argv: list[str], cwd: Path) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {proc.stderr.decode()[-600:]}")


def write_data(root: Path, plots: int, points: int, version: int) -> None:
    for p in range(plots):
        rows = [f"{i},{math.sin(i / 500 + p) * (1 + version / 10):.5f}" for i in range(points)]
        (root / "data" / f"curve{p:02d}.csv").write_text("step,value\n" + "\n".join(rows) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--plots", type=int, default=20)
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--revisions", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gfml-plots-bench-"))
    try:
        root = work / "repo"
        (root / "data").mkdir(parents=True)
        sh(["git", "init", "-q", "-b", "main"], root)
        sh([a.gitflowml, "init"], root)
        defs = "".join(
            f"  - data/curve{p:02d}.csv: {{x: step, y: value}}\n" for p in range(a.plots)
        )
        (root / "pipeline.yaml").write_text("stages: {}\nplots:\n" + defs)
        revs = []
        for version in range(a.revisions):
            write_data(root, a.plots, a.points, version)
            sh(["git", "add", "-A"], root)
            sh(["git", "commit", "-qm", f"v{version}"], root)
            revs.append(f"HEAD~{a.revisions - 1 - version}")
        bundle = root / ".gitflowml" / "tmp" / "plots"
        cases = {
            "show, cold (no kept bundle)": ["plots", "show", "--format", "html"],
            "show": ["plots", "show", "--format", "html"],
            f"diff of {a.revisions} revisions": ["plots", "diff", *revs, "--format", "html"],
        }
        samples: dict[str, list[float]] = {c: [] for c in cases}
        for run in range(a.runs + 1):
            for case, args in cases.items():
                if "cold" in case:
                    shutil.rmtree(bundle, ignore_errors=True)
                start = time.perf_counter()
                sh([a.gitflowml, *args], root)
                if run:
                    samples[case].append(time.perf_counter() - start)
        size = (root / "gitflowml_plots" / "index.html").stat().st_size
        print(f"\n| {a.plots} plots x {a.points:,} points, HTML | median s (min-max) |")
        print("|---|---|")
        for case, values in samples.items():
            median, low, high = statistics.median(values), min(values), max(values)
            print(f"| {case} | {median:.3f} ({low:.3f}-{high:.3f}) |")
        print(f"| page size (the last diff) | {size / 2**20:.1f} MiB |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
