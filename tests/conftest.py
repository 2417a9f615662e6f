"""Fixtures shared by every test: an isolated home, real git repositories, a CLI runner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gitflowml.cli.main import cli

Tree = Mapping[str, "str | bytes | Tree"]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never read or write the user's home, git config or AWS settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # gitflowml's global level
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(home / "etc-xdg"))  # and its system level
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in list(os.environ):
        if name.startswith("GITFLOWML_"):
            monkeypatch.delenv(name)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@dataclass
class Repo:
    root: Path

    def gen(self, tree: Tree, commit: str | None = None) -> None:
        """Write files (nested dicts are directories); optionally commit them."""
        _write_tree(self.root, tree)
        if commit:
            git(self.root, "add", "-A")
            git(self.root, "commit", "-qm", commit)

    def age(self, seconds: int = 3600) -> None:
        """Move every mtime into the past, so the state cache trusts what it hashes now
        (files modified just before they were hashed are re-read once; see state.RACY_NS)."""
        past = time.time_ns() - seconds * 10**9
        for path in self.root.rglob("*"):
            if ".git" not in path.relative_to(self.root).parts[:1] and not path.is_symlink():
                os.utime(path, ns=(past, past))

    def git(self, *args: str) -> str:
        return git(self.root, *args)


def _write_tree(base: Path, tree: Tree) -> None:
    for name, content in tree.items():
        path = base / name
        if isinstance(content, str | bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        else:
            path.mkdir(parents=True, exist_ok=True)
            _write_tree(path, content)


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.invalid")
    monkeypatch.chdir(root)
    return Repo(root.resolve())


Run = Callable[..., Result]


@pytest.fixture
def run() -> Run:
    """`run("add", "data")` invokes the CLI in-process; `code=` states the expected exit code."""
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, (
            f"gitflowml {' '.join(args)} exited {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    return invoke


@pytest.fixture
def project(git_repo: Repo, run: Run) -> Repo:
    run("init")
    return git_repo


# -- the S3 server: moto_server on 127.0.0.1, started and stopped by PID ----------------------
MOTO = str(Path(sys.executable).parent / "moto_server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_moto(extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true", **extra_env}
    proc = subprocess.Popen(
        [MOTO, "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            return proc, endpoint
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("moto_server exited at start-up") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not answer within 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, 15)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, 9)
        proc.wait()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    proc, endpoint = _start_moto({})
    try:
        yield endpoint
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def s3_endpoint_with_auth() -> Iterator[str]:
    """A server that checks credentials: it knows none, so every key pair is refused."""
    proc, endpoint = _start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    try:
        yield endpoint
    finally:
        _stop(proc)


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    import s3fs

    name = f"gfml-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(
        key="testing",
        secret="testing",
        client_kwargs={"endpoint_url": s3_endpoint},
        skip_instance_cache=True,
    )
    fs.mkdir(name)
    return name
