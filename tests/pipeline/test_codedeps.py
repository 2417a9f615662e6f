"""Code dependencies of Python and shell stages: found by static import analysis, hashed by
syntax tree, recorded in pipeline.lock, part of the run-cache key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitflowml.pipeline import codedeps, lockfile
from gitflowml.pipeline.codedeps import CodeAnalyzer, entry_points
from gitflowml.pipeline.model import Stage
from gitflowml.project import Project
from gitflowml.storage.state import open_state
from gitflowml.storage.workspace import Scanner
from tests.conftest import Repo, Run


def closure(repo: Repo, **stage: Any) -> list[str]:
    project = Project.find(repo.root)
    state = open_state(project)
    try:
        analyser = CodeAnalyzer(project.root, Scanner(state, 2), state)
        return [e.path for e in analyser.code_of(Stage(name="s", line=1, **stage))]
    finally:
        state.close()


def test_each_import_form(project: Repo) -> None:
    project.gen(
        {
            "main.py": (
                "import os, json\n"
                "import a.b\n"
                "from c import d\n"
                "from e import attr\n"
                "import not_installed_anywhere\n"
                "from pkg import *\n"
                "def later():\n"
                "    import late\n"
            ),
            "a": {"__init__.py": "", "b.py": "", "unused.py": ""},
            "c": {"__init__.py": "", "d.py": "", "other.py": ""},
            "e.py": "attr = 1\n",
            "late.py": "",
            "pkg": {"__init__.py": "from . import inner\nfrom .deep.x import y\n", "inner.py": ""},
            "pkg/deep": {"__init__.py": "", "x.py": "from ..inner import z\ny = 1\n"},
            "unrelated.py": "",
        }
    )
    assert closure(project, python="main.py:run") == [
        "a/__init__.py",
        "a/b.py",
        "c/__init__.py",
        "c/d.py",
        "e.py",
        "late.py",
        "main.py",
        "pkg/__init__.py",
        "pkg/deep/__init__.py",
        "pkg/deep/x.py",
        "pkg/inner.py",
    ]


def test_src_layout_and_dotted_entry_point(project: Repo) -> None:
    project.gen(
        {
            "src": {
                "mypkg": {
                    "__init__.py": "",
                    "train.py": "from mypkg.models import Net\n",
                    "models.py": "import torch\nclass Net: ...\n",
                }
            }
        }
    )
    assert closure(project, python="mypkg.train:main") == [
        "src/mypkg/__init__.py",
        "src/mypkg/models.py",
        "src/mypkg/train.py",
    ]


def test_an_import_cycle_is_followed_once(project: Repo) -> None:
    project.gen({"x.py": "import y\n", "y.py": "import z\n", "z.py": "import x\n"})
    assert closure(project, python="x.py:f") == ["x.py", "y.py", "z.py"]


def test_a_module_shadowing_the_standard_library_is_code(project: Repo) -> None:
    # next to the script, random.py wins over the standard library's, as in Python;
    # built-in modules such as sys can not be shadowed
    project.gen({"tools": {"run.py": "import random, sys\n", "random.py": "", "sys.py": ""}})
    assert closure(project, python="tools/run.py:f") == ["tools/random.py", "tools/run.py"]


def test_a_package_re_exporting_from_a_submodule(project: Repo) -> None:
    project.gen(
        {
            "run.py": "from lib import helper\n",
            "lib": {"__init__.py": "from .impl import helper\n", "impl.py": "def helper(): ...\n"},
        }
    )
    assert closure(project, python="run.py:f") == ["lib/__init__.py", "lib/impl.py", "run.py"]


@pytest.mark.parametrize(
    ("cmd", "expected"),
    [
        ("python train.py --lr 1", [(False, "train.py")]),
        ("python3 -u -W ignore src/x.py a b", [(False, "src/x.py")]),
        ("python3.11 -m pkg.mod arg", [(True, "pkg.mod")]),
        ("mkdir -p out && /usr/bin/python a.py > out/x", [(False, "a.py")]),
        ("OMP_NUM_THREADS=1 python a.py; python b.py", [(False, "a.py"), (False, "b.py")]),
        ("python -c 'import x'", []),
        ("echo python a.py", []),
        ("time nice python a.py", [(False, "a.py")]),
        ("cp python.py x", []),
        ("python 'unbalanced", []),
    ],
)
def test_python_invocations_in_shell_commands(cmd: str, expected: list[tuple[bool, str]]) -> None:
    assert codedeps._python_invocations(cmd) == expected


def test_shell_stage_entry_points_and_opting_out(project: Repo) -> None:
    stage = Stage(name="s", line=1, cmd=("python scripts/a.py && python -m tool",), wdir="sub")
    points = entry_points(stage, project.root)
    assert [(p.target, p.is_module, p.search) for p in points] == [
        ("sub/scripts/a.py", False, ("sub/scripts", ".")),
        ("tool", True, ("sub", ".")),
    ]
    off = Stage(name="s", line=1, cmd=("python a.py",), track_code=False)
    assert entry_points(off, project.root) == []
    outside = Stage(name="s", line=1, cmd=("python ../elsewhere.py",))
    assert entry_points(outside, project.root) == []


HELPER = "def double(x):\n    return 2 * x\n"
TRAIN = (
    "import json\nfrom lib.helpers import double\n\n"
    "def main(lr):\n    json.dump({'score': double(lr)}, open('m.json', 'w'))\n"
)


@pytest.fixture
def pystage(project: Repo, run: Run) -> Repo:
    project.gen(
        {
            "lib": {"__init__.py": "", "helpers.py": HELPER},
            "train.py": TRAIN,
            "pipeline.yaml": (
                "stages:\n  train:\n    python: train.py:main\n    args: {lr: 2}\n"
                "    outs: [m.json]\n"
                "  shell:\n    cmd: python score.py > s.txt\n    outs: [s.txt]\n"
            ),
            "score.py": "from lib.helpers import double\nprint(double(1))\n",
        }
    )
    run("repro")
    return project


def test_the_lock_records_the_code(pystage: Repo) -> None:
    lock = lockfile.load(pystage.root / "pipeline.lock")
    assert [e.path for e in lock.stages["train"].code] == [
        "lib/__init__.py",
        "lib/helpers.py",
        "train.py",
    ]
    assert [e.path for e in lock.stages["shell"].code] == [
        "lib/__init__.py",
        "lib/helpers.py",
        "score.py",
    ]
    text = (pystage.root / "pipeline.lock").read_text()
    assert "    code:\n    - {path: lib/__init__.py, hash: " in text


def test_comments_and_formatting_do_not_count_logic_does(pystage: Repo, run: Run) -> None:
    pystage.gen(
        {"lib": {"helpers.py": "# helpers\n\ndef double( x ):\n\n    return 2*x  # twice\n"}}
    )
    assert run("status").stdout == "Pipeline is up to date.\n"
    pystage.gen({"lib": {"helpers.py": "def double(x):\n    return 3 * x\n"}})
    text = run("status").stdout
    assert "\ttrain:\n\t\tcode changed: lib/helpers.py\n" in text
    assert "\tshell:\n\t\tcode changed: lib/helpers.py\n" in text
    doc = json.loads(run("status", "--json").stdout)
    assert doc["train"] == [{"reason": "code", "path": "lib/helpers.py"}]
    run("repro")
    assert json.loads((pystage.root / "m.json").read_text()) == {"score": 6}
    assert (pystage.root / "s.txt").read_text() == "3\n"


def test_new_and_dropped_imports_are_reasons(pystage: Repo, run: Run) -> None:
    pystage.gen({"extra.py": "", "train.py": "import extra\n" + TRAIN.replace("lib.", "x.")})
    text = run("status").stdout
    assert "code changed: extra.py: <missing> -> added" in text
    assert "code changed: lib/helpers.py: listed -> removed" in text


def test_code_hash_bytes_and_files_that_do_not_parse(pystage: Repo, run: Run) -> None:
    pystage.gen(
        {
            "pipeline.yaml": (pystage.root / "pipeline.yaml")
            .read_text()
            .replace("    args: {lr: 2}\n", "    args: {lr: 2}\n    code_hash: bytes\n")
        }
    )
    run("repro")  # byte hashes differ from tree hashes: one rerun
    pystage.gen({"lib": {"helpers.py": HELPER + "# a comment\n"}})
    text = run("status").stdout
    assert "\ttrain:\n\t\tcode changed: lib/helpers.py\n" in text
    assert "shell" not in text  # the shell stage still hashes syntax trees
    run("repro")
    pystage.gen({"lib": {"helpers.py": HELPER + "def broken(:\n"}})  # byte-hashed fallback
    assert "shell:\n\t\tcode changed: lib/helpers.py" in run("status").stdout


def test_the_run_cache_key_includes_the_code(pystage: Repo, run: Run) -> None:
    pystage.gen({"lib": {"helpers.py": "def double(x):\n    return 5 * x\n"}})
    assert "Running stage 'train'" in run("repro").stdout  # not restored from the old run
    assert json.loads((pystage.root / "m.json").read_text()) == {"score": 10}
    pystage.gen({"lib": {"helpers.py": HELPER}})
    assert "Restored stage 'train' from the run-cache" in run("repro").stdout
    assert json.loads((pystage.root / "m.json").read_text()) == {"score": 4}


def test_the_analysis_is_cached_by_content(
    pystage: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(source: bytes) -> None:
        raise AssertionError("an unchanged file was parsed again")

    monkeypatch.setattr(codedeps, "_analyse", no_parsing)
    assert run("status").stdout == "Pipeline is up to date.\n"
    pystage.gen({"copy.py": TRAIN})  # same bytes under another name: still no parse
    found = closure(pystage, python="copy.py:main")
    assert found == ["copy.py", "lib/__init__.py", "lib/helpers.py"]


def test_a_dotted_python_stage_in_a_wdir_with_templated_args(project: Repo, run: Run) -> None:
    project.gen(
        {
            "params.yaml": "train: {lr: 0.5}\n",
            "pkg": {
                "__init__.py": "",
                "job.py": "import os\ndef main(lr, tag):\n"
                "    open('out.txt', 'w').write(f'{lr} {tag} {os.getcwd()}')\n",
            },
            "work": {"keep": ""},
            "pipeline.yaml": "stages:\n  job:\n    python: pkg.job:main\n    wdir: work\n"
            "    args:\n      lr: ${train.lr}\n      tag: v${train.lr}\n    outs: [out.txt]\n",
        }
    )
    run("repro")
    assert (project.root / "work" / "out.txt").read_text() == f"0.5 v0.5 {project.root / 'work'}"
    lock = lockfile.load(project.root / "pipeline.lock")
    assert [e.path for e in lock.stages["job"].code] == ["pkg/__init__.py", "pkg/job.py"]


def test_a_failing_function_shows_its_traceback_and_exit_status(
    project: Repo, run: Run, capfd: pytest.CaptureFixture[str]
) -> None:
    project.gen(
        {
            "pkg": {"__init__.py": "", "job.py": "import sys\ndef main():\n    sys.exit(3)\n"},
            "pipeline.yaml": "stages:\n  job:\n    python: pkg.job:main\n    outs: [x]\n",
        }
    )
    assert "exited with code 3" in run("repro", code=1).stderr
    project.gen({"pkg": {"job.py": "def main():\n    raise KeyError('nope')\n"}})
    result = run("repro", code=1)
    assert "exited with code 1" in result.stderr
    err = capfd.readouterr().err  # the stage's own output goes straight to the terminal
    assert "Traceback (most recent call last):" in err
    assert "KeyError: 'nope'" in err
