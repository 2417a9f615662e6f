#!/usr/bin/env python3
"""gitflowml's own benchmark runner: makes its fixtures, times gitflowml and, when it is
installed, DVC beside it in the same interleaved run, and prints medians and ratios.

    python benchmarks/run.py [--size small|full] [--runs N] [--dvc CMD] [--only ID,...]

Stdlib only. Only ratios measured in one run mean anything on a shared machine: every round
runs gitflowml, then DVC, then the raw limit, so load and drift hit them alike.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SIZES = {  # big: files x MiB; many: files x KiB
    "small": {"big": (4, 16), "many": (2000, 4)},
    "full": {"big": (4, 256), "many": (20000, 4)},
}
ENV = {
    **os.environ,
    "DVC_NO_ANALYTICS": "1",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@invalid",
}


def make_fixtures(root: Path, size: str) -> None:
    """Deterministic random bytes (incompressible), written once and reused."""
    stamp = root / f".done-{size}"
    if stamp.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    rnd = random.Random(42)
    nbig, mib = SIZES[size]["big"]
    (root / "big").mkdir(parents=True)
    for i in range(nbig):
        with open(root / "big" / f"part{i}.bin", "wb") as f:
            for _ in range(mib):
                f.write(rnd.randbytes(1 << 20))
    nmany, kib = SIZES[size]["many"]
    for i in range(nmany):
        d = root / "many" / f"d{i % 200:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.bin").write_bytes(rnd.randbytes(kib * 1024))
    stamp.touch()


@dataclass
class Tool:
    name: str
    argv: list[str]
    init: list[list[str]]
    state: list[str]  # cache and hash state: removed for "cold"
    suffix: str

    def cmd(self, *args: str) -> list[str]:
        return [*self.argv, *args]


def tools(gitflowml: str, dvc: str | None) -> list[Tool]:
    out = [
        Tool(
            "gitflowml",
            shlex.split(gitflowml),
            [["init"]],
            [
                ".gitflowml/cache",
                ".gitflowml/state.db",
                ".gitflowml/state.db-wal",
                ".gitflowml/state.db-shm",
            ],
            ".gfml",
        )
    ]
    if dvc:
        out.append(
            Tool(
                "dvc",
                shlex.split(dvc),
                [
                    ["init", "-q"],
                    ["config", "core.check_update", "false"],
                    ["config", "core.analytics", "false"],
                ],
                [".dvc/cache", ".dvc/tmp", "site"],
                ".dvc",
            )
        )
    return out


def sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        argv, cwd=cwd, check=True, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed: {proc.stderr.decode()[-300:]}")
    return took


@dataclass
class Repo:
    tool: Tool
    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def reset_cold(self, target: str) -> None:
        for rel in [*self.tool.state, target + self.tool.suffix]:
            p = self.root / rel
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()


def new_repo(tool: Tool, work: Path, fixtures: Path, parts: list[str]) -> Repo:
    root = work / f"{tool.name}-{'-'.join(parts) or 'empty'}"
    root.mkdir(parents=True)
    env = {**ENV, "DVC_SITE_CACHE_DIR": str(root / "site")}
    sh(["git", "init", "-q", "-b", "main"], root)
    for part in parts:
        shutil.copytree(fixtures / part, root / part)
    for args in tool.init:
        sh(tool.cmd(*args), root, env)
    (root / ".git" / "info" / "exclude").write_text("site/\n")
    sh(["git", "add", "-A", "--", ".", *[f":!{p}" for p in parts]], root)
    sh(["git", "commit", "-qm", "init"], root)
    return Repo(tool, root, env)


@dataclass
class Scenario:
    id: str
    parts: list[str]
    args: list[str]
    prepare: Callable[[Repo], None] | None  # once, untimed
    reset: Callable[[Repo], None] | None  # before every run, untimed
    limit: list[str] | None  # raw floor, run in the fixture dir


def _added(target: str) -> Callable[[Repo], None]:
    def prepare(repo: Repo) -> None:
        sh(repo.tool.cmd("add", target), repo.root, repo.env)
        sh(["git", "add", "-A"], repo.root)
        sh(["git", "commit", "-qm", f"add {target}"], repo.root)

    return prepare


def _cold(target: str) -> Callable[[Repo], None]:
    return lambda repo: repo.reset_cold(target)


def scenarios(py: str) -> list[Scenario]:
    stat_walk = [
        py,
        "-c",
        "import os\nfor r, d, fs in os.walk('many'):\n    for f in fs: os.stat(os.path.join(r, f))",
    ]
    return [
        Scenario("version", [], ["--version"], None, None, [py, "-c", "pass"]),
        Scenario("status_fresh", [], ["status"], None, None, [py, "-c", "pass"]),
        Scenario(
            "add_big_cold",
            ["big"],
            ["add", "big"],
            None,
            _cold("big"),
            ["sh", "-c", "cat big/* > /dev/null"],
        ),
        Scenario(
            "add_many_cold",
            ["many"],
            ["add", "many"],
            None,
            _cold("many"),
            ["sh", "-c", "rm -rf /tmp/gfml-cp && cp -R many /tmp/gfml-cp"],
        ),
        Scenario("status_many_warm", ["many"], ["status"], _added("many"), None, stat_walk),
    ]


def _pipeline_repo(work: Path, name: str, stages: str) -> Path:
    root = work / name
    root.mkdir(parents=True)
    sh(["git", "init", "-q", "-b", "main"], root)
    (root / "seed.txt").write_text("seed\n")
    (root / "pipeline.yaml").write_text("stages:\n" + stages)
    return root


def fanout_stages(n: int, seconds: float) -> str:
    return "".join(
        f"  s{i}:\n    cmd: sleep {seconds} && echo {i} > o{i}.txt\n    deps: [seed.txt]\n"
        f"    outs: [o{i}.txt]\n"
        for i in range(n)
    )


def scaling_stages(n: int) -> str:
    """A chain of n/10 stages, each fanning out to 9 copies: like the shared fixture."""
    out = []
    for i in range(n):
        if i % 10 == 0:
            src = "seed.txt" if i == 0 else f"out/c{i - 10}.txt"
            out.append(
                f"  c{i}:\n    cmd: mkdir -p out && cp {src} out/c{i}.txt\n"
                f"    deps: [{src}]\n    outs: [out/c{i}.txt]\n"
            )
        else:
            head = i - i % 10
            out.append(
                f"  f{i}:\n    cmd: cp out/c{head}.txt out/f{i}.txt\n"
                f"    deps: [out/c{head}.txt]\n    outs: [out/f{i}.txt]\n"
            )
    return "".join(out)


def pipeline_benchmarks(gitflowml: list[str], work: Path, runs: int) -> str:
    """gitflowml alone: DVC runs stages one at a time, so there is nothing to pair with."""
    lines = [
        "",
        "Pipeline runs (gitflowml; median of runs, seconds)",
        "",
        "| scenario | seconds | note |",
        "|---|---|---|",
    ]

    def timed_repro(root: Path, *args: str) -> float:
        samples = []
        for _ in range(runs):
            for p in [root / "pipeline.lock", root / ".gitflowml" / "cache"]:
                if p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
            samples.append(timed([*gitflowml, "repro", "--no-run-cache", *args], root, ENV))
        return statistics.median(samples)

    fan = _pipeline_repo(work, "fanout", fanout_stages(8, 0.5))
    sh([*gitflowml, "init"], fan)
    j1 = timed_repro(fan, "-j", "1")
    j2 = timed_repro(fan, "-j", "2")
    lines.append(f"| fan-out of 8 x `sleep 0.5`, -j 1 | {j1:.2f} | |")
    lines.append(f"| fan-out of 8 x `sleep 0.5`, -j 2 | {j2:.2f} | {j1 / j2:.2f}x faster |")
    for n in (50, 100, 200, 1000):
        root = _pipeline_repo(work, f"scale{n}", scaling_stages(n))
        sh([*gitflowml, "init"], root)
        took = timed_repro(root)
        lines.append(f"| {n} stages from scratch | {took:.2f} | {1000 * took / n:.1f} ms/stage |")
    return "\n".join(lines)


def code_repo(work: Path, name: str, python_stages: bool, modules: int = 30, n: int = 50) -> Path:
    """n stages, each importing a shared package of `modules` modules that import each other;
    as Python stages, or as the same stages in shell with no code to follow."""
    if python_stages:
        stages = "".join(
            f"  s{i}:\n    python: stages/s{i}.py:main\n    args: {{i: {i}}}\n"
            f"    deps: [seed.txt]\n    outs: [o{i}.txt]\n"
            for i in range(n)
        )
    else:
        stages = "".join(
            f"  s{i}:\n    cmd: echo {i} > o{i}.txt\n    deps: [seed.txt]\n    outs: [o{i}.txt]\n"
            for i in range(n)
        )
    root = _pipeline_repo(work, name, stages)
    shared = root / "shared"
    shared.mkdir()
    (shared / "__init__.py").write_text("from .m00 import value\n")
    for m in range(modules):
        nxt = f"from . import m{m + 1:02d}\n" if m + 1 < modules else ""
        body = "".join(f"def f{k}(x):\n    return x + {k}\n\n" for k in range(20))
        (shared / f"m{m:02d}.py").write_text(f"import os\nimport json\n{nxt}\nvalue = {m}\n{body}")
    (root / "stages").mkdir()
    for i in range(n):
        (root / "stages" / f"s{i}.py").write_text(
            "from shared import value, m29\n\n"
            "def main(i):\n    open(f'o{i}.txt', 'w').write(str(value + i))\n"
        )
    return root


def code_benchmarks(gitflowml: list[str], work: Path, runs: int) -> str:
    """No-op status of 50 Python stages sharing a 30-module package vs the same as shell."""
    lines = [
        "",
        "No-op status: 50 Python stages importing a shared 30-module package, vs 50 shell stages",
        "(median of runs, seconds; 'full' = GITFLOWML_QUICK=0, the answer recomputed)",
        "",
        "| pipeline | status | status, full | full: python/shell |",
        "|---|---|---|---|",
    ]
    roots = {}
    for kind in ("python", "shell"):
        roots[kind] = code_repo(work, f"code-{kind}", kind == "python")
        sh([*gitflowml, "init"], roots[kind])
        sh([*gitflowml, "repro"], roots[kind])
    time.sleep(0.1)  # out of the racy window, as a user's next command would be
    full_env = {**ENV, "GITFLOWML_QUICK": "0"}
    samples: dict[tuple[str, str], list[float]] = {}
    for run in range(runs + 1):  # interleaved, the first round a warm-up
        for kind in ("python", "shell"):
            for mode, env in (("quick", ENV), ("full", full_env)):
                took = timed([*gitflowml, "status"], roots[kind], env)
                if run:
                    samples.setdefault((kind, mode), []).append(took)
    got = {
        kind: (
            statistics.median(samples[(kind, "quick")]),
            statistics.median(samples[(kind, "full")]),
        )
        for kind in ("python", "shell")
    }
    ratio = got["python"][1] / got["shell"][1]
    for kind in ("python", "shell"):
        q, f = got[kind]
        lines.append(f"| {kind} | {q:.3f} | {f:.3f} | {ratio:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--fixtures", type=Path, default=Path(tempfile.gettempdir()) / "gitflowml-bench-fixtures"
    )
    here = Path(sys.executable).parent
    ap.add_argument("--gitflowml", default=str(here / "gitflowml"))
    ap.add_argument(
        "--dvc",
        default=shutil.which("dvc"),
        help="DVC command (default: dvc on PATH; none: gitflowml only)",
    )
    ap.add_argument("--only", default=None, help="comma list of scenario ids")
    ap.add_argument(
        "--pipelines",
        action="store_true",
        help="also time -j 1 vs -j 2 and 50/100/200/1000-stage pipelines",
    )
    ap.add_argument(
        "--code",
        action="store_true",
        help="also time a no-op status of 50 Python stages vs 50 shell stages",
    )
    a = ap.parse_args(argv)

    fixtures = a.fixtures / a.size
    print(f"fixtures: {fixtures} ({a.size})", file=sys.stderr)
    make_fixtures(fixtures, a.size)
    chosen = [s for s in scenarios(sys.executable) if not a.only or s.id in a.only.split(",")]
    all_tools = tools(a.gitflowml, a.dvc)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gfml-bench-", dir=a.fixtures) as tmp:
        work = Path(tmp)
        for sc in chosen:
            print(f"scenario {sc.id}", file=sys.stderr)
            repos = [new_repo(t, work / sc.id, fixtures, sc.parts) for t in all_tools]
            for repo in repos:
                if sc.prepare:
                    sc.prepare(repo)
            times: dict[str, list[float]] = {t.name: [] for t in all_tools}
            times["limit"] = []
            for run in range(a.runs + 1):  # the first round is a warm-up
                for repo in repos:
                    if sc.reset:
                        sc.reset(repo)
                    took = timed(repo.tool.cmd(*sc.args), repo.root, repo.env)
                    if run:
                        times[repo.tool.name].append(took)
                if sc.limit:
                    took = timed(sc.limit, fixtures, ENV)
                    if run:
                        times["limit"].append(took)
            rows.append((sc, {k: statistics.median(v) for k, v in times.items() if v}))
        print(report(rows, [t.name for t in all_tools], a))
        if a.pipelines:
            print(pipeline_benchmarks(all_tools[0].argv, work / "pipelines", a.runs))
        if a.code:
            print(code_benchmarks(all_tools[0].argv, work / "code", a.runs))
    return 0


def report(
    rows: list[tuple[Scenario, dict[str, float]]], names: list[str], a: argparse.Namespace
) -> str:
    lines = [
        f"gitflowml benchmarks, size {a.size}, median of {a.runs} runs (seconds)",
        "",
        "| scenario | " + " | ".join(names) + " | limit | dvc/gitflowml | gitflowml/limit |",
        "|---" * (len(names) + 4) + "|",
    ]
    for sc, med in rows:
        cells = [f"{med[n]:.3f}" if n in med else "-" for n in names]
        ratio = f"{med['dvc'] / med['gitflowml']:.1f}x" if "dvc" in med else "-"
        limit = med.get("limit")
        over = f"{med['gitflowml'] / limit:.1f}x" if limit else "-"
        lim = f"{limit:.3f}" if limit else "-"
        lines.append(f"| {sc.id} | " + " | ".join(cells) + f" | {lim} | {ratio} | {over} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
