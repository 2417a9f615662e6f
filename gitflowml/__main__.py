from __future__ import annotations

from gitflowml.cli import main

raise SystemExit(main())
