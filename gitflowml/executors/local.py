"""Runs one stage's commands on this machine, each in a process group of its own.

Commands are run by `/bin/sh` in the stage's working directory, with the stage's `env` on
top of ours. A timeout or Ctrl-C ends the whole process group (the shell and everything it
started): SIGTERM, then SIGKILL after a grace period. A failing stage is retried up to
`retries` more times. Output goes straight to our own stdout/stderr, or, when several
stages run at once, line by line to `on_output` so that it can be prefixed.

While output is not captured, shell commands go to one long-lived shell (`shell.Shell`),
which runs a command that cannot change it in place and any other in a subshell of its
own. That saves starting a new shell per command (about 0.6 ms a command, which is most of
what separates a pipeline of small stages from the same commands in one script). A command
sees what `sh -c CMD` would, but for `$$`, which names the long-lived shell.

`start_stage` starts a stage's first command at once and returns; the caller waits with
`StageRun.result()`, in its own thread (so `repro -j 1` does its bookkeeping for the last
stage while the next one already runs, with no thread in between). Where the platform
allows (Linux: pidfds) and the command runs in our own directory with its output not
captured, it is started with `posix_spawn`, which costs less than `subprocess.Popen`.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitflowml.executors.shell import InShell, Shell
from gitflowml.pipeline.model import Stage

GRACE_SECONDS = 3.0
OutputSink = Callable[[str, str], None]  # (stage name, line without newline)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    exit_code: int  # 0 on success; -N when killed by signal N
    attempts: int
    duration_s: float
    timed_out: bool = False


def python_command(spec: str, args_json: str) -> list[str]:
    """The command that runs a `python: FILE.py:FUNC` stage with keyword arguments."""
    return [sys.executable, "-m", "gitflowml.executors.pyrunner", spec, args_json]


def stage_commands(stage: Stage) -> list[list[str] | str]:
    """What a stage runs: its `cmd` lines, or its Python function."""
    if stage.python is not None:
        return [python_command(stage.python, json.dumps(stage.kwargs))]
    return list(stage.cmd or ())


def base_env(root: Path) -> dict[str, str]:
    """What every stage's command sees, before its own `env`: the repository root in
    GITFLOWML_ROOT and first on PYTHONPATH."""
    python_path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "GITFLOWML_ROOT": str(root),
        "PYTHONPATH": str(root) + (os.pathsep + python_path if python_path else ""),
    }


def slots_needed(stage: Stage) -> int:
    """The stage's share of `-j`: its `resources.cpus`, rounded up."""
    return max(1, math.ceil(stage.resources.cpus))


class LocalExecutor:
    """Runs stages; `kill_all` ends every process group still running (for Ctrl-C, which
    only the main thread sees while workers wait on their commands)."""

    def __init__(self, on_output: OutputSink | None = None, shell: bool = True) -> None:
        self.on_output = on_output
        self._running: set[Any] = set()  # Popen, _Spawned or InShell
        self._lock = threading.Lock()
        self._here: dict[Path, bool] = {}  # cwd -> whether it is our own directory
        self._use_shell = shell and on_output is None and _PIDFD
        self._shell: Shell | None = None

    def start_stage(
        self,
        name: str,
        commands: Sequence[Sequence[str] | str],
        cwd: Path,
        env: dict[str, str],
        timeout: float | None,
        retries: int,
    ) -> StageRun:
        """Start the stage's first command now; `result()` waits for the stage to end."""
        return StageRun(self, name, list(commands), cwd, env, timeout, retries)

    def kill_all(self) -> None:
        with self._lock:
            running = list(self._running)
        for proc in running:
            _kill_group(proc)

    def close(self) -> None:
        """End the long-lived shell, if one was started (it exits at the end of its input)."""
        if self._shell is not None:
            self._shell.close()
            self._shell = None

    def _in_shell(self, command: str, cwd: Path, env: dict[str, str]) -> InShell | None:
        """`command` started in the long-lived shell, or None where that cannot be (the
        shell is running another command, or an env name is not a shell name)."""
        shell = self._shell
        if shell is None or shell.dead:
            if shell is not None:
                shell.close()
            shell = self._shell = Shell(env)
        if shell.busy:
            return None
        return shell.start(command, cwd, env)

    def _spawn(
        self, name: str, command: Sequence[str] | str, cwd: Path, env: dict[str, str]
    ) -> tuple[Any, threading.Thread | None]:
        """Start one command in a new session (so its whole group can be ended)."""
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        piped = self.on_output is not None
        proc: Any = None
        if isinstance(command, str) and self._use_shell:
            proc = self._in_shell(command, cwd, env)
        if proc is None and not piped and _PIDFD and os.path.isabs(argv[0]) and self._is_here(cwd):
            proc = _Spawned.start(argv, env)
        if proc is None:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                start_new_session=True,
                stdout=subprocess.PIPE if piped else None,
                stderr=subprocess.STDOUT if piped else None,
            )
        with self._lock:
            self._running.add(proc)
        reader = None
        if piped:
            assert proc.stdout is not None
            assert self.on_output is not None
            reader = threading.Thread(
                target=_pump, args=(proc.stdout, name, self.on_output), daemon=True
            )
            reader.start()
        return proc, reader

    def _is_here(self, cwd: Path) -> bool:
        """Whether `cwd` is our working directory (posix_spawn cannot change it)."""
        here = self._here.get(cwd)
        if here is None:
            try:
                here = os.path.samefile(cwd, os.getcwd())
            except OSError:
                here = False
            self._here[cwd] = here
        return here

    def _wait(
        self, proc: Any, reader: threading.Thread | None, timeout: float | None
    ) -> tuple[int, bool]:
        try:
            code = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            code, timed_out = proc.wait(), True
        except BaseException:  # Ctrl-C, or our own failure: take the stage down with us
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            with self._lock:
                self._running.discard(proc)
            if reader is not None:
                reader.join(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        return code, timed_out


class StageRun:
    """One stage's commands, with retries; the first command starts when this is made."""

    def __init__(
        self,
        executor: LocalExecutor,
        name: str,
        commands: list[Sequence[str] | str],
        cwd: Path,
        env: dict[str, str],
        timeout: float | None,
        retries: int,
    ) -> None:
        self.executor, self.name, self.commands = executor, name, commands
        self.cwd, self.env, self.timeout, self.retries = cwd, env, timeout, retries
        self.started = time.monotonic()
        self._first = executor._spawn(name, commands[0], cwd, env) if commands else None
        self._outcome: RunOutcome | None = None
        self._error: BaseException | None = None

    def result(self) -> RunOutcome:
        """Wait for the stage to end (the remaining commands and retries run here)."""
        if self._outcome is None and self._error is None:
            try:
                self._outcome = self._run()
            except BaseException as exc:
                self._error = exc
                raise
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def exception(self) -> BaseException | None:
        try:
            self.result()
        except BaseException as exc:  # the caller asked for it, not to have it raised
            return exc
        return None

    def _run(self) -> RunOutcome:
        ex = self.executor
        attempts, code, timed_out = 1, 0, False
        while True:
            for i, command in enumerate(self.commands):
                if i == 0 and self._first is not None:
                    started, self._first = self._first, None
                else:
                    started = ex._spawn(self.name, command, self.cwd, self.env)
                code, timed_out = ex._wait(*started, self.timeout)
                if code != 0:
                    break
            if code == 0 or attempts > self.retries:
                break
            attempts += 1
        return RunOutcome(code, attempts, time.monotonic() - self.started, timed_out)


_PIDFD = hasattr(os, "pidfd_open") and hasattr(os, "posix_spawn")


class _Spawned:
    """A child started with `posix_spawn`, with the part of `Popen`'s interface used here.
    Waiting with a timeout polls a pidfd; reaping is serialised, as in `Popen`."""

    stdout = None

    def __init__(self, pid: int, pidfd: int, args: list[str]) -> None:
        self.pid, self.args = pid, args
        self._pidfd = pidfd
        self.returncode: int | None = None
        self._reap = threading.Lock()

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str]) -> _Spawned:
        global _PIDFD
        pid = os.posix_spawn(
            argv[0],
            argv,
            env,
            setsid=True,
            setsigmask=(),
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # as Popen's restore_signals
        )
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # kernel older than 5.3: wait for this one, then use Popen
            _PIDFD = False
            pidfd = -1
        return cls(pid, pidfd, argv)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        if timeout is not None and self._pidfd >= 0:
            poller = select.poll()
            poller.register(self._pidfd, select.POLLIN)
            if not poller.poll(max(0, math.ceil(timeout * 1000))):
                raise subprocess.TimeoutExpired(self.args, timeout)
        elif timeout is not None:  # no pidfd: poll, as Popen does
            deadline = time.monotonic() + timeout
            while self._poll() is None:
                if time.monotonic() >= deadline:
                    raise subprocess.TimeoutExpired(self.args, timeout)
                time.sleep(0.005)
        with self._reap:
            if self.returncode is None:
                _, status = os.waitpid(self.pid, 0)
                self._done(status)
        assert self.returncode is not None
        return self.returncode

    def _poll(self) -> int | None:
        with self._reap:
            if self.returncode is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self._done(status)
        return self.returncode

    def _done(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1


def _pump(stream: object, name: str, sink: OutputSink) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sink(name, raw.decode(errors="replace").rstrip("\n"))


def _kill_group(proc: Any) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
