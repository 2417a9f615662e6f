#!/usr/bin/env python3
"""Experiments: `exp show --json` with many experiments (gitflowml vs DVC, interleaved),
`exp run --run-all -j 2` against `-j 1`, and what `exp run` adds to the `repro` it wraps.

    python benchmarks/experiments.py --gitflowml .venv-bench/bin/gitflowml \\
        [--dvc /tmp/dvc-venv/bin/dvc] [--exps 1000] [--runs 5] [--history 200]

The experiments for `exp show` are made with `git fast-import`, one commit each on one
baseline, holding params.yaml, metrics.json, pipeline.lock and dvc.lock; each commit is
referenced both as ours (`refs/gitflowml/exps/<baseline>/<name>`) and as DVC's
(`refs/exps/<sha[:2]>/<sha[2:]>/<name>`). The baseline sits on `--history` earlier commits,
so a cost that grew with history would show. Stdlib only.
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
PIPELINE = """\
stages:
  train:
    cmd: python3 train.py
    deps: [train.py]
    params: [train]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
"""
TRAIN = """\
import json, time, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
time.sleep(p.get("sleep", 0))
json.dump({"acc": p["lr"] * 2, "loss": 1 - p["lr"]}, open("metrics.json", "w"))
open("model.txt", "w").write(str(p))
"""


def sh(argv: list[str], cwd: Path, data: bytes | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=ENV, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} {argv[1]} failed: {proc.stderr.decode()[-600:]}")
    return proc.stdout.decode()


def _repo(work: Path, name: str, gitflowml: str, dvc: str | None) -> Path:
    root = work / name
    root.mkdir()
    sh(["git", "init", "-q", "-b", "main"], root)
    sh([gitflowml, "init"], root)
    if dvc:
        sh([dvc, "init", "-q"], root)
        sh([dvc, "config", "core.analytics", "false"], root)
    (root / "pipeline.yaml").write_text(PIPELINE)
    (root / "dvc.yaml").write_text(PIPELINE.replace("python3 train.py", "python3 train.py"))
    (root / "train.py").write_text(TRAIN)
    (root / "params.yaml").write_text("train:\n  lr: 0.1\n  sleep: 0\n")
    sh([gitflowml, "repro"], root)
    sh(["git", "add", "-A"], root)
    sh(["git", "commit", "-qm", "baseline"], root)
    return root


def _blob(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def make_experiments(root: Path, count: int, history: int) -> None:
    """`history` commits, then `count` experiments of the last one, in one fast-import."""
    base = sh(["git", "rev-parse", "HEAD"], root).strip()
    lock = (root / "pipeline.lock").read_text()
    stream = []
    for i in range(history):
        stream.append(
            f"commit refs/heads/main\ncommitter bench <b@x> {1700000000 + i} +0000\n"
            + _blob(f"history {i}")
            + ("" if i else f"from {base}\n")
            + f"M 100644 inline notes.txt\n{_blob(str(i))}\n"
        )
    sh(["git", "fast-import", "--quiet"], root, "".join(stream).encode())
    sh(["git", "reset", "-q", "--hard", "main"], root)
    base = sh(["git", "rev-parse", "HEAD"], root).strip()
    stream = []
    for i in range(count):
        lr = round(0.001 * (i + 1), 6)
        params = f"train:\n  lr: {lr}\n  sleep: 0\n"
        metrics = json.dumps({"acc": lr * 2, "loss": 1 - lr})
        name = f"exp-{i:05d}"
        stream.append(
            f"commit refs/gitflowml/exps/{base}/{name}\nmark :{i + 1}\n"
            f"committer bench <b@x> {1800000000 + i} +0000\n"
            + _blob(f"exp {name}")
            + f"from {base}\n"
            + f"M 100644 inline params.yaml\n{_blob(params)}"
            + f"M 100644 inline metrics.json\n{_blob(metrics)}"
            + f"M 100644 inline pipeline.lock\n{_blob(lock.replace('0.1', str(lr)))}"
            + f"M 100644 inline dvc.lock\n{_blob(_dvc_lock(lr))}\n"
            + f"reset refs/exps/{base[:2]}/{base[2:]}/{name}\nfrom :{i + 1}\n\n"
        )
    sh(["git", "fast-import", "--quiet"], root, "".join(stream).encode())


def _dvc_lock(lr: float) -> str:
    return (
        "schema: '2.0'\nstages:\n  train:\n    cmd: python3 train.py\n    deps:\n"
        "    - path: train.py\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n"
        f"      size: 10\n    params:\n      params.yaml:\n        train:\n          lr: {lr}\n"
        "          sleep: 0\n    outs:\n    - path: metrics.json\n      hash: md5\n"
        "      md5: fedcba9876543210fedcba9876543210\n      size: 30\n"
    )


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env or ENV, capture_output=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {proc.stderr.decode()[-600:]}")
    return took


def row(label: str, values: list[float]) -> str:
    return f"| {label} | {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f}) |"


def bench_show(a: argparse.Namespace, work: Path) -> None:
    root = _repo(work, "show", a.gitflowml, a.dvc)
    make_experiments(root, a.exps, a.history)
    table = root / ".gitflowml/tmp/exps-table.cache"
    tools = {
        "gitflowml (nothing new: quick answer)": [a.gitflowml, "exp", "show", "--json"],
        "gitflowml (parsed once, kept; GITFLOWML_QUICK=0)": [a.gitflowml, "exp", "show", "--json"],
        "gitflowml (nothing kept: cold)": [a.gitflowml, "exp", "show", "--json"],
    }
    if a.dvc:
        tools["dvc (its cache kept)"] = [a.dvc, "exp", "show", "--json"]
        tools["dvc (.dvc/tmp/exps/cache cleared: cold)"] = [a.dvc, "exp", "show", "--json"]
    samples: dict[str, list[float]] = {t: [] for t in tools}
    rows = json.loads(sh(tools["gitflowml (nothing new: quick answer)"], root))
    assert len(rows) == a.exps + 1, len(rows)
    for run in range(a.runs + 1):  # the first round warms up
        for tool, argv in tools.items():
            if tool.startswith("gitflowml") and "cold" in tool:
                table.unlink(missing_ok=True)  # (quick answers are off for this row)
            if tool.startswith("dvc") and "cold" in tool:
                shutil.rmtree(root / ".dvc/tmp/exps/cache", ignore_errors=True)
            off = "QUICK=0" in tool or "cold" in tool
            took = timed(argv, root, {**ENV, "GITFLOWML_QUICK": "0"} if off else None)
            if run:
                samples[tool].append(took)
    print(
        f"\n| `exp show --json`, {a.exps} experiments, {a.history} commits of history "
        "| median s (min-max) |"
    )
    print("|---|---|")
    for tool, values in samples.items():
        print(row(tool, values))
    if a.dvc:
        ours = statistics.median(samples["gitflowml (nothing kept: cold)"])
        kept = statistics.median(samples["gitflowml (nothing new: quick answer)"])
        theirs = statistics.median(samples["dvc (its cache kept)"])
        cold = statistics.median(samples["dvc (.dvc/tmp/exps/cache cleared: cold)"])
        print(f"| dvc/gitflowml, caches kept (ours: the quick answer) | {theirs / kept:.1f}x |")
        print(f"| dvc/gitflowml, cold | {cold / ours:.1f}x |")


def bench_queue(a: argparse.Namespace, work: Path) -> None:
    root = _repo(work, "queue", a.gitflowml, None)
    samples: dict[int, list[float]] = {1: [], 2: []}
    for run in range(max(1, a.runs // 2)):
        for jobs in (1, 2):
            sh(
                [
                    a.gitflowml,
                    "exp",
                    "run",
                    "--queue",
                    "-S",
                    "train.sleep=1",
                    "-S",
                    f"train.lr=range({run * 100 + jobs * 10},{run * 100 + jobs * 10 + 8})",
                ],
                root,
            )
            samples[jobs].append(
                timed([a.gitflowml, "exp", "run", "--run-all", "-j", str(jobs)], root)
            )
    print("\n| `exp run --run-all`, 8 queued, each stage sleeps 1 s | median s (min-max) |")
    print("|---|---|")
    for jobs, values in samples.items():
        print(row(f"-j {jobs}", values))
    speedup = statistics.median(samples[1]) / statistics.median(samples[2])
    print(f"| -j 1 / -j 2 | {speedup:.2f}x |")


def bench_overhead(a: argparse.Namespace, work: Path) -> None:
    root = _repo(work, "overhead", a.gitflowml, None)
    params = root / "params.yaml"
    samples: dict[str, list[float]] = {"repro": [], "exp run": []}
    for run in range(a.runs * 2 + 1):
        lr = 0.2 + run / 1000
        params.write_text(f"train:\n  lr: {lr}\n  sleep: 0\n")
        took = timed([a.gitflowml, "repro"], root)
        if run:
            samples["repro"].append(took)
        sh(["git", "checkout", "-q", "--", "."], root)
        sh([a.gitflowml, "checkout", "--force"], root)
        took = timed([a.gitflowml, "exp", "run", "-S", f"train.lr={lr + 0.5}"], root)
        if run:
            samples["exp run"].append(took)
        sh(["git", "checkout", "-q", "--", "."], root)
        sh([a.gitflowml, "checkout", "--force"], root)
    print("\n| one-stage pipeline, the stage runs | median s (min-max) |")
    print("|---|---|")
    for tool, values in samples.items():
        print(row(tool, values))
    extra = statistics.median(samples["exp run"]) - statistics.median(samples["repro"])
    print(f"| exp run - repro | {extra:.3f} s |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--dvc")
    ap.add_argument("--exps", type=int, default=1000)
    ap.add_argument("--history", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=["show", "queue", "overhead"])
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gfml-exp-bench-"))
    try:
        for name, bench in (
            ("show", bench_show),
            ("queue", bench_queue),
            ("overhead", bench_overhead),
        ):
            if a.only in (None, name):
                bench(a, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
