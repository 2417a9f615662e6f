"""One long-lived `/bin/sh` that runs shell commands one at a time, instead of a new shell
per command.

The shell reads commands on a pipe; each command gets our stdin (fd 3 in the shell), and the
shell writes its exit status to a pipe of ours (fd 4). A command runs in one of two ways:

- **in place**, `{ cd DIR && eval CMD; }`, when `leaves_no_state` says it cannot change the
  shell (no assignments, no `export`, `set`, `trap`, loops…) and it needs no env changes.
  Then nothing is forked but what the command itself starts, as in a plain script.
- **in a subshell**, `( cd DIR && export … && eval CMD )`, otherwise: one fork of a small
  process, and whatever the command does to its shell goes with the subshell.

Either way a command sees what `sh -c CMD` would, but for `$$`, which names the long-lived
shell. The shell has a session of its own, so its process group is the command's: a timeout
or Ctrl-C ends it, and the next command gets a new shell.
"""

from __future__ import annotations

import fcntl
import math
import os
import re
import select
import shlex
import signal
import subprocess
import threading
from pathlib import Path

from gitflowml.util import fsutil

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# text that is never run in place: lines and comments (the lexer below does not follow the
# shell there), here-documents, `${x=…}`/`${x:=…}` and arithmetic (they assign), and the
# one variable that `cd` leaves behind
_NOT_IN_PLACE = re.compile(r"[\n#]|<<|\$\{[^}]*=|\$\(\(|OLDPWD")
_PLAIN = re.compile(r"[^'\"\\$`]*\Z")  # nothing quoted, escaped or expanded
_PLAIN_WORDS = re.compile(r"[();<>|&]+|[^\s();<>|&]+")
_SEPARATORS = frozenset({";", "&&", "||", "|"})
_REDIRECTS = frozenset({">", ">>", "<", ">&", "<&", ">|", "<>"})
_PUNCTUATION = frozenset("();<>|&")
# words that change the shell running them (or may: `eval`, `.`, `command`), end it, or
# make compound commands (a `for` loop leaves its variable set); refused wherever they
# appear, even as a plain argument, which only costs that command the subshell
_STATEFUL = frozenset(
    {
        *(".", "source", "eval", "exec", "exit", "return", "break", "continue"),
        *("set", "export", "unset", "readonly", "local", "read", "shift", "getopts"),
        *("trap", "umask", "ulimit", "alias", "unalias", "hash", "command", "builtin"),
        *("wait", "jobs", "fg", "bg"),
        *("if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done"),
        *("case", "esac", "in", "{", "}", "!", "function", "select", "[[", "]]", "time"),
    }
)


def leaves_no_state(command: str) -> bool:
    """Whether `command` can run in the long-lived shell itself, not in a subshell: it is
    simple commands joined by `;`, `&&`, `||` and `|`, with redirections, and none of them
    assigns a variable or changes the shell (`cd` aside: every command starts with its own).
    Anything this lexer cannot be sure of (unbalanced quotes, grouping, background jobs,
    command substitution outside double quotes) is answered False."""
    if _NOT_IN_PLACE.search(command):
        return False
    words = _words(command)
    if words is None:
        return False
    at_command, after_redirect, previous = True, False, ""
    for i, word in enumerate(words):
        if after_redirect:  # the redirection's target
            after_redirect = False
        elif word in _SEPARATORS:
            at_command = True
        elif word in _REDIRECTS:
            after_redirect = True
        elif _PUNCTUATION.issuperset(word) or word in _STATEFUL:
            return False  # `(`, `)`, `&`, `;;`, …, or a word that changes the shell
        elif previous == "cd" and word == "-":
            return False  # `cd -` reads OLDPWD
        elif at_command and word.isdigit() and i + 1 < len(words) and words[i + 1] in _REDIRECTS:
            pass  # `2>err cmd`: a descriptor number, not the command
        elif at_command:
            if _ASSIGNMENT.match(word):
                return False
            at_command = False
        previous = word
    return True


def _words(command: str) -> list[str] | None:
    """The shell's words and operators, as `shlex` splits them (None: unbalanced quotes).
    A command without quotes, escapes or expansions is split by a regular expression,
    which gives the same words at a tenth of the cost."""
    if _PLAIN.match(command):
        return _PLAIN_WORDS.findall(command)
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # no closing quotation
        return None


class Shell:
    """A long-lived `/bin/sh -s` in a session of its own that runs one command at a time."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.busy = False
        self.dead = False
        fds = [_high(fd) for fd in os.pipe() + os.pipe()]
        script_r, self._script, self._status, status_w = fds
        stdin = 0
        try:
            os.fstat(0)
        except OSError:  # no stdin at all: the commands get /dev/null
            stdin = os.open(os.devnull, os.O_RDONLY)
        try:
            self.pid = os.posix_spawn(
                "/bin/sh",
                ["/bin/sh", "-s"],
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, stdin, 3),
                    (os.POSIX_SPAWN_DUP2, script_r, 0),
                    (os.POSIX_SPAWN_DUP2, status_w, 4),
                ],
                setsid=True,
                setsigmask=(),
                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),  # as Popen's restore_signals
            )
        except BaseException:
            for fd in (self._script, self._status):
                os.close(fd)
            raise
        finally:
            for fd in (script_r, status_w) + ((stdin,) if stdin else ()):
                os.close(fd)
        self._pending = b""
        self._exit: int | None = None

    def start(self, command: str, cwd: Path, env: dict[str, str]) -> InShell | None:
        """Start `command` in `cwd` with exactly `env`; None when it cannot run here (an env
        name is not a shell name, or the shell has just died)."""
        chdir = f"cd {shlex.quote(str(cwd))}"
        run = f"eval {shlex.quote(command)}"
        if env == self.env and leaves_no_state(command):
            # `hash -r`: programs are looked up afresh, as a new shell would
            script = f"hash -r; {{ {chdir} && {run}; }} <&3 3<&- 4>&-; echo $? >&4\n"
        else:
            steps = [chdir]
            for key in self.env.keys() - env.keys():
                if not _NAME.match(key):
                    return None
                steps.append(f"unset {key}")
            for key, value in env.items():
                if self.env.get(key) != value:
                    if not _NAME.match(key):
                        return None
                    steps.append(f"export {key}={shlex.quote(value)}")
            steps.append(run)
            script = f"( {' && '.join(steps)} ) <&3 3<&- 4>&-; echo $? >&4\n"
        try:
            fsutil.write_all(self._script, script.encode())
        except BrokenPipeError:  # it has just died: the caller starts the command elsewhere
            self.dead = True
            return None
        self.busy = True
        return InShell(self, ["/bin/sh", "-c", command])

    def status(self, timeout: float | None) -> int:
        """The running command's exit status; when the shell died instead (it was killed
        with its process group), the shell's own, as `Popen.wait` gives it."""
        while b"\n" not in self._pending:
            if timeout is not None:
                poller = select.poll()
                poller.register(self._status, select.POLLIN)
                if not poller.poll(max(0, math.ceil(timeout * 1000))):
                    raise subprocess.TimeoutExpired(["/bin/sh"], timeout)
            chunk = os.read(self._status, 64)
            if not chunk:
                return self._reap()
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        self.busy = False
        return int(line)

    def _reap(self) -> int:
        """Wait for the shell to end (it has, or is about to) and let go of its pipes."""
        self.dead, self.busy = True, False
        if self._script >= 0:
            os.close(self._script)  # the shell reads the end of its input and exits
            self._script = -1
        if self._exit is None:
            _, status = os.waitpid(self.pid, 0)
            self._exit = os.waitstatus_to_exitcode(status)
            os.close(self._status)
        return self._exit

    def close(self) -> None:
        self._reap()


class InShell:
    """A command running in the long-lived shell, with the part of `Popen`'s interface
    used by the executor (`pid` is the shell's, whose process group the command is in)."""

    stdout = None

    def __init__(self, shell: Shell, args: list[str]) -> None:
        self.shell, self.args, self.pid = shell, args, shell.pid
        self.returncode: int | None = None
        self._reap = threading.Lock()

    def wait(self, timeout: float | None = None) -> int:
        with self._reap:
            if self.returncode is None:
                self.returncode = self.shell.status(timeout)
        return self.returncode


def _high(fd: int) -> int:
    """`fd` moved above the descriptors the shell is given (0, 3 and 4), close-on-exec."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved
