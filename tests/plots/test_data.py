"""Plot data files into records, and what is wrong with a bad one."""

from __future__ import annotations

import pytest

from gitflowml.plots import data


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("a.json", '[{"x": 1, "y": 2}, {"x": 2, "y": 3}]', [{"x": 1, "y": 2}, {"x": 2, "y": 3}]),
        ("a.json", '{"meta": 1, "train": [{"loss": 0.5}]}', [{"loss": 0.5}]),
        ("a.json", '{"a": {"b": [{"v": 1}]}}', [{"v": 1}]),
        ("a.yaml", "- {x: 1}\n- {x: 2}\n", [{"x": 1}, {"x": 2}]),
        ("a.yml", "points:\n  - {x: 1}\n", [{"x": 1}]),
        ("a.csv", "x,y\n1,2.5\n2,abc\n", [{"x": 1, "y": 2.5}, {"x": 2, "y": "abc"}]),
        ("a.tsv", "x\ty\n1\t2\n", [{"x": 1, "y": 2}]),
        ("a.csv", "", []),
        ("a.csv", "x,y\n", []),
    ],
)
def test_records(path: str, text: str, expected: list[dict[str, object]]) -> None:
    assert data.records(path, text.encode()).rows == expected


@pytest.mark.parametrize(
    ("path", "text", "says"),
    [
        ("a.json", "[{", "is malformed JSON"),
        ("a.yaml", "a: [", "is malformed YAML"),
        ("a.json", '{"a": 1}', "holds no list of records"),
        ("a.json", "[1, 2]", "items are not records"),
        ("a.csv", "x,y\n1,2,3\n", "line 2 has 3 fields, the header 2"),
        ("a.csv", "x,x\n1,2\n", "empty or repeated column name"),
    ],
)
def test_bad_data_says_why(path: str, text: str, says: str) -> None:
    with pytest.raises(data.DataError) as info:
        data.records(path, text.encode())
    assert says in str(info.value)


def test_rev_and_step_are_added_in_the_same_pass() -> None:
    table = data.records("a.csv", b"x,y\n1,2\n3,4\n", rev="HEAD", step="step")
    assert table.rows == [
        {"x": 1, "y": 2, "rev": "HEAD", "step": 0},
        {"x": 3, "y": 4, "rev": "HEAD", "step": 1},
    ]
    assert table.fields == ["x", "y"]
    table = data.records("a.json", b'[{"a": 1}, {"b": 2}]', rev="w", step="i")
    assert table.rows == [{"a": 1, "rev": "w", "i": 0}, {"b": 2, "rev": "w", "i": 1}]
    assert table.fields == ["a", "b"]
    assert data.records("a.csv", b"x,y\n", rev="w").rows == []


def test_not_utf8() -> None:
    with pytest.raises(data.DataError, match="UTF-8"):
        data.records("a.csv", b"\xff\xfe")


def test_kinds_and_fields() -> None:
    assert data.is_image("p/a.PNG")
    assert data.is_image("a.svg")
    assert not data.is_image("a.csv")
    assert data.is_data("a.tsv")
    assert not data.is_data("a.txt")
    assert data.fields([{"a": 1}, {"b": 2, "a": 3}]) == ["a", "b"]
