from __future__ import annotations

from gitflowml.entry import run

raise SystemExit(run())
