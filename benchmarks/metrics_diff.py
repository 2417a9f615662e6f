#!/usr/bin/env python3
"""`metrics diff main feature` in a repository with N commits: gitflowml vs DVC, interleaved.

    python benchmarks/metrics_diff.py --gitflowml .venv-bench/bin/gitflowml \\
        [--dvc /tmp/dvc-venv/bin/dvc] [--commits 1000] [--runs 5]

One repository serves both tools: `metrics.json` is declared as a metric in `pipeline.yaml`
and `dvc.yaml` alike. Each commit of `main` changes it; `feature` branches off half-way.
Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ENV = {
    **os.environ,
    "DVC_NO_ANALYTICS": "1",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@invalid",
}


def sh(argv: list[str], cwd: Path) -> str:
    return subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--dvc")
    ap.add_argument("--commits", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gfml-metrics-bench-"))
    try:
        root = work / "repo"
        root.mkdir()
        sh(["git", "init", "-q", "-b", "main"], root)
        sh([a.gitflowml, "init"], root)
        if a.dvc:
            sh([a.dvc, "init", "-q"], root)
            sh([a.dvc, "config", "core.analytics", "false"], root)
        (root / "pipeline.yaml").write_text("metrics: [metrics.json]\nstages: {}\n")
        (root / "dvc.yaml").write_text("metrics:\n  - metrics.json\n")
        half = a.commits // 2
        for i in range(a.commits):
            doc = {"train": {"loss": 1 / (i + 1), "step": i}, "test": {"acc": i / a.commits}}
            (root / "metrics.json").write_text(json.dumps(doc))
            sh(["git", "add", "-A"], root)
            sh(["git", "commit", "-qm", f"step {i}"], root)
            if i == half:
                sh(["git", "branch", "feature"], root)
        sh(["git", "checkout", "-q", "feature"], root)
        (root / "metrics.json").write_text(
            json.dumps({"train": {"loss": 0.01}, "test": {"acc": 1}})
        )
        sh(["git", "commit", "-qam", "feature result"], root)
        sh(["git", "checkout", "-q", "main"], root)
        tools = {"gitflowml": [a.gitflowml, "metrics", "diff", "main", "feature"]}
        if a.dvc:
            tools["dvc"] = [a.dvc, "metrics", "diff", "main", "feature"]
        samples: dict[str, list[float]] = {t: [] for t in tools}
        for run in range(a.runs + 1):  # the first round is a warm-up
            for tool, argv in tools.items():
                start = time.perf_counter()
                proc = subprocess.run(argv, cwd=root, env=ENV, capture_output=True, text=True)
                took = time.perf_counter() - start
                if proc.returncode != 0:
                    raise SystemExit(f"{tool} failed: {proc.stderr.strip()[-400:]}")
                if run:
                    samples[tool].append(took)
        count = int(sh(["git", "rev-list", "--count", "--all"], root))
        print(f"| `metrics diff main feature`, {count} commits | median s (min-max) |")
        print("|---|---|")
        for tool, values in samples.items():
            median, low, high = statistics.median(values), min(values), max(values)
            print(f"| {tool} | {median:.3f} ({low:.3f}-{high:.3f}) |")
        if a.dvc:
            ratio = statistics.median(samples["dvc"]) / statistics.median(samples["gitflowml"])
            print(f"| dvc/gitflowml | {ratio:.1f}x |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
