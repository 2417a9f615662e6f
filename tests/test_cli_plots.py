"""`gitflowml plots` end to end: definitions in pipeline.yaml, data at several revisions
and experiments, HTML, SVG, PNG and JSON written for real by vl-convert."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Repo, Run

PIPELINE = """\
stages:
  train:
    cmd: python3 train.py
    deps: [train.py]
    params: [train]
    plots:
      - roc.csv: {x: fpr, y: tpr, title: ROC, x_label: False positives}
      - confusion.csv: {x: actual, y: predicted, template: confusion}
plots:
  - loss.json: {x: epoch, y: [loss, acc]}
  - Curves: {x: step, y: {train.tsv: loss, test.tsv: [loss]}, template: simple}
  - images
"""
TRAIN = """\
import csv, json, yaml
lr = yaml.safe_load(open("params.yaml"))["train"]["lr"]
json.dump({"history": [{"epoch": i, "loss": lr / (i + 1), "acc": 1 - lr / (i + 2)}
                       for i in range(10)]}, open("loss.json", "w"))
with open("roc.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["fpr", "tpr"])
    for i in range(11):
        w.writerow([i / 10, min(1.0, (i / 10) ** lr)])
with open("confusion.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["actual", "predicted"])
    for i in range(30):
        w.writerow(["ab"[i % 2], "ab"[(i // 3) % 2]])
for name, scale, count in (("train.tsv", 2, 8), ("test.tsv", 3, 5)):
    rows = "".join(f"{i}\\t{lr * scale / (i + 1)}\\n" for i in range(count))
    open(name, "w").write("step\\tloss\\n" + rows)
"""
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
    "53de0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


@pytest.fixture
def plotted(project: Repo, run: Run) -> Repo:
    project.gen(
        {
            "pipeline.yaml": PIPELINE,
            "train.py": TRAIN,
            "params.yaml": "train:\n  lr: 0.5\n",
            "images": {"sample.png": PNG},
        }
    )
    run("repro")
    project.git("add", "-A")
    project.git("commit", "-qm", "plots")
    return project


def _json(run: Run, *args: str, code: int = 0) -> dict[str, Any]:
    doc = json.loads(run("plots", *args, "--json", code=code).stdout)
    assert isinstance(doc, dict)
    return doc


def test_show_json_is_dvcs_shape_with_filled_specs(plotted: Repo, run: Run) -> None:
    doc = _json(run, "show")
    assert doc["errors"] == []
    assert sorted(doc["data"]) == [
        "Curves",
        "confusion.csv",
        "images/sample.png",
        "loss.json",
        "roc.csv",
    ]
    (roc,) = doc["data"]["roc.csv"]
    assert roc["type"] == "vega"
    assert roc["revisions"] == ["workspace"]
    spec = roc["content"]
    assert spec["title"] == "ROC"
    layer = spec["layer"][0]["encoding"]  # linear, the default template
    assert layer["x"] == {"field": "fpr", "type": "quantitative", "title": "False positives"}
    assert layer["y"]["field"] == "tpr"
    assert spec["data"]["values"][0] == {
        "fpr": 0.0,
        "tpr": 0.0,
        "rev": "workspace",
    }
    loss = doc["data"]["loss.json"][0]["content"]
    assert loss["layer"][0]["encoding"]["y"]["field"] == "dvc_inferred_y_value"
    assert {v["rev"] for v in loss["data"]["values"]} == {"workspace::loss", "workspace::acc"}
    curves = doc["data"]["Curves"][0]["content"]
    assert {v["rev"] for v in curves["data"]["values"]} == {
        "workspace::train.tsv",
        "workspace::test.tsv",
    }
    assert len(curves["data"]["values"]) == 8 + 5  # series of different length
    (image,) = doc["data"]["images/sample.png"]
    assert image["type"] == "image"
    assert Path(image["url"]).read_bytes() == PNG


def test_diff_overlays_revisions_and_experiments_without_checkout(plotted: Repo, run: Run) -> None:
    run("exp", "run", "--temp", "-S", "train.lr=0.9", "-n", "fast")
    plotted.gen({"params.yaml": "train:\n  lr: 0.2\n"})
    run("repro")
    plotted.git("commit", "-qam", "slower")
    before = (plotted.root / "roc.csv").read_bytes()
    doc = _json(run, "diff", "HEAD~1", "HEAD", "--exp", "fast", "--targets", "roc.csv")
    assert list(doc["data"]) == ["roc.csv"]
    values = doc["data"]["roc.csv"][0]["content"]["data"]["values"]
    assert doc["data"]["roc.csv"][0]["revisions"] == ["HEAD~1", "HEAD", "fast"]
    by_rev = {
        rev: [v["tpr"] for v in values if v["rev"] == rev] for rev in ("HEAD~1", "HEAD", "fast")
    }
    assert by_rev["HEAD~1"][1] == pytest.approx(0.1**0.5)
    assert by_rev["HEAD"][1] == pytest.approx(0.1**0.2)
    assert by_rev["fast"][1] == pytest.approx(0.1**0.9)
    assert (plotted.root / "roc.csv").read_bytes() == before  # nothing checked out
    confusion = _json(run, "diff", "--targets", "confusion.csv")["data"]["confusion.csv"][0]
    assert confusion["revisions"] == ["HEAD", "workspace"]


def test_html_svg_png_files(plotted: Repo, run: Run, tmp_path: Path) -> None:
    out = run("plots", "show").stdout
    assert out == "Wrote gitflowml_plots/index.html\n"
    page = (plotted.root / "gitflowml_plots/index.html").read_text()
    assert "vegaEmbed('#plot-0'" in page
    assert "<script src" not in page  # nothing loaded from elsewhere
    assert "data:image/png;base64," in page
    run("plots", "show", "--format", "svg", "-o", str(tmp_path / "svg"))
    svgs = sorted(p.name for p in (tmp_path / "svg").iterdir())
    assert svgs == [
        "Curves.svg",
        "confusion.csv.svg",
        "loss.json.svg",
        "roc.csv.svg",
        "workspace_images_sample.png",
    ]
    root = ET.parse(tmp_path / "svg" / "roc.csv.svg").getroot()
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter() if t.tag.endswith("text")}
    assert {"ROC", "False positives", "tpr"} <= texts
    md = run("plots", "diff", "--format", "png", "-o", "pngs", "--md").stdout
    assert "![roc.csv](pngs/roc.csv.png)" in md
    assert (plotted.root / "pngs/roc.csv.png").read_bytes()[:8] == PNG[:8]
    template = tmp_path / "t.html"
    template.write_text("<html><body><h1>Mine</h1>{plot_divs}</body></html>")
    run("plots", "show", "-o", str(tmp_path / "own"), "--html-template", str(template))
    assert (tmp_path / "own/index.html").read_text().startswith("<html><body><h1>Mine</h1><div")
    template.write_text("<html></html>")
    err = run("plots", "show", "--html-template", str(template), code=1).stderr
    assert err == "error: the --html-template has no {plot_divs} to put the plots in\n"


def test_bad_plots_are_named_and_the_rest_still_render(plotted: Repo, run: Run) -> None:
    plotted.gen(
        {
            "pipeline.yaml": PIPELINE.replace("y: tpr", "y: nope")
            .replace("template: confusion", "template: fancy")
            .replace("- images", "- missing.csv\n  - broken.csv"),
            "broken.csv": "a,b\n1,2,3\n",
        }
    )
    result = run("plots", "show", code=1)
    assert result.stdout == "Wrote gitflowml_plots/index.html\n"
    lines = result.stderr.splitlines()
    assert lines == [
        "error: plot 'roc.csv': no field 'nope' in roc.csv at workspace (it has fpr, tpr)",
        "error: plot 'confusion.csv': unknown template 'fancy' (known: simple, linear, "
        "scatter, smooth, confusion, confusion_normalized, bar_horizontal, "
        "bar_horizontal_sorted)",
        "error: plot 'missing.csv': missing.csv does not exist at workspace",
        "error: plot 'broken.csv': broken.csv at workspace line 2 has 3 fields, the header 2",
    ]
    doc = _json(run, "show", code=1)
    assert sorted(doc["data"]) == ["Curves", "loss.json"]
    assert len(doc["errors"]) == 4


def test_a_directory_of_data_files_and_targets(plotted: Repo, run: Run) -> None:
    plotted.gen(
        {
            "logs": {"a.csv": "x,y\n1,2\n", "b.json": '[{"v": 1}]', "notes.txt": "skip"},
            "pipeline.yaml": PIPELINE + "  - logs\n",
        }
    )
    doc = _json(run, "show", "logs")
    assert sorted(doc["data"]) == ["logs/a.csv", "logs/b.json"]
    assert doc["data"]["logs/b.json"][0]["content"]["data"]["values"] == [
        {"v": 1, "rev": "workspace", "step": 0}
    ]
    err = run("plots", "show", "nothing-here", code=1).stderr
    assert "no plot matches nothing-here" in err


def test_templates_list_and_print(plotted: Repo, run: Run) -> None:
    names = run("plots", "templates").stdout.split()
    assert names[:2] == ["simple", "linear"]
    assert len(names) == 8
    printed = json.loads(run("plots", "templates", "scatter").stdout)
    assert printed["data"] == {"values": "<DVC_METRIC_DATA>"}
    (plotted.root / ".gitflowml/plots").mkdir()
    (plotted.root / ".gitflowml/plots/mine.json").write_text(json.dumps(printed))
    assert run("plots", "templates").stdout.split()[-1] == "mine"
    assert run("plots", "templates", "nope", code=1).stderr.startswith("error: unknown template")


def test_without_the_extra_one_line_says_how_to_install(
    plotted: Repo, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "vl_convert", None)  # an import of it fails
    err = run("plots", "show", code=1).stderr
    assert err == (
        "error: rendering plots needs the 'plots' extra: pip install 'gitflowml[plots]' "
        "(--json works without it)\n"
    )
    assert _json(run, "show")["errors"] == []


def test_no_plot_defined_is_one_error(project: Repo, run: Run) -> None:
    project.gen({"pipeline.yaml": "stages:\n  s:\n    cmd: echo hi\n"})
    err = run("plots", "show", code=1).stderr
    assert err == "error: no plot is defined: add 'plots' to pipeline.yaml (docs/plots.md)\n"
