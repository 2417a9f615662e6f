"""`python -m gitflowml.executors.pyrunner FILE.py:FUNC '{"kw": ...}'`: runs a Python
stage's function.

The repository root (the current directory's project root, passed in GITFLOWML_ROOT) is put
first on sys.path, and for FILE.py its directory next, as `python FILE.py` would. An
exception prints its traceback and exits 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    spec, args_json = argv
    target, func_name = spec.rsplit(":", 1)
    root = os.environ.get("GITFLOWML_ROOT", os.getcwd())
    sys.path.insert(0, root)
    if target.endswith(".py"):
        path = Path(root) / target
        sys.path.insert(1, str(path.parent))  # as `python FILE.py` would, after the root
        module_spec = importlib.util.spec_from_file_location("__gitflowml_stage__", path)
        if module_spec is None or module_spec.loader is None:
            print(f"error: cannot load {target}", file=sys.stderr)
            return 1
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    func = getattr(module, func_name, None)
    if not callable(func):
        print(f"error: {target} has no function {func_name}", file=sys.stderr)
        return 1
    func(**json.loads(args_json))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
