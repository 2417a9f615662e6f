"""The local executor: stages' commands in their own process groups, run in a long-lived
shell, started with posix_spawn, or with subprocess.Popen; all three must behave alike."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gitflowml.executors import local, shell
from gitflowml.executors.local import LocalExecutor
from tests.test_cli_repro import _dead

SIGPIPE_BIT = 1 << 12  # signal 13 in /proc/<pid>/status's SigIgn mask


@pytest.fixture(params=["shell", "spawned", "popen"])
def where(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(executor, cwd, kind, started): the long-lived shell (in another directory than
    ours), or without it posix_spawn (cwd is our own directory) or Popen (another one);
    `started` lists what posix_spawn started for commands, and the shells started."""
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(here)
    spawned: list[list[str]] = []
    start = local._Spawned.start.__func__  # type: ignore[attr-defined]

    def spy(cls: type, argv: list[str], env: dict[str, str]) -> object:
        spawned.append(argv)
        return start(cls, argv, env)

    monkeypatch.setattr(local._Spawned, "start", classmethod(spy))
    shell_init = shell.Shell.__init__

    def shell_spy(self: shell.Shell, env: dict[str, str]) -> None:
        spawned.append(["shell"])
        shell_init(self, env)

    monkeypatch.setattr(shell.Shell, "__init__", shell_spy)
    cwd = here if request.param == "spawned" else elsewhere
    executor = LocalExecutor(shell=request.param == "shell")
    yield executor, cwd, request.param, spawned
    executor.close()


def _run(
    executor: LocalExecutor,
    cwd: Path,
    *commands: str,
    timeout: float | None = None,
    retries: int = 0,
) -> local.RunOutcome:
    return executor.start_stage(
        "s", list(commands), cwd, dict(os.environ), timeout, retries
    ).result()


def _check_path(kind: str, spawned: list[list[str]]) -> None:
    shells = [a for a in spawned if a == ["shell"]]
    if kind == "shell":
        assert shells, "no command ran in the long-lived shell"
        assert len(shells) == len(spawned)
    else:
        assert not shells
        assert bool(spawned) == (kind == "spawned")


def test_commands_run_in_their_directory_with_default_sigpipe(where) -> None:
    executor, cwd, kind, spawned = where
    outcome = _run(executor, cwd, "pwd > where.txt && grep SigIgn /proc/self/status > sig.txt")
    assert outcome.exit_code == 0
    assert Path((cwd / "where.txt").read_text().strip()).samefile(cwd)
    ignored = int((cwd / "sig.txt").read_text().split()[1], 16)
    assert not ignored & SIGPIPE_BIT, "the command inherited our ignored SIGPIPE"
    _check_path(kind, spawned)


def test_exit_codes_commands_in_order_and_retries(where) -> None:
    executor, cwd, kind, spawned = where
    assert _run(executor, cwd, "exit 3").exit_code == 3
    assert _run(executor, cwd, "kill -TERM $$").exit_code == -15
    # the second command does not run after the first fails
    outcome = _run(executor, cwd, "echo a >> log; false", "echo b >> log", retries=2)
    assert (outcome.exit_code, outcome.attempts) == (1, 3)
    assert (cwd / "log").read_text() == "a\na\na\n"
    # fails once, then succeeds: both commands of the second attempt run
    flaky = "test -e tried || { touch tried; exit 1; }"
    outcome = _run(executor, cwd, flaky, "echo done > done.txt", retries=1)
    assert (outcome.exit_code, outcome.attempts) == (0, 2)
    assert (cwd / "done.txt").read_text() == "done\n"
    _check_path(kind, spawned)


def test_a_timeout_ends_the_whole_process_group(where) -> None:
    executor, cwd, kind, spawned = where
    outcome = _run(executor, cwd, "sleep 30 & echo $! > child.pid; wait", timeout=0.5)
    assert outcome.timed_out
    assert outcome.exit_code < 0
    assert _dead(int((cwd / "child.pid").read_text()))
    _check_path(kind, spawned)


def test_start_stage_returns_while_the_command_runs(where) -> None:
    executor, cwd, kind, spawned = where
    gate = cwd / "gate"
    run = executor.start_stage(
        "s",
        [f"while [ ! -e {gate} ]; do sleep 0.01; done; echo ok > out"],
        cwd,
        dict(os.environ),
        20.0,
        0,
    )
    assert not (cwd / "out").exists()  # still waiting for the gate: start did not wait
    gate.touch()
    assert run.result().exit_code == 0
    assert run.exception() is None
    assert (cwd / "out").read_text() == "ok\n"
    _check_path(kind, spawned)


def test_kill_all_ends_a_started_stage(where) -> None:
    executor, cwd, kind, spawned = where
    run = executor.start_stage(
        "s", ["sleep 30 & echo $! > child.pid; wait"], cwd, dict(os.environ), None, 0
    )
    deadline = time.monotonic() + 20
    while not ((cwd / "child.pid").exists() and (cwd / "child.pid").read_text().strip()):
        assert time.monotonic() < deadline, "the stage never started"
        time.sleep(0.02)
    executor.kill_all()
    assert run.result().exit_code == -15
    assert _dead(int((cwd / "child.pid").read_text()))
    _check_path(kind, spawned)


def test_the_long_lived_shell_runs_commands_as_sh_c_would(tmp_path: Path) -> None:
    """One shell serves every command: each gets its own directory, its own environment
    (added, changed and removed variables), our stdin, its exit status, and no state
    (directory, variables, options) left by the one before; a command that ends the shell
    fails alone, and the next one gets a new shell."""
    executor = LocalExecutor()
    a, b = tmp_path / "a dir", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    base = {**os.environ, "KEEP": "1", "GONE": "x"}
    started: list[int] = []
    try:

        def run(cwd: Path, command: str, env: dict[str, str] = base) -> int:
            stage = executor.start_stage("s", [command], cwd, env, 10.0, 0)
            code = stage.result().exit_code
            assert executor._shell is not None
            started.append(executor._shell.pid)
            return code

        assert run(a, "pwd > where; cd /; X=leak; set -e; export LEAK=1") == 0
        assert run(b, 'pwd > where; echo "${X-}${LEAK-}" > state; false; echo after') == 0
        assert Path((a / "where").read_text().strip()).samefile(a)
        assert (b / "state").read_text() == "\n"  # nothing of the last command is left
        odd = {k: v for k, v in base.items() if k != "GONE"} | {"NEW": "it's $HOME\n"}
        assert run(b, 'echo "$KEEP ${GONE-unset} $NEW" > env', odd) == 0
        assert (b / "env").read_text() == "1 unset it's $HOME\n\n"
        assert run(b, "exit 7") == 7
        assert run(b, "read line || echo eof > stdin") == 0  # our stdin, not the shell's
        assert (b / "stdin").read_text() == "eof\n"
        assert len(set(started)) == 1
        assert run(b, "kill -KILL $$") == -9  # $$ is the shell: only this command fails
        assert run(b, "echo again > again") == 0
        assert (b / "again").read_text() == "again\n"
        assert len(set(started)) == 2
    finally:
        executor.close()
    assert all(_dead(pid) for pid in set(started))
