from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitflowml.executors import pyrunner


@pytest.fixture
def code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(
        "def run(out, n):\n    with open(out, 'w') as f:\n        f.write(str(n * 2))\n"
    )
    (tmp_path / "script.py").write_text(
        "from pkg.mod import run\n\ndef main(out):\n    run(out, 21)\n\n"
        "def broken():\n    raise RuntimeError('boom')\n"
    )
    monkeypatch.setenv("GITFLOWML_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    return tmp_path


def test_file_and_module_targets(code: Path) -> None:
    assert pyrunner.main(["script.py:main", json.dumps({"out": "a.txt"})]) == 0
    assert (code / "a.txt").read_text() == "42"
    assert pyrunner.main(["pkg.mod:run", json.dumps({"out": "b.txt", "n": 2})]) == 0
    assert (code / "b.txt").read_text() == "4"


def test_missing_function_and_exceptions(code: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pyrunner.main(["script.py:nope", "{}"]) == 1
    assert "has no function nope" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="boom"):  # the traceback reaches the stage output
        pyrunner.main(["script.py:broken", "{}"])
