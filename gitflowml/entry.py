"""Process entry point (console script and `python -m gitflowml`).

`gitflowml --version` is answered before click and the rest are imported, so that scripts
probing for the tool pay only for the interpreter's start-up.
"""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # as mypy reads it; importing `typing` costs `--version` 5 ms
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        from gitflowml import __version__

        sys.stdout.write(f"gitflowml {__version__}\n")
        return 0
    from gitflowml import quick

    armed = quick.eligible(args)
    if armed:
        saved = quick.answer(args)  # a no-op status/repro answered from stat calls alone
        if saved is not None:
            sys.stdout.write(saved)
            return 0
        quick.arm(args)
    try:
        from gitflowml.cli.main import main as cli_main

        code = cli_main(args)
    except KeyboardInterrupt:  # Ctrl-C outside a command body (start-up, final output)
        quick.settle(130)
        sys.stderr.write("error: interrupted\n")
        return 130
    if armed:
        quick.settle(code)
    import signal  # not before: `--version` need not build its enums

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: let the interpreter wind down
    return code


def run() -> int:
    """The console script and `python -m gitflowml`: `main`, then leave without the
    interpreter's teardown (freeing every object and module: 20 ms and more after a large
    `repro`). Everything a command writes is on disk when `main` returns (written through
    descriptors, closed, or renamed into place); exit handlers (coverage's, for one) still
    run and stdout and stderr are flushed. While a thread other than a daemon still runs,
    the usual exit waits for it instead."""
    code = main()
    threading = sys.modules.get("threading")
    if threading is not None and any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        return code
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the usual exit report it
        return code
    os._exit(code)
