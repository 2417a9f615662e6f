from __future__ import annotations

from pathlib import Path

import pytest

from gitflowml.errors import PipelineError
from gitflowml.pipeline import params

NESTED = {"train": {"lr": 0.1, "layers": [64, 32]}, "seed": 7}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("params.yaml", "train:\n  lr: 0.1\n  layers: [64, 32]\nseed: 7\n"),
        ("params.json", '{"train": {"lr": 0.1, "layers": [64, 32]}, "seed": 7}'),
        ("params.toml", "seed = 7\n[train]\nlr = 0.1\nlayers = [64, 32]\n"),
    ],
)
def test_each_format_loads_the_same_params(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    assert params.load(tmp_path / name) == NESTED


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("p.yaml", "a: [1,\n", "p.yaml:2: malformed YAML"),
        ("p.json", "{", "malformed JSON"),
        ("p.toml", "a = ", "malformed TOML"),
        ("p.yaml", "- 1\n", "expected a mapping"),
    ],
)
def test_malformed_params_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(PipelineError, match=message):
        params.load(tmp_path / name, name)


def test_missing_and_empty_params_files(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="does not exist"):
        params.load(tmp_path / "nope.yaml")
    (tmp_path / "empty.yaml").write_text("")
    assert params.load(tmp_path / "empty.yaml") == {}


def test_lookup_and_flatten() -> None:
    assert params.lookup(NESTED, "train.lr") == 0.1
    assert params.lookup(NESTED, "train.layers.1") == 32
    assert params.lookup(NESTED, "train") == NESTED["train"]
    for missing in ("train.momentum", "train.layers.9", "seed.x"):
        with pytest.raises(KeyError):
            params.lookup(NESTED, missing)
    assert params.flatten(NESTED) == {
        "train.lr": 0.1,
        "train.layers.0": 64,
        "train.layers.1": 32,
        "seed": 7,
    }
    assert params.flatten({"empty": {}, "none": []}) == {"empty": {}, "none": []}
