"""Packed remote objects (SPEC section 14), on a directory remote and on the S3 server
(moto_server on 127.0.0.1, through s3fs): layout, contents from the indexes, ranged reads,
corruption, mixed loose and packed remotes, gc --cloud, run-cache entries, two pushes at
once, and pushes interrupted by a failing write or a stopped server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitflowml import api
from gitflowml.errors import RemoteError
from gitflowml.remote import fs as remote_fs
from gitflowml.remote import packfmt
from gitflowml.storage import hashing, layout
from tests.conftest import Repo, Run, git


# -- a remote of either kind, and a look at its files ----------------------------------------------
@dataclass
class Store:
    kind: str
    url: str
    files: Callable[[], dict[str, bytes]]  # every key on it, with its bytes
    put: Callable[[str, bytes], None]
    delete: Callable[[str], None]

    def add(self, run: Run, name: str = "r") -> None:
        run("remote", "add", "-d", name, self.url)
        if self.kind == "s3":
            run("remote", "modify", name, "endpoint_url", ENDPOINT[0])


ENDPOINT: list[str] = []


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The S3 server takes any key: these, from the environment, for every command here."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def _dir_store(root: Path) -> Store:
    def files() -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    def put(key: str, data: bytes) -> None:
        path = root / key
        path.chmod(0o644)
        path.write_bytes(data)

    return Store("dir", str(root), files, put, lambda key: (root / key).unlink())


def _s3_store(endpoint: str, bucket: str) -> Store:
    import s3fs

    fs = s3fs.S3FileSystem(
        key="testing",
        secret="testing",
        client_kwargs={"endpoint_url": endpoint},
        skip_instance_cache=True,
        use_listings_cache=False,
    )
    base = f"{bucket}/cache"

    def files() -> dict[str, bytes]:
        found = fs.find(base)
        return {p[len(base) + 1 :]: fs.cat_file(p) for p in sorted(found)}

    return Store(
        "s3",
        f"s3://{base}",
        files,
        lambda key, data: fs.pipe_file(f"{base}/{key}", data),
        lambda key: fs.rm(f"{base}/{key}"),
    )


@pytest.fixture(params=["dir", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "dir":
        return _dir_store(tmp_path / "remote")
    endpoint = request.getfixturevalue("s3_endpoint")
    ENDPOINT[:] = [endpoint]
    return _s3_store(endpoint, request.getfixturevalue("bucket"))


def _packs(files: dict[str, bytes]) -> dict[str, tuple[list[packfmt.Row], bytes]]:
    """Each indexed pack: its rows and its bytes; checks every row against its bytes."""
    out = {}
    for key, data in files.items():
        name = layout.idx_name_of(key)
        if name is None:
            continue
        rows, size = packfmt.decode_idx(data)
        pack = files[layout.pack_key(name)]  # an index never names a missing pack
        assert len(pack) == size
        for r in rows:
            if r.kind != layout.RUN:
                assert hashing.hash_bytes(pack[r.offset : r.offset + r.size]) == r.name
        out[name] = (rows, pack)
    return out


def _loose(files: dict[str, bytes]) -> list[str]:
    return [k for k in files if layout.entry_of(k) is not None]


def _clone(repo: Repo, tmp_path: Path) -> Repo:
    dest = tmp_path / f"clone-{uuid.uuid4().hex[:6]}"
    git(tmp_path, "clone", "-q", str(repo.root), str(dest))
    return Repo(dest)


SMALL = {f"f{i:03d}.txt": f"row {i}\n".encode() * (i + 1) for i in range(60)}
BIG = bytes(range(256)) * (5 << 12)  # 5 MiB: over the default pack_threshold


@pytest.fixture
def data(project: Repo, run: Run) -> Repo:
    project.gen({"data": {"part": dict(SMALL)}, "big.bin": BIG})
    run("add", "data", "big.bin")
    project.git("add", "-A")
    project.git("commit", "-qm", "data")
    return project


# -- layout ---------------------------------------------------------------------------------------
def test_small_objects_are_packed_large_ones_stay_loose(
    data: Repo, run: Run, store: Store, tmp_path: Path
) -> None:
    store.add(run)
    assert run("push").stdout == "62 uploaded, 0 already present\n"  # 60 files, manifest, big
    files = store.files()
    packs = _packs(files)
    assert _loose(files) == [layout.object_key(hashing.hash_bytes(BIG))]
    rows = [r for rows, _pack in packs.values() for r in rows]
    assert sorted(r.name for r in rows if r.kind == layout.OBJECT) == sorted(
        hashing.hash_bytes(b) for b in SMALL.values()
    )
    assert [r.kind for r in rows].count(layout.MANIFEST) == 1
    for name, (rows, _pack) in packs.items():  # named by content
        ordered = sorted(rows, key=lambda r: r.offset)
        members = [packfmt.Member(r.kind, r.name, r.name, r.size) for r in ordered]
        assert packfmt.pack_name(members) == name
    assert run("push").stdout == "0 uploaded, 62 already present\n"
    assert store.files() == files
    data.git("add", "-A")
    data.git("commit", "-qm", "remote")
    clone = _clone(data, tmp_path)
    os.chdir(clone.root)
    run("init")
    assert run("pull").stdout.startswith("62 downloaded")
    for name, body in SMALL.items():
        assert (clone.root / "data" / "part" / name).read_bytes() == body
    assert (clone.root / "big.bin").read_bytes() == BIG
    cached = sorted(p.name for p in (clone.root / ".gitflowml/cache/packs").iterdir())
    assert cached == sorted(f"{n}.idx" for n in packs)


def test_empty_files_travel_in_packs(project: Repo, run: Run, store: Store, tmp_path: Path) -> None:
    project.gen({"e": {"empty": "", "also": {"empty": ""}}, "lone": ""})
    run("add", "e", "lone")
    store.add(run)
    assert run("push").stdout == "2 uploaded, 0 already present\n"  # one object, a manifest
    project.git("add", "-A")
    project.git("commit", "-qm", "empty")
    clone = _clone(project, tmp_path)
    os.chdir(clone.root)
    run("init")
    assert run("pull").stdout.startswith("2 downloaded")
    assert (clone.root / "e" / "also" / "empty").read_bytes() == b""
    assert (clone.root / "lone").read_bytes() == b""


def test_pack_options(data: Repo, run: Run, tmp_path: Path) -> None:
    store = _dir_store(tmp_path / "remote")
    store.add(run)
    run("remote", "modify", "r", "pack_size", "2KiB")
    run("push")
    packs = _packs(store.files())
    assert len(packs) > 3
    for rows, pack in packs.values():
        assert len(pack) <= 2048 or len(rows) == 1
    err = run("remote", "modify", "r", "pack_threshold", "lots", code=1).stderr
    assert err.startswith("error: option pack_threshold: 'lots' is not a size")


def test_pack_threshold_zero_keeps_everything_loose(data: Repo, run: Run, tmp_path: Path) -> None:
    store = _dir_store(tmp_path / "remote")
    store.add(run)
    run("remote", "modify", "r", "pack_threshold", "0")
    run("push")
    files = store.files()
    assert not _packs(files)
    assert len(_loose(files)) == 62


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.binary(min_size=16, max_size=16), st.integers(0, 1 << 40)),
        max_size=20,
    )
)
def test_an_index_reads_back_and_refuses_any_damage(rows: list[tuple[int, bytes, int]]) -> None:
    built, offset = [], 0
    for kind, name, size in rows:
        built.append(packfmt.Row(kind, name.hex(), offset, size))
        offset += size
    data = packfmt.encode_idx(built)
    got, size = packfmt.decode_idx(data)
    order = lambda r: (r.offset, r.name, r.kind)  # noqa: E731
    assert sorted(got, key=order) == sorted(built, key=order)
    assert size == offset
    for at in range(0, len(data), 7):
        damaged = bytearray(data)
        damaged[at] ^= 0x40
        with pytest.raises(packfmt.BadIndexError):
            packfmt.decode_idx(bytes(damaged))
    with pytest.raises(packfmt.BadIndexError):
        packfmt.decode_idx(data[:-1])


# -- what is there, from the indexes ---------------------------------------------------------------
def test_what_a_remote_holds_comes_from_its_indexes(
    data: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _dir_store(tmp_path / "remote")
    store.add(run)
    run("push")
    checked: list[str] = []
    real_has = remote_fs.RemoteFs.has
    read: list[str] = []
    real_read = remote_fs.RemoteFs.read

    def has(self: remote_fs.RemoteFs, keys: list[str]) -> set[str]:
        checked.extend(keys)
        return real_has(self, keys)

    def read_one(self: remote_fs.RemoteFs, key: str) -> bytes:
        read.append(key)
        return real_read(self, key)

    monkeypatch.setattr(remote_fs.RemoteFs, "has", has)
    monkeypatch.setattr(remote_fs.RemoteFs, "read", read_one)
    assert run("push").stdout == "0 uploaded, 62 already present\n"
    assert api.unpushed() == []
    assert set(checked) == {layout.object_key(hashing.hash_bytes(BIG))}  # only the loose one
    assert read == []  # the indexes came from the local cache
    for cached in (data.root / ".gitflowml/cache/packs").iterdir():
        cached.unlink()
    run("check-pushed")
    assert sorted(read) == sorted(k for k in store.files() if k.endswith(".idx"))


def test_a_partial_fetch_reads_only_what_it_needs(
    project: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.gen({"a": {f"{i}.txt": f"a{i}\n" * 300 for i in range(40)}})
    project.gen({"b": {f"{i}.txt": f"b{i}\n" * 300 for i in range(40)}})
    run("add", "a", "b")
    store = _dir_store(tmp_path / "remote")
    store.add(run)
    run("push")
    project.git("add", "-A")
    project.git("commit", "-qm", "data")
    os.chdir(_clone(project, tmp_path).root)
    run("init")
    spans: list[tuple[str, int, int]] = []
    real = remote_fs.RemoteFs.read_ranges

    def read_ranges(self: remote_fs.RemoteFs, want: list[tuple[str, int, int]]) -> list[bytes]:
        spans.extend(want)
        return real(self, want)

    monkeypatch.setattr(remote_fs.RemoteFs, "read_ranges", read_ranges)
    assert run("pull", "a").stdout.startswith("41 downloaded")
    assert len(spans) <= 3  # the manifest, then a's files: neighbours, read together
    assert sum(end - start for _key, start, end in spans) < 40 * 300 * 4 * 1.5
    assert not Path("b").exists()


# -- damage ---------------------------------------------------------------------------------------
def test_a_corrupt_packed_object_or_index_is_refused(
    data: Repo, run: Run, store: Store, tmp_path: Path
) -> None:
    store.add(run)
    run("push")
    data.git("add", "-A")
    data.git("commit", "-qm", "remote")
    files = store.files()
    name, (rows, pack) = next(
        (n, v) for n, v in _packs(files).items() if any(r.kind == 0 for r in v[0])
    )
    victim = next(r for r in rows if r.kind == layout.OBJECT)
    damaged = bytearray(pack)
    damaged[victim.offset] ^= 0xFF
    store.put(layout.pack_key(name), bytes(damaged))
    clone = _clone(data, tmp_path)
    os.chdir(clone.root)
    run("init")
    err = run("fetch", code=1).stderr
    assert err.startswith(f"error: object {layout.object_key(victim.name)} on remote 'r'")
    assert "is corrupt" in err
    assert err.count("\n") == 1
    assert not (clone.root / ".gitflowml/cache" / layout.object_key(victim.name)).exists()
    store.put(layout.pack_key(name), pack)
    idx = files[layout.idx_key(name)]
    store.put(layout.idx_key(name), idx[:-3])
    for cached in (clone.root / ".gitflowml/cache/packs").iterdir():
        cached.unlink()  # else the good copy kept here is read, not the remote's
    err = run("fetch", code=1).stderr
    assert f"pack index {layout.idx_key(name)} is damaged" in err
    store.put(layout.idx_key(name), idx)
    assert "downloaded" in run("pull").stdout


# -- old remotes, gc ------------------------------------------------------------------------------
def test_loose_and_packed_objects_mix_and_repack_packs_the_loose_ones(
    data: Repo, run: Run, store: Store, tmp_path: Path
) -> None:
    store.add(run)
    run("remote", "modify", "r", "pack_threshold", "0")  # a remote from before packs
    run("push")
    run("remote", "modify", "r", "pack_threshold", "1MiB")
    data.gen({"more": {f"m{i}": f"more {i}\n" for i in range(20)}})
    run("add", "more")
    assert run("push").stdout == "21 uploaded, 62 already present\n"
    files = store.files()
    assert len(_loose(files)) == 62
    assert len(_packs(files)) == 2  # the files, then the manifest
    data.git("add", "-A")
    data.git("commit", "-qm", "more")
    os.chdir(_clone(data, tmp_path).root)
    run("init")
    assert run("pull").stdout.startswith("83 downloaded")
    assert run("gc", "-w", "--cloud", "--repack", "--dry").stdout.startswith("Would delete: 0")
    out = run("gc", "-w", "-f", "--cloud", "--repack").stdout
    assert "packed 61 loose object(s) on the remote" in out
    files = store.files()
    assert _loose(files) == [layout.object_key(hashing.hash_bytes(BIG))]
    os.chdir(_clone(data, tmp_path).root)
    run("init")
    assert run("pull").stdout.startswith("83 downloaded")
    assert "--repack packs a remote's objects" in run("gc", "-w", "--repack", code=1).stderr


def test_gc_cloud_rewrites_a_pack_less_than_half_live(
    project: Repo, run: Run, store: Store, tmp_path: Path
) -> None:
    project.gen({"d": {f"{i}.txt": f"v1 {i}\n" * 50 for i in range(10)}})
    run("add", "d")
    store.add(run)
    run("push")
    first = _packs(store.files())
    project.gen({"d": {f"{i}.txt": f"v2 {i}\n" * 50 for i in range(8)}})  # 8 of 10 change
    run("add", "d")
    project.git("add", "-A")
    project.git("commit", "-qm", "v2")
    run("push")
    out = run("gc", "-w", "-f", "--cloud").stdout
    assert "rewrote 1 pack(s) on the remote" in out
    after = _packs(store.files())
    assert not set(first) & set(after)  # the old pack and its index are gone
    names = {r.name for rows, _pack in after.values() for r in rows}
    v1 = {hashing.hash_bytes(f"v1 {i}\n".encode() * 50) for i in range(10)}
    assert len(v1 & names) == 2  # the two files v2 kept, rewritten into a new pack
    os.chdir(_clone(project, tmp_path).root)
    run("init")
    assert run("pull").stdout.startswith("11 downloaded")
    assert Path("d/9.txt").read_text() == "v1 9\n" * 50


# -- run-cache entries -----------------------------------------------------------------------------
def test_run_cache_entries_travel_in_packs(project: Repo, run: Run, tmp_path: Path) -> None:
    project.gen(
        {
            "params.yaml": "n: 1\n",
            "pipeline.yaml": (
                "stages:\n  s:\n    cmd: echo ${n} > out.txt && echo ran >> log.txt\n"
                "    params: [n]\n    outs: [out.txt]\n"
            ),
        }
    )
    run("repro")
    project.gen({"params.yaml": "n: 2\n"})
    run("repro")
    store = _dir_store(tmp_path / "remote")
    store.add(run)
    out = run("push").stdout
    files = store.files()
    assert not any(k.startswith(layout.RUNS_DIR + "/") for k in files)
    runs = [r for rows, _p in _packs(files).values() for r in rows if r.kind == layout.RUN]
    assert len(runs) == 2, out
    project.git("add", "-A")
    project.git("commit", "-qm", "two runs")
    clone = _clone(project, tmp_path)
    os.chdir(clone.root)
    run("init")
    clone.gen({"params.yaml": "n: 1\n"})
    assert "Restored stage 's' from the run-cache" in run("repro", "--pull").stdout
    assert Path("out.txt").read_text() == "1\n"


# -- two at once, interrupted --------------------------------------------------------------
def _gfml(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitflowml", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_two_pushes_at_once_lose_nothing(
    git_repo: Repo, run: Run, store: Store, tmp_path: Path
) -> None:
    repos = []
    for who in ("a", "b"):
        repo = Repo(tmp_path / who)
        repo.root.mkdir()
        git(repo.root, "init", "-q")
        git(repo.root, "config", "user.email", f"{who}@example.com")
        git(repo.root, "config", "user.name", who)
        os.chdir(repo.root)
        run("init")
        shared = {f"s{i}": f"shared {i}\n" * 40 for i in range(150)}
        own = {f"{who}{i}": f"{who} {i}\n" * 40 for i in range(150)}
        repo.gen({"d": {**shared, **own}})
        run("add", "d")
        store.add(run)
        run("remote", "modify", "r", "pack_size", "16KiB")  # many packs, interleaved
        repo.git("add", "-A")
        repo.git("commit", "-qm", who)
        repos.append(repo)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gitflowml", "push"],
            cwd=r.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for r in repos
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    _packs(store.files())  # every index names whole, valid bytes
    for repo in repos:
        clone = _clone(repo, tmp_path)
        assert _gfml(clone.root, "init").returncode == 0
        done = _gfml(clone.root, "pull")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("301 downloaded")


def test_an_interrupted_pack_write_leaves_no_index_and_the_next_push_resumes(
    data: Repo, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _dir_store(tmp_path / "remote")
    store.add(run)
    run("remote", "modify", "r", "pack_size", "4KiB")
    real_writer = remote_fs.RemoteFs.writer
    opened: list[str] = []

    def writer(self: remote_fs.RemoteFs, key: str) -> Any:
        opened.append(key)
        if len(opened) == 3:  # the third pack: a few bytes, then the disk fails
            return _failing(real_writer(self, key))
        return real_writer(self, key)

    monkeypatch.setattr(remote_fs.RemoteFs, "writer", writer)
    assert "Input/output error" in run("push", code=1).stderr
    monkeypatch.setattr(remote_fs.RemoteFs, "writer", real_writer)
    files = store.files()
    assert not [k for k in files if "tmp" in k]
    packed = {r.name for rows, _p in _packs(files).values() for r in rows}
    assert 0 < len(packed) < 61
    out = run("push").stdout
    moved = 62 - len(packed) - len(_loose(files))
    assert out == f"{moved} uploaded, {62 - moved} already present\n"
    data.git("add", "-A")
    data.git("commit", "-qm", "remote")
    os.chdir(_clone(data, tmp_path).root)
    run("init")
    assert run("pull").stdout.startswith("62 downloaded")


class _failing:
    """A pack writer whose disk fails after the first write."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __enter__(self) -> Callable[[bytes], None]:
        write = self.inner.__enter__()
        count = [0]

        def failing(chunk: bytes) -> None:
            count[0] += 1
            if count[0] > 1:
                raise OSError(5, "Input/output error")
            write(chunk)

        return failing

    def __exit__(self, *exc: Any) -> Any:
        return self.inner.__exit__(*exc)


class _Proxy:
    """A TCP forwarder on 127.0.0.1 in front of the S3 server: stopping it takes the
    endpoint away mid-request (connections cut, new ones refused) while the server behind
    keeps what it stored, as a real outage would."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.stopped:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 16):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.stopped = True
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()


def test_a_push_cut_off_by_its_server_resumes_with_only_what_is_missing(
    project: Repo, run: Run, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    proxy = _Proxy(int(s3_endpoint.rsplit(":", 1)[1]))
    endpoint = f"http://127.0.0.1:{proxy.port}"
    store = _s3_store(s3_endpoint, bucket)
    ENDPOINT[:] = [endpoint]
    project.gen({"d": {f"{i}.txt": f"file {i}\n" * 100 for i in range(300)}})
    run("add", "d")
    store.add(run)
    run("remote", "modify", "r", "pack_size", "16KiB")
    cut = threading.Event()

    def progress(step: str, done: int, _total: int, _nbytes: int) -> None:
        if step == "uploading" and done >= 100 and not cut.is_set():
            cut.set()
            proxy.stop()  # the endpoint goes away mid-push

    try:
        with pytest.raises(RemoteError, match="remote 'r'"):
            api.push(on_progress=progress, jobs=4)
        assert cut.is_set()
        files = store.files()
        packed = {r.name for rows, _p in _packs(files).values() for r in rows}  # all valid
        assert 64 <= len(packed) < 301
        proxy.start()
        report = api.push()
        assert (report.moved, report.present) == (301 - len(packed), len(packed))
    finally:
        proxy.stop()
    ENDPOINT[:] = [s3_endpoint]
    run("remote", "modify", "r", "endpoint_url", s3_endpoint)
    project.git("add", "-A")
    project.git("commit", "-qm", "pushed")
    clone = _clone(project, tmp_path)
    assert _gfml(clone.root, "init").returncode == 0
    done = _gfml(clone.root, "pull")
    assert done.returncode == 0, done.stderr
    assert (clone.root / "d" / "299.txt").read_text() == "file 299\n" * 100
