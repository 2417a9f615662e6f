#!/usr/bin/env python3
"""Render the pictures of docs/plots.md: one PNG per built-in template, from this folder's
pipeline.yaml and data, with `gitflowml plots show --format png`.

    python docs/plots-example/make.py [GITFLOWML]   # default: gitflowml on PATH
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
out = here.parent / "img" / "plots"
tool = sys.argv[1] if len(sys.argv) > 1 else "gitflowml"
with tempfile.TemporaryDirectory() as tmp:
    repo = Path(tmp) / "example"
    shutil.copytree(here, repo, ignore=shutil.ignore_patterns("make.py"))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([tool, "-q", "init"], cwd=repo, check=True)
    subprocess.run([tool, "plots", "show", "--format", "png", "-o", str(out)], cwd=repo, check=True)
print(f"wrote {out}")
