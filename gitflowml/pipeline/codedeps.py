"""A stage's code dependencies, found by static analysis of imports (SPEC sections 3 and 4).

Entry points: the module of a `python:` stage (`src/train.py:main` or `pkg.train:main`) and,
in a shell stage, every `python FILE.py …` and `python -m module …` of its `cmd`. From each,
the imports of every module are followed (`import a.b`, `from a import b`, relative imports,
imports inside functions) and resolved as Python would on the stage's `sys.path`, limited
to the repository: the script's directory or the working directory first, then the
repository root and its `src/`. Resolving `a.b.c` pulls in `a/__init__.py` and
`a/b/__init__.py` too. Modules that are not in the repository (the standard library,
site-packages) are not code deps, and neither are imports that resolve nowhere.

Each file is hashed by its normalised syntax tree (`ast.dump` without positions), so
comments, blank lines and formatting do not count; a stage with `code_hash: bytes`, or a
file that does not parse, is hashed by its bytes. What a file imports and its tree hash are
kept in the hash state by the file's content hash, so an unchanged file is never parsed
twice; resolving needs a few `stat` calls per import.

Limits: dynamic imports (`importlib.import_module(name)`, `__import__`), code loaded with
`exec` or from outside the repository, and data files that code reads are not seen; list
those as deps.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitflowml import quick
from gitflowml.pipeline.lockfile import Entry
from gitflowml.pipeline.model import Stage
from gitflowml.storage import hashing
from gitflowml.storage.state import StateDb
from gitflowml.storage.workspace import FileInfo, Scanner

_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?$")
_OPTIONS_WITH_VALUE = {"-W", "-X", "-Q"}
_SHELL_OPS = {"&&", "||", ";", "|", "&", "(", ")", ";;"}
_WRAPPERS = {"env", "exec", "time", "nice", "nohup", "command"}  # run the next word
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_NO_PATH = frozenset(sys.builtin_module_names) | {"__future__", "__main__"}

Import = tuple[str, int, tuple[str, ...]]  # (module, level, names imported from it)


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """A script path or a dotted module name, and where its imports are looked up first
    (POSIX paths relative to the repository root)."""

    target: str
    is_module: bool
    search: tuple[str, ...]


def entry_points(stage: Stage, root: Path) -> list[EntryPoint]:
    if not stage.track_code:
        return []
    base = _search_base(root)
    if stage.python is not None:
        target = stage.python.rsplit(":", 1)[0]
        if target.endswith(".py"):
            where = posixpath.dirname(posixpath.normpath(target)) or "."
            return [EntryPoint(posixpath.normpath(target), False, (where, *base))]
        return [EntryPoint(target, True, base)]
    found: list[EntryPoint] = []
    for command in stage.cmd or ():
        for is_module, target in _python_invocations(command):
            if is_module:
                found.append(EntryPoint(target, True, (stage.wdir, *base)))
                continue
            script = posixpath.normpath(posixpath.join(stage.wdir, target))
            if script.startswith("../") or posixpath.isabs(script):
                continue  # outside the repository
            found.append(EntryPoint(script, False, (posixpath.dirname(script) or ".", *base)))
    return found


def _search_base(root: Path) -> tuple[str, ...]:
    return (".", "src") if (root / "src").is_dir() else (".",)


def _python_invocations(command: str) -> list[tuple[bool, str]]:
    """(is_module, target) for each `python FILE.py` / `python -m mod` in a shell command."""
    if "python" not in command:
        return []
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return []  # unbalanced quotes: the shell will complain, not us
    found = []
    in_command_position = True
    for i, token in enumerate(tokens):
        was_command_position = in_command_position
        in_command_position = token in _SHELL_OPS or (
            was_command_position and (token in _WRAPPERS or _ASSIGNMENT.match(token) is not None)
        )
        if not was_command_position or not _PYTHON.match(posixpath.basename(token)):
            continue
        j = i + 1
        while j < len(tokens) and tokens[j] not in _SHELL_OPS:
            arg = tokens[j]
            if arg == "-m" and j + 1 < len(tokens):
                found.append((True, tokens[j + 1]))
                break
            if arg == "-c" or arg == "-" or arg.startswith("-c"):
                break  # code on the command line or stdin: nothing to follow
            if arg in _OPTIONS_WITH_VALUE:
                j += 2
                continue
            if arg.startswith("-"):
                j += 1
                continue
            if arg.endswith(".py"):
                found.append((False, arg))
            break
    return found


# -- analysis --------------------------------------------------------------------------------
class CodeAnalyzer:
    """Finds and hashes the code closure of stages; one per command, memoising per file."""

    def __init__(self, root: Path, scanner: Scanner, state: StateDb) -> None:
        self.root = root
        self.scanner = scanner
        self.state = state
        self._parsed: dict[str, tuple[str, str, tuple[Import, ...]]] = {}  # rel -> parse
        self._found: dict[tuple[str, str], str | None] = {}  # (dir, name) -> rel file
        self._edges: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # what a file imports

    def code_of(self, stage: Stage) -> tuple[Entry, ...]:
        """The stage's code files with their hashes, sorted by path."""
        points = entry_points(stage, self.root)
        if not points:
            return ()
        seen: dict[str, None] = {}
        queue: list[tuple[str, tuple[str, ...]]] = []
        for point in points:
            if point.is_module:
                for rel in self._module_files(point.target, point.search):
                    queue.append((rel, point.search))
            elif self._is_file(point.target):
                queue.append((point.target, point.search))
        self._load([rel for rel, _ in queue])
        while queue:
            batch, queue = queue, []
            for rel, search in batch:
                if rel in seen:
                    continue
                seen[rel] = None
                for found in self._imports_of(rel, search):
                    if found not in seen:
                        queue.append((found, search))
            self._load([rel for rel, _ in queue])
        entries = []
        for rel in seen:
            if rel not in self._parsed:
                continue  # vanished while we looked
            content_oid, ast_oid, _ = self._parsed[rel]
            use_bytes = stage.code_hash == "bytes" or not ast_oid
            entries.append(Entry(rel, content_oid if use_bytes else ast_oid))
        return tuple(sorted(entries, key=lambda e: e.path))

    # -- files -------------------------------------------------------------------------------
    def _load(self, rels: Iterable[str]) -> None:
        """Hash (through the state cache) and parse the files not yet known this run."""
        todo = [r for r in dict.fromkeys(rels) if r not in self._parsed]
        if not todo:
            return
        infos = self.scanner.scan_many([self.root / r for r in todo])
        by_oid: dict[str, list[str]] = {}
        for rel, info in zip(todo, infos, strict=True):
            if isinstance(info, FileInfo):
                by_oid.setdefault(info.oid, []).append(rel)
        known = self.state.get_code(list(by_oid))
        fresh = []
        for oid, rels_of in by_oid.items():
            if oid in known:
                ast_oid, imports = known[oid][0], load_imports(known[oid][1])
            else:
                ast_oid, imports = _analyse((self.root / rels_of[0]).read_bytes())
                fresh.append((oid, ast_oid, _dump_imports(imports)))
            for rel in rels_of:
                self._parsed[rel] = (oid, ast_oid, imports)
        if fresh:
            self.state.set_code(fresh)

    def _is_file(self, rel: str) -> bool:
        path = self.root / rel
        quick.note(path)
        return path.is_file()

    # -- resolution --------------------------------------------------------------------------
    def _imports_of(self, rel: str, search: tuple[str, ...]) -> list[str]:
        key = (rel, search)
        if key not in self._edges:
            self._edges[key] = self._resolve_imports(rel, search)
        return self._edges[key]

    def _resolve_imports(self, rel: str, search: tuple[str, ...]) -> list[str]:
        parsed = self._parsed.get(rel)
        if parsed is None:
            return []
        found: list[str] = []
        here = posixpath.dirname(rel) or "."
        for module, level, names in parsed[2]:
            if level:
                base = here
                for _ in range(level - 1):
                    base = (posixpath.dirname(base) or ".") if base != "." else ".."
                if base.startswith(".."):
                    continue  # above the repository
                found.extend(self._relative(base, module, names))
            else:
                found.extend(self._module_files(module, search))
                for name in names:
                    found.extend(self._module_files(f"{module}.{name}", search, submodule=True))
        return found

    def _relative(self, base: str, module: str, names: tuple[str, ...]) -> list[str]:
        parts = module.split(".") if module else []
        files: list[str] = []
        directory = base
        for part in parts:
            hit = self._find(directory, part)
            if hit is None:
                return files
            if hit[0]:
                files.append(hit[0])
            if hit[1] is None:
                return files
            directory = hit[1]
        for name in names:
            hit = self._find(directory, name)
            if hit is not None and hit[0]:
                files.append(hit[0])
        return files

    def _module_files(
        self, dotted: str, search: Sequence[str], submodule: bool = False
    ) -> list[str]:
        """The files importing `dotted` executes (packages' __init__ included), searching
        the first directory of `search` that has its top-level name."""
        parts = dotted.split(".")
        if not submodule and parts[0] in _NO_PATH:
            return []
        for start in search:
            files: list[str] = []
            directory: str | None = start
            for i, part in enumerate(parts):
                hit = self._find(directory, part) if directory is not None else None
                if hit is None:
                    if i == 0:
                        break  # not under this search directory
                    return [] if submodule else files
                if submodule and i < len(parts) - 1:
                    pass  # the package itself was already counted by the plain import
                elif hit[0]:
                    files.append(hit[0])
                directory = hit[1]
            else:
                return files
        return []

    def _find(self, directory: str, name: str) -> tuple[str, str | None] | None:
        """`name` inside `directory`: (file to hash or '', package directory or None)."""
        key = (directory, name)
        if key in self._found:
            cached = self._found[key]
            return None if cached is None else _split(cached)
        package = posixpath.normpath(posixpath.join(directory, name))
        result: str | None = None
        init = posixpath.join(package, "__init__.py")
        if not name.isidentifier():
            result = None
        elif self._is_file(init):
            result = f"{init}|{package}"
        elif self._is_file(package + ".py"):
            result = f"{package}.py|"
        elif self._is_dir(package):
            result = f"|{package}"  # a namespace package: no file of its own
        self._found[key] = result
        return None if result is None else _split(result)

    def _is_dir(self, rel: str) -> bool:
        path = self.root / rel
        quick.note(path)
        return path.is_dir()


def _split(value: str) -> tuple[str, str | None]:
    file, _, package = value.partition("|")
    return file, package or None


def _analyse(source: bytes) -> tuple[str, tuple[Import, ...]]:
    """(hash of the normalised syntax tree, imports); ('', ()) when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "", ()
    imports: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.extend((alias.name, 0, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(a.name for a in node.names if a.name != "*")
            imports.append((node.module or "", node.level, names))
    dumped = ast.dump(tree, annotate_fields=True, include_attributes=False)
    return hashing.hash_bytes(dumped.encode()), tuple(imports)


def _dump_imports(imports: tuple[Import, ...]) -> str:
    return json.dumps([[m, lv, list(n)] for m, lv, n in imports], separators=(",", ":"))


def load_imports(text: str) -> tuple[Import, ...]:
    return tuple((str(m), int(lv), tuple(n)) for m, lv, n in json.loads(text))
