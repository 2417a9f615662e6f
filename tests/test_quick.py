"""Quick answers: a no-op `status`/`repro` replayed from stat calls, and never when anything
it depends on changed. Every change below is compared with the same command run in full."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gitflowml import quick
from tests.conftest import Repo, Run

PIPELINE = """\
stages:
  prepare:
    cmd: mkdir -p data && cp raw.csv data/clean.csv && echo ${prepare.split} >> data/clean.csv
    deps: [raw.csv, lib]
    params: [prepare.split]
    outs: [data/clean.csv]
  train:
    cmd: wc -l < data/clean.csv > model.txt
    deps: [data/clean.csv]
    params: [train.lr]
    outs: [model.txt]
"""
PARAMS = "prepare: {split: 0.2}\ntrain: {lr: 0.1}\nunused: 1\n"


def gfml(root: Path, *args: str, quick_on: bool = True) -> tuple[str, bool]:
    """Run the real entry point in a subprocess: (stdout, whether it was a quick answer)."""
    env = {**os.environ, quick.DISABLE_ENV: "1" if quick_on else "0"}
    probe = (
        "import sys; from gitflowml.entry import main; code = main(sys.argv[1:]); "
        "sys.stderr.write('FULL\\n' if 'gitflowml.cli' in sys.modules else 'QUICK\\n'); "
        "raise SystemExit(code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=root, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr.endswith("QUICK\n")


def settled(root: Path, *args: str) -> str:
    """Run until the answer is saved, then check that it is replayed with the same output.
    A first full run may still store hashes (of files written in the racy window just
    before the last run), so the answer is saved by the second at the latest."""
    time.sleep(quick.RACY_NS / 1e9 + 0.02)
    full, _ = gfml(root, *args)
    for _attempt in range(2):
        again, was_quick = gfml(root, *args)
        assert again == full
        if was_quick:
            return again
    raise AssertionError("an unchanged repository should be answered quickly")


@pytest.fixture
def pipe(project: Repo, run: Run) -> Repo:
    project.gen(
        {
            "pipeline.yaml": PIPELINE,
            "params.yaml": PARAMS,
            "raw.csv": "a,b\n1,2\n",
            "lib": {"a.py": "x = 1\n", "sub": {"b.py": "y = 2\n"}},
            "images": {"1.png": b"\x89PNG1", "2.png": b"\x89PNG2"},
        }
    )
    run("add", "images")
    run("repro")
    project.git("add", "-A")
    project.git("commit", "-qm", "pipeline")
    return project


def test_an_unchanged_repository_is_answered_without_loading_the_cli(pipe: Repo) -> None:
    for args in (["status"], ["status", "--json"], ["repro"], ["-q", "status"]):
        out = settled(pipe.root, *args)
        assert out == gfml(pipe.root, *args, quick_on=False)[0]
    assert settled(pipe.root, "status") == "Pipeline is up to date.\n"
    assert list((pipe.root / ".gitflowml" / "tmp" / "quick").iterdir())


def _write(path: Path, text: str) -> None:
    path.write_text(text)


CHANGES: dict[str, Callable[[Path], None]] = {
    "dep edited, same size": lambda r: _write(r / "raw.csv", "a,b\n1,3\n"),
    "file inside a dep directory": lambda r: _write(r / "lib" / "sub" / "b.py", "y = 3\n"),
    "new file in a dep directory": lambda r: _write(r / "lib" / "c.py", "z = 1\n"),
    "out deleted": lambda r: (r / "model.txt").unlink(),
    "tracked param": lambda r: _write(r / "params.yaml", PARAMS.replace("0.1", "0.2")),
    "pipeline.yaml": lambda r: _write(r / "pipeline.yaml", PIPELINE.replace("wc -l <", "wc -c <")),
    "lock entry dropped": lambda r: _write(
        r / "pipeline.lock",
        (r / "pipeline.lock").read_text().split("  train:")[0],
    ),
    "cache object removed": lambda r: shutil.rmtree(r / ".gitflowml" / "cache"),
    "tracked data edited": lambda r: _write(r / "images" / "1.png", "changed"),
    "new pointer file": lambda r: _write(
        r / "other.gfml", (r / "images.gfml").read_text().replace("images", "other")
    ),
    "pointer names other data": lambda r: _write(
        r / "images.gfml",
        re.sub(r"hash: \w+", "hash: " + "ab" * 16, (r / "images.gfml").read_text()),
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_gets_the_full_answer(pipe: Repo, change: str) -> None:
    before = settled(pipe.root, "status")
    CHANGES[change](pipe.root)
    after, was_quick = gfml(pipe.root, "status")
    assert not was_quick
    assert after == gfml(pipe.root, "status", quick_on=False)[0]
    assert after != before


def test_a_touched_file_is_hashed_again_not_the_whole_command_run(pipe: Repo) -> None:
    before = settled(pipe.root, "status")
    for path in (pipe.root / "images" / "1.png", pipe.root / "lib" / "sub" / "b.py"):
        os.utime(path)  # new mtime and ctime, same bytes
    again = pipe.root / "images" / "2.png"
    again.write_bytes(again.read_bytes())  # rewritten in place with the same bytes
    time.sleep(quick.RACY_NS / 1e9 + 0.02)
    after, was_quick = gfml(pipe.root, "status")
    assert was_quick
    assert after == before == gfml(pipe.root, "status", quick_on=False)[0]


@pytest.mark.parametrize("change", ["mode", "no rows", "rows of another answer"])
def test_a_touched_file_runs_the_command_when_its_answer_cannot_be_checked(
    pipe: Repo, change: str
) -> None:
    settled(pipe.root, "status")
    answers = pipe.root / ".gitflowml" / "tmp" / "quick"
    (memo,) = [p for p in answers.iterdir() if not p.name.endswith(quick.DETAIL)]
    rows = Path(str(memo) + quick.DETAIL)
    target = pipe.root / "images" / "1.png"
    if change == "mode":
        target.chmod(0o755)
    else:
        os.utime(target)
    if change == "no rows":
        rows.unlink()
    if change == "rows of another answer":
        import marshal

        detail = marshal.loads(rows.read_bytes())
        detail["trees"] = {k: (b"other", chunks) for k, (_d, chunks) in detail["trees"].items()}
        rows.write_bytes(marshal.dumps(detail))
    time.sleep(quick.RACY_NS / 1e9 + 0.02)
    after, was_quick = gfml(pipe.root, "status")
    assert not was_quick
    assert after == gfml(pipe.root, "status", quick_on=False)[0]


def test_an_unlisted_param_still_gets_a_quick_answer_after_one_full_run(pipe: Repo) -> None:
    settled(pipe.root, "status")
    _write(pipe.root / "params.yaml", PARAMS.replace("unused: 1", "unused: 2"))
    out, was_quick = gfml(pipe.root, "status")
    assert not was_quick  # the file changed; only the full run can tell it does not matter
    assert out == "Pipeline is up to date.\n"
    assert settled(pipe.root, "status") == out


def test_environment_directory_and_arguments_are_part_of_the_question(
    pipe: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    settled(pipe.root, "status")
    assert not gfml(pipe.root / "lib", "status")[1]
    monkeypatch.setenv("GITFLOWML_CACHE_DIR", str(pipe.root / "elsewhere"))
    out, was_quick = gfml(pipe.root, "status")
    assert not was_quick
    assert "not in cache" in out


def test_a_repro_that_ran_a_stage_is_not_replayed(pipe: Repo) -> None:
    settled(pipe.root, "repro")
    _write(pipe.root / "raw.csv", "a,b\n5,6\n")
    out, was_quick = gfml(pipe.root, "repro")
    assert not was_quick
    assert "Running stage 'prepare'" in out
    out, was_quick = gfml(pipe.root, "repro")  # the outs were written just now: racy
    assert not was_quick
    assert "Running stage" not in out
    assert "Running stage" not in settled(pipe.root, "repro")


def test_a_failed_or_noisy_command_is_not_saved(pipe: Repo) -> None:
    _write(pipe.root / "pipeline.yaml", "stages: [")
    time.sleep(quick.RACY_NS / 1e9 + 0.02)
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "gitflowml", "status"], cwd=pipe.root, capture_output=True
        )
        assert proc.returncode == 1
    assert not (pipe.root / ".gitflowml" / "tmp" / "quick").exists()


def test_url_deps_are_never_answered_quickly(project: Repo, run: Run) -> None:
    project.gen(
        {
            "pipeline.yaml": (
                "stages:\n  s:\n    cmd: echo hi > o.txt\n"
                "    deps: ['memory://bucket/x.csv']\n    outs: [o.txt]\n"
            )
        }
    )
    time.sleep(quick.RACY_NS / 1e9 + 0.02)
    for _ in range(3):
        assert not gfml(project.root, "status")[1]


def test_a_damaged_answer_file_is_ignored(pipe: Repo) -> None:
    settled(pipe.root, "status", "--json")
    for path in (pipe.root / ".gitflowml" / "tmp" / "quick").iterdir():
        path.write_bytes(b"\x00garbage")
    out, was_quick = gfml(pipe.root, "status", "--json")
    assert not was_quick
    assert json.loads(out) == {}


def test_not_eligible_command_lines() -> None:
    assert quick.eligible(["status"])
    assert quick.eligible(["-q", "repro"])
    assert not quick.eligible(["repro", "-f"])
    assert not quick.eligible(["status", "--check"])
    assert not quick.eligible(["-C", "x", "status"])


def test_code_dependencies_are_inputs_too(project: Repo, run: Run) -> None:
    project.gen(
        {
            "train.py": "import helpers\n\ndef main():\n"
            "    try:\n        import maybe_later\n    except ImportError:\n        pass\n"
            "    open('m.txt', 'w').write(helpers.X)\n",
            "helpers.py": "X = 'a'\n",
            "pipeline.yaml": "stages:\n  t:\n    python: train.py:main\n    outs: [m.txt]\n",
        }
    )
    run("repro")
    settled(project.root, "status")
    _write(project.root / "helpers.py", "X = 'b'\n")
    out, was_quick = gfml(project.root, "status")
    assert not was_quick
    assert "code changed: helpers.py" in out
    _write(project.root / "helpers.py", "X = 'a'\n")
    settled(project.root, "status")
    _write(project.root / "maybe_later.py", "")  # an import that now resolves
    out, was_quick = gfml(project.root, "status")
    assert not was_quick
    assert "code changed: maybe_later.py: <missing> -> added" in out


def test_removing_objects_from_the_cache_drops_every_answer(pipe: Repo) -> None:
    from gitflowml.project import Project
    from gitflowml.storage.state import open_state

    settled(pipe.root, "status")
    quick_dir = pipe.root / ".gitflowml" / "tmp" / "quick"
    assert list(quick_dir.iterdir())
    state = open_state(Project.find(pipe.root))
    try:
        state.forget_complete()  # what gc does after deleting objects
    finally:
        state.close()
    assert not quick_dir.exists()
    assert not gfml(pipe.root, "status")[1]


def test_record_and_answer_in_process(project: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same round trip as the subprocess tests, in this process (so coverage sees it):
    arm, note a file, a tree and a git call, settle, then answer; then a change."""
    project.gen({"a.txt": "1\n", "d": {"x": "2\n"}})
    time.sleep(quick.RACY_NS / 1e9 + 0.02)  # ctimes out of the racy window
    args = ["status"]
    quick.arm(args)
    try:
        quick.note(project.root / "a.txt")
        quick.note(project.root / "absent.txt")
        quick.note_tree(project.root / "d")
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=project.root, capture_output=True, check=True
        ).stdout
        quick.note_git(["git", "ls-files", "-z"], project.root, {}, out)
        sys.stdout.write("remembered\n")
    finally:
        quick.settle(0)
    assert quick.answer(args) == "remembered\n"
    assert quick.answer(["repro"]) is None  # another question
    (project.root / "d" / "x").write_text("3\n")
    assert quick.answer(args) is None
    quick.arm(args)
    quick.spoil()
    quick.settle(0)
    quick.arm(args)
    sys.stderr.write("a warning\n")
    quick.settle(0)  # anything on stderr: not saved either
    assert quick.answer(args) is None
