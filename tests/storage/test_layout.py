"""layout: the one owner of object and run-cache key shapes."""

from __future__ import annotations

import pytest

from gitflowml.errors import InvalidOidError
from gitflowml.storage import layout

OID = "0123456789abcdef0123456789abcdef"


def test_keys_of_objects_manifests_and_runs() -> None:
    assert layout.object_key(OID) == "01/23456789abcdef0123456789abcdef"
    assert layout.object_key(OID, True) == "01/23456789abcdef0123456789abcdef.dir"
    assert layout.run_key(OID) == "runs/01/23456789abcdef0123456789abcdef"
    assert layout.split(OID) == ("01", OID[2:])
    assert layout.fan(OID) == "01"
    assert layout.is_manifest(layout.object_key(OID, True))
    assert not layout.is_manifest(layout.object_key(OID))


@pytest.mark.parametrize("is_dir", [False, True])
def test_a_key_gives_back_its_oid(is_dir: bool) -> None:
    assert layout.oid_of(layout.object_key(OID, is_dir)) == OID
    assert layout.run_key_of(layout.run_key(OID)) == OID


@pytest.mark.parametrize(
    "key",
    ["runs/01/23456789abcdef0123456789abcdef", "01/xyz", "012/3456", "01/.tmp-1", "config"],
)
def test_other_keys_are_not_objects(key: str) -> None:
    assert layout.oid_of(key) is None


@pytest.mark.parametrize(
    "path", ["01/23456789abcdef0123456789abcdef", "runs/01/zz", "runs/012/3", "runs/01"]
)
def test_other_paths_are_not_run_keys(path: str) -> None:
    assert layout.run_key_of(path) is None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABCDEF" * 6, OID[:-1], OID + "0"])
def test_an_id_from_outside_is_checked_before_it_becomes_a_path(bad: str) -> None:
    with pytest.raises(InvalidOidError):
        layout.checked_key(bad)
    assert layout.checked_key(OID, True) == layout.object_key(OID, True)
