from __future__ import annotations

from gitflowml.entry import main

raise SystemExit(main())
