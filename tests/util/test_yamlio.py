from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflowml.util import yamlio


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


# -- the direct writer of flow-leaves YAML gives PyYAML's text, byte for byte ----------------
_TEXT = st.text(
    alphabet=st.sampled_from([*"aZ09_./-+=~ $()&*!|>'\"%@`#,?[]{}:;<\\^é\t\n", "\x85"]),
    max_size=12,
)
_WORDS = st.sampled_from(
    ["true", "no", "null", "~", "1.5", "1e3", "0o17", "0x1f", "017", "12:30", "2024-01-01",
     "...", "---", "=", "<<", ".inf", "a b", "a  b", "a ", " a", "-a", "- a", "python x.py"]
)  # fmt: skip
_SCALARS = st.one_of(
    _TEXT, _WORDS, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False)
)
_HASH = st.text(alphabet="0123456789abcdef", min_size=1, max_size=32)
_ENTRY = st.fixed_dictionaries(
    {"path": st.one_of(_TEXT, _WORDS), "hash": _HASH},
    optional={"size": st.integers(min_value=0), "nfiles": st.integers(min_value=0)},
)
_STAGE = st.fixed_dictionaries(
    {},
    optional={
        "cmd": st.one_of(_TEXT, st.lists(_TEXT, min_size=2, max_size=3)),
        "python": _TEXT,
        "args": st.dictionaries(_TEXT, st.one_of(_SCALARS, st.lists(_SCALARS, max_size=2))),
        "deps": st.lists(_ENTRY, min_size=1, max_size=3),
        "params": st.dictionaries(_TEXT, st.dictionaries(_TEXT, _SCALARS), max_size=2),
        "outs": st.lists(_ENTRY, min_size=1, max_size=2),
    },
)
_LOCK = st.fixed_dictionaries(
    {"schema": st.just(1), "stages": st.dictionaries(st.one_of(_TEXT, _WORDS), _STAGE)}
)
_ANY = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.one_of(_TEXT, _WORDS), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(_LOCK)
def test_locks_are_written_as_pyyaml_writes_them(lock: dict[str, Any]) -> None:
    assert yamlio.dumps(lock, flow_leaves=True) == yamlio._dump(lock, True)


@given(st.dictionaries(st.one_of(_TEXT, _WORDS), _ANY, max_size=4))
def test_any_mapping_is_written_as_pyyaml_writes_it(data: dict[str, Any]) -> None:
    assert yamlio.dumps(data, flow_leaves=True) == yamlio._dump(data, True)


def test_a_lock_of_plain_entries_is_written_without_pyyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The common lock (plain paths, hashes, sizes, shell commands) never reaches PyYAML's
    representer; an entry that needs quoting does, alone."""
    stage: dict[str, Any] = {
        "cmd": "cp out/a.txt out/b.txt && echo b >> out/b.txt",
        "deps": [{"path": "out/a.txt", "hash": "0123456789abcdef0123456789abcdef", "size": 3}],
        "outs": [{"path": "out/b.txt", "hash": "1234567890abcdef1234567890abcdef", "size": 5}],
    }
    quoted = {**copy.deepcopy(stage), "cmd": "echo 'x: y'"}
    lock: dict[str, Any] = {
        "schema": 1,
        "stages": {"a": stage, "b": quoted, "c": copy.deepcopy(stage)},
    }
    expected = yamlio._dump(lock, True)
    dumped: list[Any] = []
    real = yamlio._dump

    def spy(data: Any, flow: bool) -> str:
        dumped.append(data)
        return real(data, flow)

    monkeypatch.setattr(yamlio, "_dump", spy)
    assert yamlio.dumps(lock, flow_leaves=True) == expected
    assert dumped == [{"stages": {"b": quoted}}]


def test_a_collection_met_twice_is_left_to_pyyaml() -> None:
    """PyYAML writes an object met twice as an anchor and an alias; so does the result."""
    shared = [{"path": "a", "hash": "b"}]
    data = {"stages": {"x": {"deps": shared}, "y": {"deps": shared, "cmd": "echo 'q: r'"}}}
    text = yamlio.dumps(data, flow_leaves=True)
    assert text == yamlio._dump(data, True)
    assert "&id001" in text
