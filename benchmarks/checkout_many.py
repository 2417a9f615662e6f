#!/usr/bin/env python3
"""`checkout` of many small files into an empty workspace, against `cp -R` of the same
files, interleaved (A B A B …) so that the machine's drift hits both alike.

    python benchmarks/checkout_many.py --gitflowml .venv-bench/bin/gitflowml \\
        --many /tmp/gfml-fixtures/many [--runs 5]

The fixture is `../shared/bench/make_fixtures.py gen DIR --only many` (20,000 x 4 KiB). It is
copied into a fresh repository and added once (untimed); each round then moves the
workspace copy aside (untimed; everything is deleted only at the end) and times
`gitflowml checkout`, then `cp -R` of the fixture to a new directory. Prints the medians
and their ratio. `--workdir` puts the scratch directory elsewhere than the system's temp
directory. Stdlib only.
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


def sh(argv: list[str], cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--many", required=True, type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    gfml = args.gitflowml.split()
    with tempfile.TemporaryDirectory(prefix="gfml-checkout-", dir=args.workdir) as tmp:
        work = Path(tmp)
        repo = work / "repo"
        repo.mkdir()
        sh(["git", "init", "-q"], repo)
        sh([*gfml, "init"], repo)
        shutil.copytree(args.many, repo / "many")
        sh([*gfml, "add", "many"], repo)
        sh(["git", "add", "-A"], repo)
        sh(["git", "commit", "-qm", "many"], repo)
        os.sync()
        ours, cps = [], []
        for n in range(args.runs + 1):  # the first round warms up, uncounted
            os.rename(repo / "many", work / f"trash-{n}")
            took = timed([*gfml, "checkout"], repo)
            dest = work / f"cp-{n}"
            cp = timed(["cp", "-R", str(args.many), str(dest)], work)
            # nothing is deleted until the end: on ext4 without a journal, creating files
            # soon after many were deleted is slow (the inode allocator skips recently
            # deleted inodes one by one), and that would hit whichever command came next
            if n:
                ours.append(took)
                cps.append(cp)
            print(f"round {n}: checkout {took:.2f} s, cp -R {cp:.2f} s", file=sys.stderr)
        a, b = statistics.median(ours), statistics.median(cps)
        print("| command | median s (min-max) |")
        print("|---|---|")
        print(f"| gitflowml checkout | {a:.2f} ({min(ours):.2f}-{max(ours):.2f}) |")
        print(f"| cp -R | {b:.2f} ({min(cps):.2f}-{max(cps):.2f}) |")
        print(f"\ncheckout / cp -R = {a / b:.2f}x")


if __name__ == "__main__":
    main()
