"""The long-lived shell: which commands run in it in place, and that no command, in place
or in a subshell, leaves anything behind for the next one."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflowml.executors import shell as shell_mod
from gitflowml.executors.shell import Shell, leaves_no_state

IN_PLACE = [
    "python3 stage.py data/root.txt out/c00.txt c00",
    "cp out/a.txt out/b.txt && echo b >> out/b.txt",
    "python train.py --lr=0.1 --out=model.pkl 2>&1 | tee log.txt",
    "2>err.txt make all",
    "cd sub && make || echo failed > status",
    'echo "$(date) ${HOME}" > stamp',
    "echo `date` > stamp",
    "echo 'a; export X=1' > quoted",
    "echo x > a=b",
]
IN_SUBSHELL = [
    "X=1",
    "X=1 make",
    "2>err X=1 make",
    "export X=1",
    "make; unset HOME",
    "set -e; make",
    "cd - && make",
    "echo $OLDPWD",
    "echo ${X:=1}",
    "echo ${X=1}",
    "echo $((X=1))",
    "echo $(date)",  # unquoted substitution: parentheses are not followed
    "(cd sub && make)",
    "{ make; }",
    "f() { :; }; f",
    "for f in a b; do echo $f; done",
    "while false; do :; done",
    "make &",
    "read line",
    "trap 'echo bye' EXIT",
    "exit 3",
    ". ./env.sh",
    "exec > log",
    "umask 077 && make",
    "alias ll=ls",
    "echo a#b; export X=1",  # `#` inside a word is not a comment: never in place
    "make\nexport X=1",
    "cat <<EOF\nx\nEOF",
    "echo 'unterminated",
    "make ;; echo",
]


@pytest.mark.parametrize("command", IN_PLACE)
def test_commands_that_cannot_change_the_shell_run_in_place(command: str) -> None:
    assert leaves_no_state(command)


@pytest.mark.parametrize("command", IN_SUBSHELL)
def test_commands_that_might_change_the_shell_get_a_subshell(command: str) -> None:
    assert not leaves_no_state(command)


def _shlex_words(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


@given(st.text(alphabet="ab2 \t\n;&|<>()-./=:,+%@~*?[]{}!#", max_size=40))
def test_plain_commands_are_split_as_shlex_splits_them(command: str) -> None:
    """The regular-expression shortcut for commands without quotes or expansions gives
    exactly shlex's words and operators."""
    assert shell_mod._PLAIN.match(command)
    assert shell_mod._words(command) == _shlex_words(command)


@pytest.mark.parametrize("command", [c for c in IN_PLACE + IN_SUBSHELL if "'" not in c])
def test_the_listed_commands_split_alike_both_ways(command: str) -> None:
    if shell_mod._PLAIN.match(command):
        assert shell_mod._words(command) == _shlex_words(command)


def _run(shell: Shell, command: str, cwd: Path, env: dict[str, str]) -> int:
    started = shell.start(command, cwd, env)
    assert started is not None
    return started.wait(10)


def _probe(shell: Shell, tmp_path: Path, env: dict[str, str], name: str) -> str:
    """The shell's variables, traps, options and umask, as a subshell inherits them."""
    out = tmp_path / name
    command = f"set > {out}; trap >> {out}; echo $- >> {out}; umask >> {out}"
    assert not leaves_no_state(command)
    assert _run(shell, command, tmp_path, env) == 0
    return "\n".join(
        line
        for line in out.read_text().splitlines()
        if not line.startswith(("PWD=", "OLDPWD=", "_="))  # where the last command was
    )


def test_commands_run_in_place_or_not_leave_the_shell_as_it_was(tmp_path: Path) -> None:
    """A command judged harmless really runs in the shell's own process (a builtin there
    sees the shell's pid), does what `sh -c` does, and leaves no variable, trap, option or
    umask behind; nor does any command run in a subshell."""
    env = {**os.environ, "GONE": "x"}
    work, expected = tmp_path / "work", tmp_path / "expected"
    (work / "sub").mkdir(parents=True)
    shell = Shell(env)
    try:
        before = _probe(shell, work, env, "before")
        where = f"cd /proc/self && pwd -P > {work}/pid && echo $$ > {work}/shell"
        assert leaves_no_state(where)
        assert _run(shell, where, work, env) == 0
        pid = (work / "pid").read_text().strip().rsplit("/", 1)[1]
        assert pid == (work / "shell").read_text().strip() == str(shell.pid)
        for command in ("cd sub && pwd > here", 'echo "$(X=1; echo $X)" > out', "false || true"):
            assert leaves_no_state(command)
            assert _run(shell, command, work, env) == 0
            (expected / "sub").mkdir(parents=True)
            subprocess.run(["/bin/sh", "-c", command], cwd=expected, env=env, check=True)
            for theirs in (p for p in expected.rglob("*") if p.is_file()):
                mine = work / theirs.relative_to(expected)
                got = mine.read_text().replace(str(work), "")
                assert got == theirs.read_text().replace(str(expected), "")
            shutil.rmtree(expected)
        assert _run(shell, "false", work, env) == 1
        for command in [*IN_SUBSHELL[:12], "trap 'echo bye' EXIT", "umask 077", "alias ll=ls"]:
            _run(shell, command.replace("make", "true"), work / "sub", env)
        assert _probe(shell, work, env, "after") == before
        assert _run(shell, "pwd > last", work, env) == 0
        assert (work / "last").read_text().strip() == str(work)
    finally:
        shell.close()


def test_a_command_that_ends_the_shell_in_place_reports_as_sh_c(tmp_path: Path) -> None:
    """A syntax error that the lexer let through ends the shell itself: the command fails
    with the status `sh -c` gives it, and the shell is known dead (the executor starts a
    new one for the next command)."""
    env = dict(os.environ)
    command = "true &&"
    assert leaves_no_state(command)
    expected = subprocess.run(["/bin/sh", "-c", command], capture_output=True).returncode
    shell = Shell(env)
    try:
        assert _run(shell, command, tmp_path, env) == expected == 2
        assert shell.dead
    finally:
        shell.close()
