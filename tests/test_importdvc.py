"""import-dvc converts a DVC project in place: dvc.yaml, *.dvc files, .dvc/config remotes."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Repo, Run

DVC_YAML = """\
stages:
  prepare:
    cmd: mkdir -p out && cp data/raw.csv out/clean.csv
    deps: [data/raw.csv]
    outs: [out/clean.csv]
"""
DVC_CONFIG = """\
[core]
    remote = storage
['remote "storage"']
    url = s3://bucket/dvc
    endpointurl = http://127.0.0.1:9000
['remote "backup"']
    url = /mnt/backup
"""


def test_import_dvc(project: Repo, run: Run) -> None:
    project.gen(
        {
            "dvc.yaml": DVC_YAML,
            "data": {
                "raw.csv": "a,b\n1,2\n",
                "raw.csv.dvc": "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 8\n"
                "  path: raw.csv\n",
                "gone.csv.dvc": "outs:\n- md5: 0123456789abcdef\n  path: gone.csv\n",
            },
            "images.dvc": "outs:\n- md5: abc.dir\n  path: images\n",
            "images": {"1.png": b"\x89PNG"},
            ".dvc": {
                "config": DVC_CONFIG,
                "config.local": "['remote \"storage\"']\n    secret_access_key = hunter2\n",
            },
        }
    )
    out = run("import-dvc").stdout
    assert "dvc.yaml converted to pipeline.yaml" in out
    assert "tracked data/raw.csv -> data/raw.csv.gfml" in out
    assert "tracked images -> images.gfml" in out
    assert "data/gone.csv: neither in the workspace nor in DVC's cache or remote" in out
    assert "remote 'storage' converted: s3://bucket/dvc/gitflowml (a sub-path of DVC's" in out
    assert "there is no dvc.lock, so every stage is new" in out
    assert (project.root / "data" / "raw.csv.gfml").exists()
    assert run("remote", "list").stdout == (
        "backup\t/mnt/backup/gitflowml\nstorage\ts3://bucket/dvc/gitflowml\t(default)\n"
    )
    committed = (project.root / ".gitflowml" / "config.yaml").read_text()
    assert "endpoint_url: http://127.0.0.1:9000" in committed
    assert "hunter2" not in committed
    assert "secret: hunter2" in (project.root / ".gitflowml" / "config.local.yaml").read_text()
    run("repro")
    assert (project.root / "out" / "clean.csv").read_text() == "a,b\n1,2\n"
    again = run("import-dvc").stdout  # idempotent
    assert "pipeline.yaml exists already" in again
    assert "data/raw.csv: converted before" in again
    assert "remote '" not in again


def test_check_large_files_and_check_pushed(project: Repo, run: Run, tmp_path: Path) -> None:
    project.gen(
        {
            "big.bin": b"\x00" * (700 * 1024),
            "docs": {"figure.png": b"\x01" * (600 * 1024)},
            "data": {"huge.bin": b"\x02" * (900 * 1024)},
        }
    )
    assert run("check-pushed").stdout == ""  # nothing tracked: no remote needed
    run("add", "data")
    project.git("add", "big.bin", "docs/figure.png")
    err = run("check-large-files", code=1).stderr
    assert "2 file(s) over 500 KiB would go into git: big.bin (700.0 KiB), docs/figure.png" in err
    assert "gitflowml add" in err
    assert "huge" not in err  # tracked by gitflowml
    project.gen(
        {".gitflowml": {"config.yaml": "schema: 1\ncore:\n  allow_large_files: ['docs/*']\n"}}
    )
    err = run("check-large-files", code=1).stderr
    assert "1 file(s)" in err
    run("check-large-files", "--max-kb", "800")
    run("check-large-files", "docs/figure.png")
    assert "no default remote" in run("check-pushed", code=1).stderr
    run("remote", "add", "-d", "store", str(tmp_path / "store"))
    assert "data" in run("check-pushed", code=1).stderr
    run("push")
    run("check-pushed")
