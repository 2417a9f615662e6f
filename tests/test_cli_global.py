from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from gitflowml import __version__, entry
from gitflowml.cli.main import COMMANDS, main
from tests.conftest import Repo, Run


def test_version(run: Run) -> None:
    assert run("--version").stdout == f"gitflowml {__version__}\n"


def test_unknown_command_and_flag_are_usage_errors(run: Run) -> None:
    assert "No such command" in run("frobnicate", code=2).stderr
    assert "No such option" in run("status", "--frobnicate", code=2).stderr


def test_dash_c_runs_in_another_directory(
    project: Repo, run: Run, tmp_path: Path, monkeypatch
) -> None:
    project.gen({"data.csv": "a,b\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run("-C", str(project.root), "add", "data.csv")
    assert (project.root / "data.csv.gfml").exists()
    assert "-C" in run("-C", str(tmp_path / "missing"), "status", code=2).stderr


def test_quiet_prints_nothing_on_success(project: Repo, run: Run) -> None:
    project.gen({"data.csv": "a,b\n"})
    assert run("-q", "add", "data.csv").stdout == ""
    assert run("-q", "status").stdout == ""


def test_repro_takes_quiet_and_verbose_after_the_command_too(project: Repo, run: Run) -> None:
    project.gen({"pipeline.yaml": "stages:\n  s:\n    cmd: echo hi > o.txt\n    outs: [o.txt]\n"})
    assert run("repro", "-q").stdout == ""  # as `gitflowml -q repro`, DVC's habit
    assert (project.root / "o.txt").read_text() == "hi\n"
    assert "up to date" in run("repro").stdout
    project.gen({"pipeline.yaml": "stages:\n  s:\n    cmd: exit 3\n"})
    plain = run("repro", code=1)
    assert "Traceback" not in plain.stderr
    loud = run("repro", "--verbose", code=1)
    assert "Traceback" in loud.stderr
    assert loud.stderr.rstrip().endswith(plain.stderr.strip().splitlines()[-1])


def test_verbose_adds_the_traceback_only_on_request(project: Repo) -> None:
    def gitflowml(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gitflowml", *args],
            capture_output=True,
            text=True,
            cwd=project.root,
        )

    quiet = gitflowml("add", "nope")
    assert quiet.returncode == 1
    assert quiet.stderr == "error: nope does not exist; check the path\n"
    loud = gitflowml("-v", "add", "nope")
    assert loud.returncode == 1
    assert "Traceback" in loud.stderr
    assert loud.stderr.rstrip().endswith("error: nope does not exist; check the path")


def test_os_errors_become_one_line(project: Repo, run: Run) -> None:
    project.gen({"data": {"f": "x"}})
    (project.root / "data" / "dangling").symlink_to(project.root / "nowhere")
    result = run("add", "data", code=1)
    assert result.stderr.startswith("error: No such file or directory: ")
    assert "dangling" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (project.root / "data.gfml").exists()


def test_main_returns_exit_codes(project: Repo, capsys) -> None:
    assert entry.main(["--version"]) == 0
    assert capsys.readouterr().out == f"gitflowml {__version__}\n"
    assert entry.main(["-q", "status"]) == 0
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # entry.main ignored it
    assert main(["status"]) == 0
    assert main(["add", "nope"]) == 1
    assert main(["--frobnicate"]) == 2
    capsys.readouterr()


_RUN = """\
import atexit, sys, threading, time
from pathlib import Path
marks = Path(sys.argv[1])
atexit.register(lambda: marks.write_text(marks.read_text() + "exit handler\\n"))
class Torn:
    def __del__(self) -> None:  # runs only when the interpreter tears its objects down
        marks.write_text(marks.read_text() + "teardown\\n")
torn = Torn()
if sys.argv[2] == "thread":
    def late() -> None:  # still running when the command ends, even on a loaded machine
        time.sleep(2)
        marks.write_text(marks.read_text() + "thread\\n")
    threading.Thread(target=late).start()
sys.argv = ["gitflowml", *sys.argv[3:]]
from gitflowml.entry import run
raise SystemExit(run())
"""


def test_the_process_exit_keeps_output_codes_and_exit_handlers(project: Repo) -> None:
    """The console script leaves without the interpreter's teardown (no object is freed):
    what it printed, its exit code and registered exit handlers are kept, and while a
    thread still runs the usual exit waits for it."""
    marks = project.root / "marks.txt"

    def leave(how: str, *args: str) -> subprocess.CompletedProcess[str]:
        marks.write_text("")
        return subprocess.run(
            [sys.executable, "-c", _RUN, str(marks), how, *args],
            cwd=project.root,
            capture_output=True,
            text=True,
        )

    done = leave("plain", "--version")
    assert (done.returncode, done.stdout) == (0, f"gitflowml {__version__}\n")
    assert marks.read_text() == "exit handler\n"
    failed = leave("plain", "add", "nope")
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: ")
    assert failed.stderr.count("\n") == 1
    assert leave("plain", "--frobnicate").returncode == 2
    waited = leave("thread", "status")
    assert (waited.returncode, waited.stdout) == (0, "No pipeline; data is up to date.\n")
    assert marks.read_text() == "thread\nexit handler\nteardown\n"  # the usual exit


def test_python_dash_m_and_the_console_script_use_run() -> None:
    root = Path(__file__).resolve().parents[1]
    assert 'gitflowml = "gitflowml.entry:run"' in (root / "pyproject.toml").read_text()
    assert "raise SystemExit(run())" in (root / "gitflowml" / "__main__.py").read_text()


def test_help_lists_every_command_but_the_hidden_one(run: Run) -> None:
    listed = run("--help").stdout.split("Commands:", 1)[1]
    names = {line.split()[0] for line in listed.splitlines() if line.strip()}
    assert names == set(COMMANDS) - {"merge-driver"}


@pytest.mark.parametrize(
    "args",
    [
        [name]
        for name in sorted(COMMANDS)
        if name not in ("remote", "metrics", "params")  # groups: their subcommands below
    ]
    + [["remote", sub] for sub in ("add", "list", "remove", "modify")]
    + [["metrics", "show"], ["metrics", "diff"], ["params", "diff"]],
)
def test_every_command_loads_and_answers_help(run: Run, args: list[str]) -> None:
    """Each command's module is imported on demand (cli.main.COMMANDS): a wrong module or
    attribute there, or a command that is not a click command, fails here."""
    assert "Usage: " in run(*args, "--help").stdout


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys; from gitflowml.cli.main import main; main(['add', '--help']); "
        "print(sorted(m for m in sys.modules if m.startswith('gitflowml.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = out.strip().splitlines()[-1]
    assert "gitflowml.cli.data" in loaded
    assert "gitflowml.cli.remote" not in loaded
    assert "gitflowml.cli.pipeline" not in loaded


def test_every_command_s_help_shows_an_example(run: Run) -> None:
    """SPEC section 16: each command's --help (subcommands too) shows how it is used."""
    from gitflowml.cli.main import cli

    def walk(path: list[str], command: click.Command) -> list[list[str]]:
        found = [path]
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                sub = command.get_command(click.Context(command), name)
                if sub is not None and not sub.hidden:
                    found += walk([*path, name], sub)
        return found

    paths: list[list[str]] = []
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        paths += walk([name], command)
    assert len(paths) > 40
    lacking = [" ".join(p) for p in paths if "Example" not in run(*p, "--help").stdout]
    assert lacking == []


def test_a_reader_that_stops_early_ends_the_command_quietly(project: Repo) -> None:
    """`gitflowml … | head`: no `error: Broken pipe`, no Python complaint; exit 1 without
    a message, as cat and git stop when their reader goes away."""
    project.gen({f"f{i:04d}.txt": "x" for i in range(1500)}, commit="many files")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitflowml", "ls", str(project.root), "-R"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    assert proc.stdout.readline().startswith(b".gitflowml/")
    proc.stdout.close()  # more than a pipe's buffer is still to come
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert err == b""
