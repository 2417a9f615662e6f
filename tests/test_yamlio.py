from __future__ import annotations

import pytest

from gitflowml import yamlio


def test_located_documents_know_their_key_lines() -> None:
    text = "stages:\n  prepare:\n    cmd: x\n\n  train:\n    cmd: y\n    deps: [a]\n"
    doc = yamlio.loads_located(text)
    stages = doc.data["stages"]
    assert doc.line(doc.data, "stages") == 1
    assert doc.line(stages, "prepare") == 2
    assert doc.line(stages, "train") == 5
    assert doc.line(stages["train"], "deps") == 7
    assert doc.line(stages, "missing") is None
    assert doc.line({}, "x") is None


def test_located_errors_carry_the_line() -> None:
    with pytest.raises(yamlio.YamlError) as info:
        yamlio.loads_located("a: 1\nb: [2,\n")
    assert info.value.line == 3


def test_flow_leaves_dump_one_entry_per_line() -> None:
    text = yamlio.dumps({"deps": [{"path": "a", "hash": "b"}], "cmd": "x"}, flow_leaves=True)
    assert text == "deps:\n- {path: a, hash: b}\ncmd: x\n"
