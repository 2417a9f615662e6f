"""Runs one stage's commands on this machine, each in its own process group.

Commands run with `sh -c` in the stage's working directory, with the stage's `env` on top
of ours. A timeout or Ctrl-C ends the whole process group (the shell and everything it
started): SIGTERM, then SIGKILL after a grace period. A failing stage is retried up to
`retries` more times. Output goes straight to our own stdout/stderr, or, when several
stages run at once, line by line to `on_output` so that it can be prefixed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    return [sys.executable, "-m", "gitflowml.pyrunner", spec, args_json]


class LocalExecutor:
    """Runs stages; `kill_all` ends every process group still running (for Ctrl-C, which
    only the main thread sees while workers wait on their commands)."""

    def __init__(self, on_output: OutputSink | None = None) -> None:
        self.on_output = on_output
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def run_stage(
        self,
        name: str,
        commands: Sequence[Sequence[str] | str],
        cwd: Path,
        env: dict[str, str],
        timeout: float | None,
        retries: int,
    ) -> RunOutcome:
        started = time.monotonic()
        attempts = 0
        code, timed_out = 0, False
        while attempts <= retries:
            attempts += 1
            for command in commands:
                code, timed_out = self._run_one(name, command, cwd, env, timeout)
                if code != 0:
                    break
            if code == 0:
                break
        return RunOutcome(code, attempts, time.monotonic() - started, timed_out)

    def kill_all(self) -> None:
        with self._lock:
            running = list(self._running)
        for proc in running:
            _kill_group(proc)

    def _run_one(
        self,
        name: str,
        command: Sequence[str] | str,
        cwd: Path,
        env: dict[str, str],
        timeout: float | None,
    ) -> tuple[int, bool]:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        piped = self.on_output is not None
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


def _pump(stream: object, name: str, sink: OutputSink) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sink(name, raw.decode(errors="replace").rstrip("\n"))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
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
