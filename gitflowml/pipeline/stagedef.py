"""Parses one stage's definition (after templating) into a frozen `pipeline.Stage`.

Part of the pipeline.yaml format, which `pipeline.py` owns; split out to keep both small.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from gitflowml.errors import PipelineError
from gitflowml.pipeline import params as params_mod
from gitflowml.pipeline import plotdefs
from gitflowml.pipeline.model import (
    OUT_KEYS,
    STAGE_KEYS,
    Out,
    OutKind,
    ParamRef,
    Resources,
    Stage,
    Where,
)

_PYTHON = re.compile(r"^[^:\s]+:[A-Za-z_]\w*$")
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "ki": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "mi": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "gi": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
    "ti": 1024**4,
}
_OUT_KINDS: tuple[tuple[str, OutKind], ...] = (
    ("outs", "out"),
    ("metrics", "metric"),
    ("plots", "plot"),
)


def rel(path: Path, root: Path) -> str:
    return posixpath.normpath(posixpath.relpath(path.as_posix(), root.as_posix()))


def parse(
    name: str,
    d: Any,
    raw: Any,
    base: Path,
    root: Path,
    where: Where,
    line: int,
    group: str | None,
    tracked: dict[str, list[str]],
) -> Stage:
    def fail(problem: str) -> PipelineError:
        return where.error(problem, line, name)

    if not isinstance(d, dict):
        raise fail("a stage must be a mapping")
    unknown = sorted(set(d) - STAGE_KEYS)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(STAGE_KEYS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise where.error(
            f"unknown key '{unknown[0]}'{hint}", where.doc.line(raw, unknown[0]) or line, name
        )
    if ("cmd" in d) == ("python" in d):
        raise fail("give exactly one of 'cmd' (a shell command) and 'python' (FILE.py:FUNC)")
    cmd = None
    python = None
    if "cmd" in d:
        raw_cmd = d["cmd"]
        cmds = raw_cmd if isinstance(raw_cmd, list) else [raw_cmd]
        if not cmds or not all(isinstance(c, (str, int, float)) and str(c).strip() for c in cmds):
            raise fail("'cmd' must be a command or a list of commands")
        cmd = tuple(str(c) for c in cmds)
    else:
        python = d["python"]
        if not isinstance(python, str) or not _PYTHON.match(python):
            raise fail("'python' must be FILE.py:FUNC or package.module:FUNC")
    args = d.get("args") or {}
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise fail("'args' must be a mapping of keyword arguments")
    if args and python is None:
        raise fail("'args' goes with 'python' stages only")

    wdir_value = d.get("wdir", ".")
    if not isinstance(wdir_value, str):
        raise fail("'wdir' must be a directory path")
    wdir = _inside(rel(base, root), wdir_value, fail, "wdir")

    deps = tuple(_dep(wdir, p, fail) for p in _str_list(d.get("deps"), "deps", fail))
    outs = tuple(
        _out(wdir, entry, kind, fail)
        for key, kind in _OUT_KINDS
        for entry in _list(d.get(key), key, fail)
    )
    param_refs = _params(d.get("params"), wdir, base, root, tracked, fail)
    env = d.get("env") or {}
    if not isinstance(env, dict) or not all(
        isinstance(v, (str, int, float, bool)) for v in env.values()
    ):
        raise fail("'env' must be a mapping of variable names to values")
    retries = d.get("retries", 0)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise fail("'retries' must be a whole number, 0 or more")
    timeout = d.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise fail("'timeout' must be a number of seconds above 0")
    for flag in ("frozen", "always_changed", "code"):
        if flag in d and not isinstance(d[flag], bool):
            raise fail(f"'{flag}' must be true or false")
    code_hash = d.get("code_hash", "ast")
    if code_hash not in ("ast", "bytes"):
        raise fail("'code_hash' must be 'ast' or 'bytes'")
    return Stage(
        name=name,
        line=line,
        cmd=cmd,
        python=python,
        args=tuple(args.items()),
        wdir=wdir,
        deps=deps,
        params=param_refs,
        outs=outs,
        env=tuple((str(k), _env_str(v)) for k, v in env.items()),
        retries=retries,
        timeout=float(timeout) if timeout is not None else None,
        resources=_resources(d.get("resources"), fail),
        frozen=bool(d.get("frozen", False)),
        always_changed=bool(d.get("always_changed", False)),
        code_hash=code_hash,
        track_code=bool(d.get("code", True)),
        group=group,
    )


def _env_str(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _list(value: Any, key: str, fail: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(f"'{key}' must be a list")
    return value


def _str_list(value: Any, key: str, fail: Any) -> list[str]:
    items = _list(value, key, fail)
    if not all(isinstance(i, str) and i for i in items):
        raise fail(f"every entry of '{key}' must be a path")
    return items


def _is_url(path: str) -> bool:
    return "://" in path


def _inside(wdir: str, path: str, fail: Any, what: str) -> str:
    joined = posixpath.normpath(posixpath.join(wdir, path))
    if posixpath.isabs(path) or joined == ".." or joined.startswith("../"):
        raise fail(f"{what} '{path}' is outside the repository")
    return joined


def _dep(wdir: str, path: str, fail: Any) -> str:
    if _is_url(path) or posixpath.isabs(path):
        return path  # tracked by what its file system reports, or by content
    return _inside(wdir, path, fail, "dep")


def _out(wdir: str, entry: Any, kind: OutKind, fail: Any) -> Out:
    options: dict[str, Any] = {}
    if isinstance(entry, dict):
        if len(entry) != 1:
            raise fail(f"each {kind} entry is a path, or one path with its options")
        ((path, options),) = entry.items()
        options = options or {}
        if not isinstance(options, dict):
            raise fail(f"the options of {kind} '{path}' must be a mapping")
        allowed = OUT_KEYS | plotdefs.PLOT_KEYS if kind == "plot" else OUT_KEYS
        bad = sorted(set(options) - allowed)
        if bad:
            raise fail(f"{kind} '{path}': unknown option '{bad[0]}'")
    else:
        path = entry
    if not isinstance(path, str) or not path or _is_url(path):
        raise fail(f"each {kind} must be a path inside the repository")
    for flag in ("cache", "persist", "push"):
        if flag in options and not isinstance(options[flag], bool):
            raise fail(f"{kind} '{path}': '{flag}' must be true or false")
    where = _inside(wdir, path, fail, kind)
    plot = None
    if kind == "plot":
        plot = plotdefs.parse(path, options or None, fail, lambda _p: where)
    return Out(
        path=where,
        kind=kind,
        cache=bool(options.get("cache", kind == "out")),  # metrics and plots: kept in git
        persist=bool(options.get("persist", False)),
        push=bool(options.get("push", True)),
        plot=plot,
    )


def _params(
    value: Any, wdir: str, base: Path, root: Path, tracked: dict[str, list[str]], fail: Any
) -> tuple[ParamRef, ...]:
    default = posixpath.normpath(posixpath.join(wdir, params_mod.DEFAULT_PARAMS))
    wanted: dict[str, list[str] | None] = {}

    def want(file: str, keys: list[str] | None) -> None:
        if keys is None or wanted.get(file, []) is None:
            wanted[file] = None
        else:
            current = wanted.setdefault(file, [])
            assert current is not None
            current.extend(k for k in keys if k not in current)

    for entry in _list(value, "params", fail):
        if isinstance(entry, str):
            want(default, [entry])
        elif isinstance(entry, dict):
            for file, keys in entry.items():
                path = _inside(wdir, str(file), fail, "params file")
                if keys is None or keys == []:
                    want(path, None)
                elif isinstance(keys, list) and all(isinstance(k, str) for k in keys):
                    want(path, keys)
                else:
                    raise fail(f"params of '{file}' must be a list of keys")
        else:
            raise fail("each 'params' entry is a key or a mapping of file: [keys]")
    for file, keys in tracked.items():
        want(file, keys)
    return tuple(
        ParamRef(file, tuple(keys) if keys is not None else None)
        for file, keys in sorted(wanted.items())
    )


def _resources(value: Any, fail: Any) -> Resources:
    if value is None:
        return Resources()
    if not isinstance(value, dict) or set(value) - {"cpus", "memory", "gpus"}:
        raise fail("'resources' takes cpus, memory and gpus")
    cpus = value.get("cpus", 1)
    gpus = value.get("gpus", 0)
    if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or cpus <= 0:
        raise fail("resources: 'cpus' must be a number above 0")
    if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 0:
        raise fail("resources: 'gpus' must be a whole number")
    memory = value.get("memory")
    mem_bytes: int | None = None
    if memory is not None:
        match = _MEMORY.match(str(memory))
        if isinstance(memory, bool) or not match:
            raise fail("resources: 'memory' must be a size such as 4GiB or 512MB")
        number, unit = match.groups()
        mem_bytes = int(float(number) * _UNITS[(unit or "").lower()])
    return Resources(cpus=float(cpus), memory=mem_bytes, gpus=gpus)
