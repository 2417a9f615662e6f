"""`-S` overrides: Hydra's basic grammar, sweeps, and their effect on params documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflowml.errors import ExperimentError
from gitflowml.exps import overrides


@pytest.mark.parametrize(
    ("text", "file", "key", "op", "values"),
    [
        ("train.lr=0.1", "params.yaml", "train.lr", "set", (0.1,)),
        ("lr=0.1,0.01", "params.yaml", "lr", "set", (0.1, 0.01)),
        ("+train.new=abc", "params.yaml", "train.new", "add", ("abc",)),
        ("++train.lr=3", "params.yaml", "train.lr", "force", (3,)),
        ("~train.lr", "params.yaml", "train.lr", "remove", (None,)),
        ("conf/other.yaml:model.depth=5", "conf/other.yaml", "model.depth", "set", (5,)),
        ("depth=range(3,6)", "params.yaml", "depth", "set", (3, 4, 5)),
        ("depth=range(0, 1, 0.25)", "params.yaml", "depth", "set", (0, 0.25, 0.5, 0.75)),
        ("depth=range(3)", "params.yaml", "depth", "set", (0, 1, 2)),
        ("depth=range(5,2,-1)", "params.yaml", "depth", "set", (5, 4, 3)),
        ("opt=choice(adam, sgd)", "params.yaml", "opt", "set", ("adam", "sgd")),
        ("layers=[1,2,3]", "params.yaml", "layers", "set", ([1, 2, 3],)),
        ("layers=[1,2],[3]", "params.yaml", "layers", "set", ([1, 2], [3])),
        ("name='a,b'", "params.yaml", "name", "set", ("a,b",)),
        ("flag=true", "params.yaml", "flag", "set", (True,)),
        ("empty=", "params.yaml", "empty", "set", ("",)),
        ("n=null", "params.yaml", "n", "set", (None,)),
        ("layers.0=7", "params.yaml", "layers.0", "set", (7,)),
    ],
)
def test_parse(text: str, file: str, key: str, op: str, values: tuple[Any, ...]) -> None:
    parsed = overrides.parse(text)
    assert (parsed.file, parsed.key, parsed.op, parsed.values) == (file, key, op, values)
    assert parsed.sweep == (len(values) > 1)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("train.lr", "has no '='"),
        ("=3", "is not a params key"),
        ("bad key=3", "is not a params key"),
        (":lr=3", "the file before ':' is empty"),
        ("lr=[1,2", "unbalanced"),
        ("lr='a", "unbalanced"),
        ("lr=range(a,b)", "range() takes numbers"),
        ("lr=range(1,2,0)", "step must not be 0"),
        ("lr=range(5,1)", "range() is empty"),
        ("lr=choice()", "at least one value"),
        ("lr={a: [}", "unbalanced"),
        ("lr=@x", "is not a valid value"),
    ],
)
def test_malformed_overrides_name_themselves(text: str, says: str) -> None:
    with pytest.raises(ExperimentError, match=r"override|range|choice") as info:
        overrides.parse(text)
    assert says in str(info.value)
    assert text in str(info.value)


def test_sweeps_are_a_cartesian_product_in_order() -> None:
    parsed = [overrides.parse("a=1,2"), overrides.parse("b=range(3,6)"), overrides.parse("c=x")]
    combos = overrides.expand(parsed)
    assert len(combos) == 6
    assert [(o[0].value, o[1].value, o[2].value) for o in combos] == [
        (1, 3, "x"), (1, 4, "x"), (1, 5, "x"), (2, 3, "x"), (2, 4, "x"), (2, 5, "x"),
    ]  # fmt: skip


def _apply(doc: dict[str, Any], *texts: str) -> dict[str, Any]:
    combo = overrides.expand([overrides.parse(t) for t in texts])[0]
    return overrides.apply(doc, combo, "params.yaml")


def test_apply_each_op() -> None:
    doc = {"train": {"lr": 0.1, "layers": [1, 2]}, "seed": 1}
    assert _apply(doc, "train.lr=0.5")["train"]["lr"] == 0.5
    assert _apply(doc, "+train.momentum=0.9")["train"]["momentum"] == 0.9
    assert _apply(doc, "+new.deep.key=1")["new"] == {"deep": {"key": 1}}
    assert _apply(doc, "++seed=2")["seed"] == 2
    assert _apply(doc, "++fresh=2")["fresh"] == 2
    assert "seed" not in _apply(doc, "~seed")
    assert "seed" not in _apply(doc, "~seed=1")
    assert _apply(doc, "train.layers.1=5")["train"]["layers"] == [1, 5]
    assert doc == {"train": {"lr": 0.1, "layers": [1, 2]}, "seed": 1}  # left as it was


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("train.lrr=1", "'train.lrr' is not in params.yaml; use '+train.lrr=1'"),
        ("nope.lr=1", "'nope.lr' is not in params.yaml"),
        ("+train.lr=1", "'train.lr' is in params.yaml already; use 'train.lr=1'"),
        ("~missing", "removes nothing"),
        ("~seed=2", "is not 2"),
        ("seed.x=1", "is not a mapping"),
        ("train.layers.5=1", "'train.layers.5' is not in params.yaml"),
        ("++train.layers.5=1", "no item 5"),
    ],
)
def test_apply_refuses_what_hydra_refuses(text: str, says: str) -> None:
    doc = {"train": {"lr": 0.1, "layers": [1, 2]}, "seed": 1}
    with pytest.raises(ExperimentError) as info:
        _apply(doc, text)
    assert says in str(info.value)


def test_rendered_and_written_for_yaml_and_json_but_not_toml(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("train:\n  lr: 0.1\n")
    (tmp_path / "p.json").write_text('{"a": {"b": 1}}')
    (tmp_path / "p.toml").write_text("a = 1\n")
    combo = overrides.expand([overrides.parse("train.lr=0.2"), overrides.parse("p.json:a.b=2")])
    texts = overrides.rendered(tmp_path, combo[0])
    assert sorted(texts) == ["p.json", "params.yaml"]
    assert (tmp_path / "params.yaml").read_text() == "train:\n  lr: 0.1\n"  # not yet written
    overrides.write(tmp_path, texts)
    assert (tmp_path / "params.yaml").read_text() == "train:\n  lr: 0.2\n"
    assert '"b": 2' in (tmp_path / "p.json").read_text()
    combo = overrides.expand([overrides.parse("p.toml:a=2")])
    with pytest.raises(ExperimentError, match="TOML, which gitflowml can read but not write"):
        overrides.rendered(tmp_path, combo[0])
    combo = overrides.expand([overrides.parse("+new.yaml:x=1")])
    assert overrides.rendered(tmp_path, combo[0]) == {"new.yaml": "x: 1\n"}


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=6))
def test_a_comma_list_of_numbers_sweeps_exactly_those(values: list[int]) -> None:
    parsed = overrides.parse("k=" + ",".join(str(v) for v in values))
    assert list(parsed.values) == values
