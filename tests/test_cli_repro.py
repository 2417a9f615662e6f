"""`repro` end to end in real git repositories with real shell commands."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitflowml.pipeline import lockfile
from tests.conftest import Repo, Run

CHAIN = """\
stages:
  prepare:
    cmd: mkdir -p data && cp raw.csv data/clean.csv && echo ${prepare.split} >> data/clean.csv
    deps: [raw.csv]
    params: [prepare.split]
    outs: [data/clean.csv]
  train:
    cmd: "wc -l < data/clean.csv > model.txt && echo '{\\"acc\\": 1}' > metrics.json"
    deps: [data/clean.csv]
    params: [train.lr]
    outs: [model.txt]
    metrics: [{metrics.json: {cache: false}}]
  report:
    cmd: cp metrics.json report.md
    deps: [metrics.json]
    outs: [report.md]
"""
PARAMS = "prepare: {split: 0.2}\ntrain: {lr: 0.1}\n"


@pytest.fixture
def chain(project: Repo) -> Repo:
    project.gen({"pipeline.yaml": CHAIN, "params.yaml": PARAMS, "raw.csv": "a,b\n1,2\n"})
    return project


def _ran(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def _lock(root: Path) -> lockfile.Lock:
    return lockfile.load(root / "pipeline.lock")


def test_first_run_then_nothing_to_do(chain: Repo, run: Run) -> None:
    result = run("repro")
    assert _ran(result.stdout) == ["prepare", "train", "report"]
    assert result.stdout.endswith("Pipeline reproduced: ran 3.\n")
    lock = _lock(chain.root)
    assert sorted(lock.stages) == ["prepare", "report", "train"]
    assert lock.stages["prepare"].param_values == {"params.yaml": {"prepare.split": 0.2}}
    # cached outs are in the cache and gitignored; cache: false metrics stay in git's view
    out = lock.stages["train"].outs
    model = next(e for e in out if e.path == "model.txt")
    assert (chain.root / ".gitflowml" / "cache" / model.oid[:2] / model.oid[2:]).exists()
    assert "/model.txt" in (chain.root / ".gitignore").read_text()
    assert "metrics.json" not in (chain.root / ".gitignore").read_text()
    again = run("repro")
    assert _ran(again.stdout) == []
    assert again.stdout.endswith("Pipeline is up to date.\n")
    assert run("status").stdout == "Pipeline is up to date.\n"


def test_a_param_change_reruns_only_what_uses_it(chain: Repo, run: Run) -> None:
    run("repro")
    chain.gen({"params.yaml": "prepare: {split: 0.2}\ntrain: {lr: 0.5}\nother: 1\n"})
    result = run("repro")
    assert _ran(result.stdout) == ["train"]
    assert "param changed: params.yaml:train.lr: 0.1 -> 0.5" in result.stdout
    assert "Stage 'report' is up to date" in result.stdout  # identical metrics: cut off


def test_early_cutoff(chain: Repo, run: Run) -> None:
    run("repro")
    chain.gen({"raw.csv": "a,b\n3,4\n"})  # same number of lines: model.txt is unchanged
    result = run("repro")
    assert _ran(result.stdout) == ["prepare", "train"]
    assert "Stage 'report' is up to date" in result.stdout


def test_force_single_stage_downstream_and_dry(chain: Repo, run: Run) -> None:
    run("repro")
    assert _ran(run("repro", "-f").stdout) == ["prepare", "train", "report"]
    assert _ran(run("repro", "-f", "-s", "train").stdout) == ["train"]
    assert _ran(run("repro", "-f", "train").stdout) == ["prepare", "train"]
    assert _ran(run("repro", "-f", "--downstream", "train").stdout) == ["train", "report"]
    chain.gen({"raw.csv": "changed\n"})
    dry = run("repro", "--dry")
    assert dry.stdout.strip().endswith("Would run: prepare, train, report")
    assert _lock(chain.root).stages["prepare"].deps[0].oid != "x"  # untouched
    assert _ran(dry.stdout) == []
    assert "dep changed: raw.csv" in run("status").stdout


def test_failure_stops_downstream_keeps_finished_and_resumes(chain: Repo, run: Run) -> None:
    chain.gen({"pipeline.yaml": CHAIN.replace("cp metrics.json report.md", "exit 3")})
    result = run("repro", code=1)
    assert "stage 'report' exited with code 3" in result.stderr
    assert result.stderr.count("\n") == 1
    assert sorted(_lock(chain.root).stages) == ["prepare", "train"]
    chain.gen({"pipeline.yaml": CHAIN})
    assert _ran(run("repro").stdout) == ["report"]


def test_keep_going_runs_independent_branches(project: Repo, run: Run) -> None:
    project.gen(
        {
            "pipeline.yaml": """\
stages:
  bad:
    cmd: exit 1
    outs: [bad.txt]
  after_bad:
    cmd: cp bad.txt after.txt
    deps: [bad.txt]
    outs: [after.txt]
  good:
    cmd: echo ok > good.txt
    outs: [good.txt]
"""
        }
    )
    stopped = run("repro", code=1)
    assert not (project.root / "good.txt").exists() or "good" in _ran(stopped.stdout)
    result = run("repro", "-k", code=1)
    assert (project.root / "good.txt").read_text() == "ok\n"
    assert not (project.root / "after.txt").exists()
    assert "stage 'bad' exited with code 1" in result.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("cmd: echo hi\n    outs: [never.txt]", "declared out 'never.txt' was not produced"),
        ("cmd: sleep 5\n    timeout: 0.3\n    outs: [x]", "timed out after 0.3 s"),
        (
            "cmd: cat nothere.csv > o\n    deps: [nothere.csv]\n    outs: [o]",
            "dep 'nothere.csv' does not exist",
        ),
    ],
)
def test_stage_failures_name_the_cause(project: Repo, run: Run, body: str, message: str) -> None:
    project.gen({"pipeline.yaml": f"stages:\n  s:\n    {body}\n"})
    result = run("repro", code=1)
    assert message in result.stderr


def test_retries(project: Repo, run: Run) -> None:
    # fails until it has been tried three times
    cmd = "echo x >> tries && test $(wc -l < tries) -ge 3 && echo done > out.txt"
    project.gen(
        {
            "pipeline.yaml": f"stages:\n  flaky:\n    cmd: {cmd}\n    retries: 2\n"
            "    outs: [out.txt]\n"
        }
    )
    run("repro")
    assert (project.root / "tries").read_text() == "x\nx\nx\n"
    project.gen(
        {
            "pipeline.yaml": f"stages:\n  flaky:\n    cmd: {cmd}\n    retries: 0\n"
            "    outs: [out.txt]\n",
            "tries": "",
        }
    )
    run("repro", "-f", code=1)


def test_env_wdir_frozen_always_changed_and_persist(project: Repo, run: Run) -> None:
    project.gen(
        {
            "sub": {"in.txt": "hello"},
            "pipeline.yaml": """\
stages:
  envy:
    cmd: echo $GREETING > env.txt
    env: {GREETING: bonjour}
    outs: [env.txt]
  inside:
    cmd: cp in.txt out.txt
    wdir: sub
    deps: [in.txt]
    outs: [out.txt]
  cold:
    cmd: echo frozen > frozen.txt
    outs: [frozen.txt]
    frozen: true
  every:
    cmd: date +%N >> every.txt
    outs: [{every.txt: {persist: true}}]
    always_changed: true
""",
        }
    )
    first = run("repro")
    assert (project.root / "env.txt").read_text() == "bonjour\n"
    assert (project.root / "sub" / "out.txt").read_text() == "hello"
    assert not (project.root / "frozen.txt").exists()
    assert "cold" not in _ran(first.stdout)
    assert _ran(run("repro").stdout) == ["every"]
    assert len((project.root / "every.txt").read_text().splitlines()) == 2  # persisted
    run("repro", "-f", "-s", "cold")
    assert (project.root / "frozen.txt").exists()


def test_python_stages(project: Repo, run: Run) -> None:
    project.gen(
        {
            "src": {
                "__init__.py": "",
                "helpers.py": "def double(x):\n    return 2 * x\n",
                "train.py": "import json\nfrom src.helpers import double\n\n"
                "def main(lr, epochs):\n"
                "    json.dump({'score': double(lr) * epochs}, open('m.json', 'w'))\n",
            },
            "pipeline.yaml": "stages:\n  train:\n    python: src/train.py:main\n"
            "    args: {lr: 0.5, epochs: 3}\n    outs: [m.json]\n",
        }
    )
    run("repro")
    assert json.loads((project.root / "m.json").read_text()) == {"score": 3.0}
    project.gen({"src": {"train.py": "def main(lr, epochs):\n    raise ValueError('boom')\n"}})
    # the arguments changed too, so the stage reruns and its exception fails it
    project.gen(
        {
            "pipeline.yaml": "stages:\n  train:\n    python: src/train.py:main\n"
            "    args: {lr: 0.7, epochs: 3}\n    outs: [m.json]\n"
        }
    )
    assert "exited with code 1" in run("repro", code=1).stderr


def test_parallel_stages_run_at_the_same_time_with_prefixed_output(project: Repo, run: Run) -> None:
    # each stage waits (up to 10 s) for the other to have started: only -j 2 can finish
    wait_for = "i=0; while [ ! -e {other} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
    stages = "".join(
        f"  {me}:\n    cmd: touch {me}.started; {wait_for.format(other=other + '.started')}"
        f"test -e {other}.started && echo hello from {me} && echo {me} > {me}.out\n"
        f"    outs: [{me}.out]\n"
        for me, other in (("left", "right"), ("right", "left"))
    )
    project.gen({"pipeline.yaml": "stages:\n" + stages})
    result = run("repro", "-j", "2")
    assert "[left] hello from left" in result.stdout
    assert "[right] hello from right" in result.stdout


def test_cpus_count_against_the_job_budget(project: Repo, run: Run) -> None:
    # two stages of 2 cpus each with -j 2 cannot overlap: the second sees no marker
    body = "    cmd: test ! -e running && touch running && sleep 0.3 && rm running && touch {n}\n"
    project.gen(
        {
            "pipeline.yaml": "stages:\n"
            + "".join(
                f"  {n}:\n" + body.format(n=n) + f"    outs: [{n}]\n    resources: {{cpus: 2}}\n"
                for n in ("a", "b")
            )
        }
    )
    run("repro", "-j", "2")
    assert (project.root / "a").exists()
    assert (project.root / "b").exists()


def test_a_second_repro_waits_for_the_repo_lock(chain: Repo, run: Run) -> None:
    from gitflowml import repolock

    with repolock.hold(chain.root / ".gitflowml"):
        result = run("repro", "--wait", "0.3", code=1)
    assert "another gitflowml command" in result.stderr
    assert "--wait" in result.stderr
    run("repro")


def test_ctrl_c_kills_the_stage_and_its_children(project: Repo) -> None:
    project.gen(
        {
            "pipeline.yaml": "stages:\n  slow:\n    cmd: sleep 30 & echo $! > child.pid;"
            " wait\n    outs: [never]\n  done:\n    cmd: echo > d\n"
            "    outs: [d]\n"
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitflowml", "repro"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = project.root / "child.pid"
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the stage never started"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.startswith("error: interrupted")
    assert _dead(child), "the stage's own child process survived"
    lock = lockfile.load(project.root / "pipeline.lock")  # valid, whatever it holds
    assert "slow" not in lock.stages


def _dead(pid: int, within: float = 5.0) -> bool:
    """Gone, or a zombie (killed; its parent died and the reaper has not collected it)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


RUNCACHED = """\
stages:
  train:
    cmd: echo run >> runs.log && echo "lr=${lr}" > model.txt && mkdir -p ev && echo ${lr} > ev/a
    params: [lr]
    outs: [model.txt, ev]
    metrics: [{m.json: {cache: false}}]
"""


def test_the_run_cache_restores_an_earlier_identical_run(project: Repo, run: Run) -> None:
    project.gen(
        {
            "pipeline.yaml": RUNCACHED.replace(
                " && echo ${lr} > ev/a", " && echo ${lr} > ev/a && echo 1 > m.json"
            ),
            "params.yaml": "lr: 1\n",
        }
    )
    runs = project.root / "runs.log"
    run("repro")
    project.gen({"params.yaml": "lr: 2\n"})
    run("repro")
    assert runs.read_text() == "run\nrun\n"
    project.gen({"params.yaml": "lr: 1\n"})  # back to the first inputs
    result = run("repro")
    assert "Restored stage 'train' from the run-cache" in result.stdout
    assert runs.read_text() == "run\nrun\n"  # not run again
    assert (project.root / "model.txt").read_text() == "lr=1\n"
    assert (project.root / "ev" / "a").read_text() == "1\n"
    assert (project.root / "m.json").read_text() == "1\n"
    assert run("status").stdout == "Pipeline is up to date.\n"
    project.gen({"params.yaml": "lr: 2\n"})
    run("repro", "--no-run-cache")
    assert runs.read_text() == "run\nrun\nrun\n"


def test_a_run_cache_entry_whose_objects_are_gone_runs_the_stage(project: Repo, run: Run) -> None:
    import shutil

    project.gen(
        {
            "pipeline.yaml": RUNCACHED.replace("    metrics: [{m.json: {cache: false}}]\n", ""),
            "params.yaml": "lr: 1\n",
        }
    )
    run("repro")
    project.gen({"params.yaml": "lr: 2\n"})
    run("repro")
    cache = project.root / ".gitflowml" / "cache"
    for fan in cache.iterdir():
        if fan.name != "runs":
            shutil.rmtree(fan)
    project.gen({"params.yaml": "lr: 1\n"})
    assert "Running stage 'train'" in run("repro").stdout
    assert (project.root / "runs.log").read_text() == "run\nrun\nrun\n"


def test_checkout_restores_stage_outs(chain: Repo, run: Run) -> None:
    run("repro")
    (chain.root / "model.txt").unlink()
    import shutil

    shutil.rmtree(chain.root / "data")
    result = run("checkout")
    assert "restored data/clean.csv" in result.stdout
    assert "restored model.txt" in result.stdout
    assert run("status").stdout == "Pipeline is up to date.\n"
    (chain.root / "model.txt").unlink()
    run("checkout", "train")  # a stage name selects its outs
    assert (chain.root / "model.txt").exists()


def test_a_dvc_project_runs_unchanged(project: Repo, run: Run) -> None:
    """DVC's get-started layout: its dvc.yaml, renamed, with small scripts of the same shape."""
    from tests.pipeline.test_pipeline import DVC_YAML

    script = "import json, os, sys\n{body}\n"
    project.gen(
        {
            "pipeline.yaml": DVC_YAML,
            "params.yaml": "prepare: {seed: 20170428, split: 0.2}\n"
            "featurize: {max_features: 100, ngrams: 1}\n"
            "train: {seed: 20170428, n_est: 50, min_split: 0.01}\n",
            "data": {"data.xml": "<posts><row Id='1'/><row Id='2'/></posts>\n"},
            "src": {
                "prepare.py": script.format(
                    body="os.makedirs('data/prepared', exist_ok=True)\n"
                    "open('data/prepared/train.tsv', 'w').write(open(sys.argv[1]).read())"
                ),
                "featurization.py": script.format(
                    body="os.makedirs(sys.argv[2], exist_ok=True)\n"
                    "open(sys.argv[2] + '/train.pkl', 'w').write('features')"
                ),
                "train.py": script.format(body="open(sys.argv[2], 'w').write('model')"),
                "evaluate.py": script.format(
                    body=(
                        "for d in ('eval/live/plots', 'eval/prc'):\n"
                        "    os.makedirs(d, exist_ok=True)\n"
                        "open('eval/importance.png', 'wb').write(b'png')\n"
                        "open('eval/live/plots/roc.json', 'w').write('[]')\n"
                        "open('eval/prc/train.json', 'w').write('[]')\n"
                        "json.dump({'avg_prec': 0.9}, open('eval/live/metrics.json', 'w'))"
                    )
                ),
            },
        }
    )
    result = run("repro")
    assert _ran(result.stdout) == ["prepare", "featurize", "train", "evaluate"]
    assert json.loads((project.root / "eval/live/metrics.json").read_text()) == {"avg_prec": 0.9}
    project.gen(
        {
            "params.yaml": "prepare: {seed: 20170428, split: 0.2}\n"
            "featurize: {max_features: 100, ngrams: 1}\n"
            "train: {seed: 20170428, n_est: 100, min_split: 0.01}\n"
        }
    )
    assert _ran(run("repro").stdout) == ["train"]  # evaluate: identical model, cut off


def test_a_url_dep_is_tracked_without_downloading(project: Repo, run: Run) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/raw.csv", b"v1")
    try:
        project.gen(
            {
                "pipeline.yaml": "stages:\n  fetch:\n    cmd: echo fetched > got.txt\n"
                "    deps: [memory://bucket/raw.csv]\n"
                "    outs: [got.txt]\n"
            }
        )
        run("repro")
        assert run("status").stdout == "Pipeline is up to date.\n"
        fs.pipe("/bucket/raw.csv", b"version 2")
        assert "dep changed: memory://bucket/raw.csv" in run("status").stdout
        assert _ran(run("repro").stdout) == ["fetch"]
    finally:
        fs.rm("/bucket", recursive=True)


def test_status_reports_stage_outs_missing_from_the_cache(chain: Repo, run: Run) -> None:
    import shutil

    run("repro")
    shutil.rmtree(chain.root / ".gitflowml" / "cache")
    text = run("status").stdout
    assert "not in cache: data/clean.csv  (object missing)" in text
    assert "not in cache: model.txt  (object missing)" in text
    doc = json.loads(run("status", "--json").stdout)
    assert {"reason": "not in cache", "path": "model.txt", "detail": "object missing"} in doc[
        "pipeline.lock"
    ]
    run("status", "--check", code=1)
    run("repro", "-f")  # running again puts them back
    assert run("status").stdout == "Pipeline is up to date.\n"


def test_an_out_that_is_also_added_is_refused(project: Repo, run: Run) -> None:
    project.gen({"data": {"x.csv": "1"}})
    run("add", "data")
    project.gen(
        {"pipeline.yaml": "stages:\n  s:\n    cmd: echo > data/y.csv\n    outs: [data/y.csv]\n"}
    )
    result = run("repro", code=1)
    assert "stage 's' writes 'data/y.csv', but data.gfml tracks 'data' already" in result.stderr
    assert not (project.root / "data" / "y.csv").exists()


def test_outs_that_cannot_be_stored_fail_the_run_and_only_that_stage_reruns(
    project: Repo, run: Run
) -> None:
    """Small outs are written to the cache in the background; when that fails the run starts
    nothing more and says so, keeps the lock entries of the stages that were stored, and
    the next run redoes the stages that were not."""
    from gitflowml.storage import hashing

    project.gen(
        {
            "pipeline.yaml": "stages:\n  a:\n    cmd: echo hello > a.txt\n    outs: [a.txt]\n"
            "  b:\n    cmd: sleep 1 && echo world > b.txt\n    outs: [b.txt]\n"
            "  c:\n    cmd: echo c > c.txt\n    outs: [c.txt]\n"
        }
    )
    fan = project.root / ".gitflowml" / "cache" / hashing.hash_bytes(b"hello\n")[:2]
    fan.parent.mkdir(parents=True, exist_ok=True)
    fan.write_text("in the way")  # the object's directory cannot be made
    result = run("repro", code=1)
    assert result.stderr.startswith("error: stage 'a' ran, but its outs could not be stored")
    assert "Traceback" not in result.stderr
    assert not (project.root / "c.txt").exists()  # started after the failure: never
    runs = project.root / ".gitflowml" / "cache" / "runs"
    assert len(list(runs.glob("*/*"))) == 1  # b's run-cache entry; none for a's lost outs
    records = (project.root / ".gitflowml" / "runs").glob("*.jsonl")
    assert [json.loads(line)["stage"] for f in records for line in f.read_text().splitlines()] == [
        "b"
    ]
    status = json.loads(run("status", "--json").stdout)
    assert sorted(status) == ["a", "c"]  # b's entry was kept (in the journal)
    fan.unlink()
    again = run("repro")
    assert _ran(again.stdout) == ["a", "c"]
    lock = _lock(project.root)
    assert sorted(lock.stages) == ["a", "b", "c"]
    for stage in lock.stages.values():
        for entry in stage.outs:
            assert (project.root / ".gitflowml" / "cache" / entry.oid[:2] / entry.oid[2:]).exists()


def test_stages_run_in_their_wdir_wherever_repro_is_started(project: Repo, run: Run) -> None:
    """The command's directory is the stage's wdir, whether repro runs from the root (the
    command is then started with posix_spawn where it runs in the root) or not."""
    project.gen(
        {
            "pipeline.yaml": "stages:\n  top:\n    cmd: pwd > top.txt\n    outs: [top.txt]\n"
            "  inner:\n    cmd: pwd > inner.txt\n    wdir: sub\n    outs: [inner.txt]\n",
            "sub": {"keep": ""},
        }
    )
    run("repro")
    assert Path((project.root / "top.txt").read_text().strip()).samefile(project.root)
    assert Path((project.root / "sub" / "inner.txt").read_text().strip()).samefile(
        project.root / "sub"
    )
    os.chdir(project.root / "sub")
    (project.root / "top.txt").unlink()
    run("repro")  # from a subdirectory: the stage still runs at the root
    assert Path((project.root / "top.txt").read_text().strip()).samefile(project.root)


AHEAD = """\
stages:
  first:
    cmd: sleep 0.3 && ${exit} && echo 1 > first.txt
    outs: [first.txt]
  second:
    cmd: cp in.txt second.txt
    deps: [in.txt]
    outs: [second.txt]
  third:
    cmd: cp second.txt third.txt
    deps: [second.txt]
    outs: [third.txt]
"""


def _judged(monkeypatch: pytest.MonkeyPatch, root: Path) -> dict[str, set[str]]:
    """Each stage judged, with the outs of the pipeline that existed when it was."""
    from gitflowml.pipeline import observe

    seen: dict[str, set[str]] = {}
    real = observe.observe

    def spy(where: Path, stages, *args, **kwargs):
        stages = list(stages)
        for stage in stages:
            seen[stage.name] = {p.name for p in root.glob("*.txt")} - {"in.txt"}
        return real(where, stages, *args, **kwargs)

    monkeypatch.setattr(observe, "observe", spy)
    return seen


def test_the_next_stage_is_judged_while_a_command_runs(
    project: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With -j 1 the next independent stage is judged while the running command runs, so it
    starts as soon as that one ends; a stage that needs the running one's outs is judged only
    after it, against what it left behind."""
    project.gen({"pipeline.yaml": AHEAD.replace("${exit}", "true"), "in.txt": "v1\n"})
    seen = _judged(monkeypatch, project.root)
    result = run("repro")
    assert _ran(result.stdout) == ["first", "second", "third"]
    assert seen == {"first": set(), "second": set(), "third": {"first.txt", "second.txt"}}
    assert (project.root / "third.txt").read_text() == "v1\n"
    project.gen({"in.txt": "v2\n"})
    assert _ran(run("repro").stdout) == ["second", "third"]
    assert (project.root / "third.txt").read_text() == "v2\n"


def test_a_stage_judged_ahead_is_left_alone_when_an_earlier_one_fails(
    project: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.gen(
        {
            "pipeline.yaml": AHEAD.replace("${exit}", "exit 4"),
            "in.txt": "v1\n",
            "second.txt": "an earlier version\n",
        }
    )
    seen = _judged(monkeypatch, project.root)
    result = run("repro", code=1)
    assert "second" in seen  # judged while `first` ran ...
    assert _ran(result.stdout) == ["first"]  # ... but never started
    assert (project.root / "second.txt").read_text() == "an earlier version\n"
    assert "stage 'first' exited with code 4" in result.stderr
    assert "second" not in _lock(project.root).stages


FAN_OUT = """\
stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
""" + "".join(
    f"  b{i}:\n    cmd: cp a.txt b{i}.txt\n    deps: [a.txt]\n    outs: [b{i}.txt]\n"
    for i in range(4)
)


def test_an_out_is_read_once_however_many_stages_depend_on_it(
    project: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The out is hashed (and stored) once, when its stage ends: the stages that depend on
    it find it in the hash state although it was written a moment ago, and the state is on
    disk when the run ends."""
    from gitflowml.storage import hashing, odb

    reads: list[str] = []
    real_hash, real_add = hashing.hash_file, odb.LocalOdb.add_file

    def hash_file(path: str, *args, **kwargs):
        reads.append(os.path.basename(path))
        return real_hash(path, *args, **kwargs)

    def add_file(self: odb.LocalOdb, src: str, *args, **kwargs):
        reads.append(os.path.basename(src))
        return real_add(self, src, *args, **kwargs)

    monkeypatch.setattr(hashing, "hash_file", hash_file)
    monkeypatch.setattr(odb.LocalOdb, "add_file", add_file)
    project.gen({"pipeline.yaml": FAN_OUT})
    assert _ran(run("repro").stdout) == ["a", "b0", "b1", "b2", "b3"]
    assert reads.count("a.txt") == 1
    with sqlite3.connect(project.root / ".gitflowml" / "state.db") as conn:
        paths = {row[0] for row in conn.execute("SELECT path FROM state")}
    assert {str(project.root / f"{n}.txt") for n in ("a", "b0", "b3")} <= paths


def test_old_outs_are_deleted_off_the_critical_path(
    chain: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage's old out is renamed into .gitflowml/tmp/trash and deleted in the background;
    nothing is left there when the run ends, and what a killed run left is deleted by the
    next one."""
    from gitflowml.util import fsutil

    moved: list[str] = []
    real = fsutil.move_aside

    def spy(path: str, trash: str) -> str | None:
        aside = real(path, trash)
        if aside is not None:
            moved.append(os.path.basename(path))
        return aside

    monkeypatch.setattr(fsutil, "move_aside", spy)
    run("repro")
    assert moved == []  # nothing there yet
    trash = chain.root / ".gitflowml" / "tmp" / "trash"
    trash.mkdir()
    (trash / ".left-by-a-killed-run").write_text("x")
    chain.gen({"raw.csv": "a,b\n3,4\n"})
    assert _ran(run("repro").stdout) == ["prepare", "train"]  # report: its dep is the same
    assert moved == ["clean.csv", "model.txt", "metrics.json"]
    assert "3,4" in (chain.root / "data" / "clean.csv").read_text()
    assert not trash.exists()


def test_a_cache_false_out_that_git_ignores_is_a_warning_then_an_error(
    project: Repo, run: Run
) -> None:
    project.gen(
        {
            "pipeline.yaml": "stages:\n  score:\n    cmd: echo 1 > scores.json\n"
            "    metrics: [scores.json]\n",
            ".gitignore": "*.json\n",
        },
        commit="A metric git would never store",
    )
    result = run("repro")
    assert result.stderr == (
        "warning: scores.json is a 'cache: false' out, which git should store, but "
        ".gitignore ignores it; remove it from .gitignore, or give it 'cache: true'\n"
    )
    err = run("repro", "--commit", code=1).stderr
    assert err.startswith("error: scores.json is a 'cache: false' out")
    assert "so the commit would lose it" in err
    assert project.git("log", "--format=%s") == "A metric git would never store\n"
    (project.root / ".gitignore").write_text("")
    assert run("repro", "--commit").stderr == ""
    assert "scores.json" in project.git("show", "--name-only", "--format=")


LOGGED = """\
stages:
  train:
    cmd: echo "lr=${lr}" >> train.log && echo "model ${lr}" > model.txt
    params: [lr]
    outs: [model.txt, {train.log: {persist: true}}]
  score:
    cmd: cat model.txt > score.txt
    deps: [model.txt]
    outs: [score.txt]
"""


def test_outs_that_differ_from_the_lock_come_back_from_the_cache(project: Repo, run: Run) -> None:
    """After `git checkout` of another branch's lock, the inputs are those its stages ran
    with: status says checkout, and repro restores the outs instead of running again (a
    persist log would get a second line)."""
    project.gen({"pipeline.yaml": LOGGED, "params.yaml": "lr: 1\n"}, commit="A pipeline")
    run("repro", "--commit")
    project.git("checkout", "-qb", "exp")
    project.gen({"params.yaml": "lr: 2\n"})
    project.git("add", "params.yaml")
    run("repro", "--commit")
    project.git("checkout", "-q", "main")
    status = run("status").stdout
    assert "train:\n\t\tout changed: model.txt:" in status
    assert "score:\n\t\tdep changed: model.txt:" in status
    assert "use 'gitflowml checkout' to restore the outputs pipeline.lock records" in status
    assert "gitflowml repro" not in status
    out = run("repro").stdout
    assert "Restored the outputs of stage 'train' from the cache" in out
    assert "Running" not in out
    assert (project.root / "train.log").read_text() == "lr=1\n"  # not run on again
    assert (project.root / "score.txt").read_text() == "model 1\n"
    assert run("status").stdout == "Pipeline is up to date.\n"
    # only on the remote: pull is the remedy; with the objects nowhere, repro runs it
    project.git("checkout", "-q", "exp")
    shutil.rmtree(project.root / ".gitflowml" / "cache")
    assert "use 'gitflowml pull' to restore" in run("status").stdout
    out = run("repro").stdout
    assert "Running stage 'train'" in out
    assert (project.root / "train.log").read_text() == "lr=1\nlr=2\n"
    # a stage whose inputs changed is not restored, whatever its outs
    project.gen({"params.yaml": "lr: 3\n"})
    (project.root / "model.txt").unlink()
    assert "use 'gitflowml repro'" in run("status").stdout
    assert "Running stage 'train'" in run("repro").stdout
