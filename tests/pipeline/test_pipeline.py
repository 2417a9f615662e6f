from __future__ import annotations

import time
from pathlib import Path

import pytest

from gitflowml import quick
from gitflowml.errors import PipelineError
from gitflowml.pipeline import loader
from gitflowml.pipeline.loader import Out, ParamRef, Resources
from gitflowml.pipeline.plotdefs import PlotDef, Source

# DVC's example-get-started dvc.yaml, unchanged but for the file name.
DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps:
    - data/data.xml
    - src/prepare.py
    params:
    - prepare.seed
    - prepare.split
    outs:
    - data/prepared
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps:
    - data/prepared
    - src/featurization.py
    params:
    - featurize.max_features
    - featurize.ngrams
    outs:
    - data/features
  train:
    cmd: python src/train.py data/features model.pkl
    deps:
    - data/features
    - src/train.py
    params:
    - train.min_split
    - train.n_est
    - train.seed
    outs:
    - model.pkl
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
    - data/features
    - model.pkl
    - src/evaluate.py
    outs:
    - eval/importance.png
    - eval/live/plots:
        cache: false
    - eval/prc:
        cache: false
    metrics:
    - eval/live/metrics.json:
        cache: false
metrics:
- eval/live/metrics.json
plots:
- ROC:
    template: simple
    x: fpr
    y:
      eval/plots/sklearn/roc/train.json: tpr
- eval/importance.png
"""


def _load(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> loader.Pipeline:
    for name, content in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    path = tmp_path / "loader.yaml"
    path.write_text(text)
    return loader.load(path, tmp_path)


def test_a_dvc_yaml_loads_unchanged(tmp_path: Path) -> None:
    p = _load(tmp_path, DVC_YAML)
    assert list(p.stages) == ["prepare", "featurize", "train", "evaluate"]
    prepare = p.stages["prepare"]
    assert prepare.cmd == ("python src/prepare.py data/data.xml",)
    assert prepare.params == (ParamRef("params.yaml", ("prepare.seed", "prepare.split")),)
    assert prepare.line == 2
    evaluate = p.stages["evaluate"]
    assert evaluate.outs == (
        Out("eval/importance.png"),
        Out("eval/live/plots", cache=False),
        Out("eval/prc", cache=False),
        Out("eval/live/metrics.json", kind="metric", cache=False),
    )


def test_every_stage_field(tmp_path: Path) -> None:
    text = """\
stages:
  train:
    python: src/train.py:main
    args: {lr: 0.1, layers: [8, 4]}
    wdir: sub
    deps: [../data/x.csv, s3://bucket/raw.csv, /abs/file]
    params: [train.lr, {other.yaml: [split]}, {all.json: }]
    outs: [model.pkl, {cache.bin: {persist: true, push: false}}]
    metrics: [m.json]
    plots: [{roc.csv: {x: fpr, y: tpr}}]
    env: {OMP_NUM_THREADS: 1, DEBUG: true}
    retries: 2
    timeout: 3600
    resources: {cpus: 2, memory: 4GiB, gpus: 1}
    frozen: true
    always_changed: true
    code_hash: bytes
    code: false
"""
    stage = _load(tmp_path, text).stages["train"]
    assert stage.python == "src/train.py:main"
    assert stage.kwargs == {"lr": 0.1, "layers": [8, 4]}
    assert stage.wdir == "sub"
    assert stage.deps == ("data/x.csv", "s3://bucket/raw.csv", "/abs/file")
    assert stage.params == (
        ParamRef("sub/all.json", None),
        ParamRef("sub/other.yaml", ("split",)),
        ParamRef("sub/params.yaml", ("train.lr",)),
    )
    assert stage.outs == (
        Out("sub/model.pkl"),
        Out("sub/cache.bin", persist=True, push=False),
        Out("sub/m.json", kind="metric", cache=False),
        Out(
            "sub/roc.csv",
            kind="plot",
            cache=False,
            plot=PlotDef("sub/roc.csv", (Source("sub/roc.csv", "fpr", ("tpr",)),)),
        ),
    )
    assert stage.env == (("OMP_NUM_THREADS", "1"), ("DEBUG", "true"))
    assert (stage.retries, stage.timeout) == (2, 3600.0)
    assert stage.resources == Resources(cpus=2.0, memory=4 * 1024**3, gpus=1)
    assert stage.frozen
    assert stage.always_changed
    assert (stage.code_hash, stage.track_code) == ("bytes", False)


def test_templating_from_params_and_vars(tmp_path: Path) -> None:
    text = """\
vars:
  - config.json:data
  - {n_folds: 5}
stages:
  train:
    cmd: python train.py --lr ${train.lr} --folds ${n_folds} ${data.dir}
    outs: ["${data.dir}/model-${train.lr}.pkl"]
  evaluate:
    foreach: [train, test]
    do:
      cmd: python eval.py ${item}
      deps: ["${data.dir}"]
      outs: ["eval/${item}.json"]
  sweep:
    matrix: {lr: [0.1, 0.01], depth: [3, 5]}
    cmd: python sweep.py ${item.lr} ${item.depth}
    outs: ["sweep/${item.lr}-${item.depth}.json"]
"""
    files = {"params.yaml": "train:\n  lr: 0.5\n", "config.json": '{"data": {"dir": "d"}, "x": 1}'}
    p = _load(tmp_path, text, files)
    assert p.stages["train"].cmd == ("python train.py --lr 0.5 --folds 5 d",)
    assert p.stages["train"].outs == (Out("d/model-0.5.pkl"),)
    # values used from params files are tracked like listed params
    assert p.stages["train"].params == (
        ParamRef("config.json", ("data.dir",)),
        ParamRef("params.yaml", ("train.lr",)),
    )
    assert p.groups == {
        "evaluate": ("evaluate@train", "evaluate@test"),
        "sweep": ("sweep@0.1-3", "sweep@0.1-5", "sweep@0.01-3", "sweep@0.01-5"),
    }
    assert p.stages["evaluate@test"].outs == (Out("eval/test.json"),)
    assert p.stages["evaluate@test"].group == "evaluate"
    assert p.stages["sweep@0.01-5"].cmd == ("python sweep.py 0.01 5",)


BAD = [
    ("stages:\n  a: [unclosed\n", "loader.yaml:3: malformed YAML"),
    ("- a list\n", "expected a mapping"),
    ("stagez: {}\n", "loader.yaml:1: unknown top-level key 'stagez'"),
    (
        "stages:\n  a:\n    cmdd: x\n",
        "loader.yaml:3: stage 'a': unknown key 'cmdd' (did you mean 'cmd'?)",
    ),
    (
        "stages:\n  a:\n    cmd: x\n    python: f.py:main\n",
        "loader.yaml:2: stage 'a': give exactly one",
    ),
    ("stages:\n  a:\n    deps: [x]\n", "stage 'a': give exactly one of 'cmd'"),
    ("stages:\n  a:\n    python: notafunc\n", "'python' must be FILE.py:FUNC"),
    (
        "stages:\n  a:\n    cmd: echo ${nope}\n",
        "loader.yaml:2: stage 'a': undefined variable 'nope'",
    ),
    (
        "stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n",
        "loader.yaml:5: stage 'b': output 'o' is also an output of stage 'a' (line 2)",
    ),
    (
        "stages:\n  a:\n    cmd: x\n    outs: [data]\n  b:\n    cmd: y\n    outs: [data/x]\n",
        "stage 'b': output 'data/x' overlaps 'data' of stage 'a'",
    ),
    (
        "stages:\n  a:\n    cmd: x\n    outs: [../escape]\n",
        "out '../escape' is outside the repository",
    ),
    ("stages:\n  a:\n    cmd: x\n    wdir: /abs\n", "wdir '/abs' is outside the repository"),
    ("stages:\n  a:\n    cmd: x\n    retries: -1\n", "'retries' must be a whole number"),
    ("stages:\n  a:\n    cmd: x\n    timeout: 0\n", "'timeout' must be a number"),
    ("stages:\n  a:\n    cmd: x\n    resources: {memory: lots}\n", "'memory' must be a size"),
    ("stages:\n  a:\n    cmd: x\n    resources: {cpus: 0}\n", "'cpus' must be a number"),
    ("stages:\n  a:\n    cmd: x\n    resources: {disks: 1}\n", "takes cpus, memory and gpus"),
    ("stages:\n  a:\n    cmd: x\n    frozen: yes please\n", "'frozen' must be true or false"),
    ("stages:\n  a:\n    cmd: x\n    code_hash: md5\n", "'code_hash' must be"),
    (
        "stages:\n  a:\n    cmd: x\n    outs: [{o: {cache: maybe}}]\n",
        "'cache' must be true or false",
    ),
    ("stages:\n  a:\n    cmd: x\n    outs: [{o: {colour: red}}]\n", "unknown option 'colour'"),
    ("stages:\n  a:\n    cmd: x\n    args: {lr: 1}\n", "'args' goes with 'python'"),
    ("stages:\n  a:\n    cmd: x\n    env: [A]\n", "'env' must be a mapping"),
    ("stages:\n  a:\n    cmd: x\n    params: [5]\n", "each 'params' entry"),
    ("stages:\n  a:\n    cmd: x\n    deps: x\n", "'deps' must be a list"),
    ("stages:\n  a:\n    cmd: []\n", "'cmd' must be a command"),
    ("stages:\n  a/b:\n    cmd: x\n", "a stage name may hold"),
    ("stages:\n  a: echo\n", "a stage must be a mapping"),
    ("stages:\n  a:\n    foreach: [1]\n", "'foreach' needs a 'do'"),
    (
        "stages:\n  a:\n    foreach: [1]\n    do: {cmd: x}\n    deps: [y]\n",
        "'foreach' goes with 'do' only",
    ),
    ("stages:\n  a:\n    matrix: {x: []}\n    cmd: y\n", "matrix 'x' must be a non-empty list"),
    ("vars: 5\nstages: {}\n", "'vars' must be a list"),
    ("vars: [{a: 1}, {a: 2}]\nstages: {}\n", "'a' is defined twice"),
    ("vars: [missing.yaml]\nstages: {}\n", "params file missing.yaml does not exist"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_validation_errors_name_file_line_and_stage(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(PipelineError) as info:
        _load(tmp_path, text)
    assert message in str(info.value)


def test_a_missing_pipeline_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"loader.yaml does not exist"):
        loader.load(tmp_path / "loader.yaml", tmp_path)


def test_an_empty_pipeline(tmp_path: Path) -> None:
    assert _load(tmp_path, "").stages == {}
    assert _load(tmp_path, "stages:\n").stages == {}


def _aged(path: Path, text: str) -> None:
    """Write `text` and wait out the racy window (its ctime cannot be set back)."""
    path.write_text(text)
    time.sleep(2 * quick.RACY_NS / 1e9)


def test_the_parsed_yaml_is_kept_while_the_file_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second load of an unchanged loader.yaml parses no YAML and gives the same
    stages, with the same lines in its errors; a changed file is parsed again, and a file
    written within the racy window is not kept."""
    from gitflowml.util import yamlio

    parses: list[str] = []
    real = yamlio.loads_located

    def counting(text: str) -> yamlio.Located:
        parses.append(text)
        return real(text)

    monkeypatch.setattr(yamlio, "loads_located", counting)
    path, parsed = tmp_path / "loader.yaml", tmp_path / "tmp" / loader.PARSED
    text = (
        "stages:\n  a:\n    cmd: echo a > a\n    outs: [a]\n  b:\n    cmd: cp a b\n    deps: [a]\n"
    )
    _aged(path, text)
    first = loader.load(path, tmp_path, parsed)
    assert parsed.exists()
    second = loader.load(path, tmp_path, parsed)
    assert len(parses) == 1
    assert second.stages == first.stages
    assert [s.line for s in second.stages.values()] == [2, 5]
    _aged(path, text + "  c:\n    cmd: x\n    bogus: 1\n")
    with pytest.raises(PipelineError) as fresh:
        loader.load(path, tmp_path, parsed)
    with pytest.raises(PipelineError) as again:
        loader.load(path, tmp_path, parsed)
    assert len(parses) == 2
    assert str(again.value) == str(fresh.value)
    assert ":10" in str(again.value)  # the line of the unknown key, from the kept lines
    path.write_text(text)  # just now: racy, so parsed each time
    loader.load(path, tmp_path, parsed)
    loader.load(path, tmp_path, parsed)
    assert len(parses) == 4


def test_located_documents_survive_marshal() -> None:
    import marshal

    from gitflowml.util import yamlio

    doc = yamlio.loads_located("a:\n  b: [1, {c: 2}]\n  d:\n    e: 3\nf: 4\n")
    back = yamlio.Located.from_plain(*marshal.loads(marshal.dumps(doc.plain())))
    assert back.data == doc.data
    inner = back.data["a"]
    assert (back.line(back.data, "f"), back.line(inner, "d"), back.line(inner["d"], "e")) == (
        5,
        3,
        4,
    )
    assert back.line(inner["b"][1], "c") == 2
    with pytest.raises(ValueError, match="do not fit"):
        yamlio.Located.from_plain({"x": {}}, [{}])
