#!/usr/bin/env python3
"""8 independent CPU-bound stages of about 2 s each: `repro -j 2` against
`repro --executor dask -j 2` (a local cluster of 2 worker processes, started by repro).

    python benchmarks/dask_stages.py --gitflowml .venv/bin/gitflowml [--runs 2] [--seconds 2]

Each run starts from no outputs, no lock and no run-cache. The Dask time includes starting
and stopping the cluster. Stdlib only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
BURN = """\
import sys, time
end = time.process_time() + float(sys.argv[2])
n = 0
while time.process_time() < end:
    n += 1
open(sys.argv[1], "w").write(str(n > 0))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--stages", type=int, default=8)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gfml-dask-bench-"))
    try:
        root = work / "repo"
        root.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=ENV)
        subprocess.run([a.gitflowml, "init"], cwd=root, check=True, env=ENV, capture_output=True)
        (root / "burn.py").write_text(BURN)
        (root / "pipeline.yaml").write_text(
            "stages:\n"
            + "".join(
                f"  s{i}:\n    cmd: python3 burn.py o{i}.txt {a.seconds}\n"
                f"    deps: [burn.py]\n    outs: [o{i}.txt]\n"
                for i in range(a.stages)
            )
        )
        subprocess.run(
            [a.gitflowml, "remote", "add", "-d", "store", str(work / "store")],
            cwd=root,
            check=True,
            env=ENV,
            capture_output=True,
        )
        modes = {"local -j 2": ["-j", "2"], "dask -j 2": ["--executor", "dask", "-j", "2"]}
        samples: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(a.runs):
            for mode, flags in modes.items():
                for name in [f"o{i}.txt" for i in range(a.stages)] + ["pipeline.lock"]:
                    (root / name).unlink(missing_ok=True)
                shutil.rmtree(root / ".gitflowml" / "cache" / "runs", ignore_errors=True)
                start = time.perf_counter()
                subprocess.run([a.gitflowml, "-q", "repro", *flags], cwd=root, check=True, env=ENV)
                samples[mode].append(time.perf_counter() - start)
        local = statistics.median(samples["local -j 2"])
        dask = statistics.median(samples["dask -j 2"])
        work_s = a.stages * a.seconds / 2
        print(f"| {a.stages} stages x {a.seconds:g} s CPU, 2 workers | median s | notes |")
        print("|---|---|---|")
        print(f"| local `-j 2` | {local:.2f} | ideal {work_s:.1f} |")
        print(f"| `--executor dask -j 2` | {dask:.2f} | {dask / local:.2f}x local |")
        print(f"| overhead per stage | {(dask - local) / a.stages:.3f} | incl. cluster start |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
