from __future__ import annotations

from pathlib import Path

import pytest

from gitflowml import config
from gitflowml.config import LinkType
from gitflowml.errors import ConfigError


def test_defaults_when_there_is_no_config(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, environ={})
    assert cfg.cache_types == (LinkType.REFLINK, LinkType.COPY)
    assert cfg.cache_dir is None
    assert cfg.jobs is None


def test_write_default_only_once(tmp_path: Path) -> None:
    assert config.write_default(tmp_path)
    (tmp_path / "config.yaml").write_text("schema: 1\ncache: {type: copy}\n")
    assert not config.write_default(tmp_path)
    assert config.load(tmp_path, environ={}).cache_types == (LinkType.COPY,)


def test_local_config_and_environment_override(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("schema: 1\ncache: {type: copy, dir: shared}\n")
    (tmp_path / "config.local.yaml").write_text("cache: {type: hardlink}\ncore: {jobs: 3}\n")
    cfg = config.load(tmp_path, environ={})
    assert cfg.cache_types == (LinkType.HARDLINK,)
    assert cfg.cache_dir == (tmp_path / "shared").resolve()
    assert cfg.jobs == 3
    env = {
        "GITFLOWML_CACHE_TYPE": "symlink",
        "GITFLOWML_JOBS": "7",
        "GITFLOWML_CACHE_DIR": "/abs/cache",
    }
    cfg = config.load(tmp_path, environ=env)
    assert (cfg.cache_types, cfg.jobs, cfg.cache_dir) == (
        (LinkType.SYMLINK,),
        7,
        Path("/abs/cache"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cache: [unclosed\n", "malformed YAML"),
        ("- 1\n", "mapping"),
        ("schema: 9\n", "schema 9"),
        ("cache: {type: teleport}\n", "not valid"),
        ("cache: {type: ','}\n", "empty"),
        ("core: {jobs: lots}\n", "whole number"),
        ("core: {jobs: 0}\n", "at least 1"),
        ("cache: 5\n", "must be a mapping"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        config.load(tmp_path, environ={})
    assert "config.yaml" in str(info.value)
