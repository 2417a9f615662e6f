#!/usr/bin/env python3
"""Does push/pull of many tiny files to S3 scale linearly? gitflowml only, on a moto server
on 127.0.0.1 (started and stopped here, by PID).

    python benchmarks/packs_scale.py --moto .venv/bin/moto_server \\
        --gitflowml .venv-bench/bin/gitflowml [--counts 20000,200000] [--kib 1] [--runs 1]

For each count it writes that many files of `--kib` KiB (random bytes, 100 to a directory),
adds them (untimed), then times `push` to a fresh bucket and `pull` into a fresh clone, and
prints seconds, objects/s, MB/s and microseconds per object. Time per object that does
not grow with the count is what is asked for. Stdlib only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ENV = {
    **os.environ,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "NO_PROXY": "127.0.0.1,localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@invalid",
}
for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE"):
    ENV.pop(proxy, None)


def sh(argv: list[str], cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return took


def start_moto(moto: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto_server did not start")


def bucket(endpoint: str, name: str) -> None:
    req = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    urllib.request.urlopen(req, timeout=30).close()


def fixture(root: Path, count: int, kib: int) -> None:
    for i in range(count):
        d = root / "many" / f"d{i // 100:05d}"
        if i % 100 == 0:
            d.mkdir(parents=True)
        (d / f"f{i:07d}.bin").write_bytes(os.urandom(kib * 1024))


def one(
    gfml: list[str], endpoint: str, work: Path, count: int, kib: int, n: int
) -> tuple[float, float]:
    repo = work / f"repo-{count}-{n}"
    repo.mkdir()
    sh(["git", "init", "-q"], repo)
    sh([*gfml, "init"], repo)
    fixture(repo, count, kib)
    sh([*gfml, "add", "many"], repo)
    name = f"scale-{count}-{n}"
    bucket(endpoint, name)
    sh([*gfml, "remote", "add", "-d", "s3", f"s3://{name}/cache"], repo)
    sh([*gfml, "remote", "modify", "s3", "endpoint_url", endpoint], repo)
    sh(["git", "add", "-A"], repo)
    sh(["git", "commit", "-qm", "data"], repo)
    push = timed([*gfml, "push"], repo)
    clone = work / f"clone-{count}-{n}"
    sh(["git", "clone", "-q", str(repo), str(clone)], work)
    sh([*gfml, "init"], clone)
    pull = timed([*gfml, "pull"], clone)
    shutil.rmtree(repo)
    shutil.rmtree(clone)
    return push, pull


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto", required=True)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--counts", default="20000,200000")
    ap.add_argument("--kib", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    gfml = args.gitflowml.split()
    proc, endpoint = start_moto(args.moto)
    try:
        with tempfile.TemporaryDirectory(prefix="gfml-scale-") as tmp:
            print("| files | step | seconds | objects/s | MB/s | µs per object |")
            print("|---|---|---|---|---|---|")
            for count in (int(c) for c in args.counts.split(",")):
                for n in range(args.runs):
                    push, pull = one(gfml, endpoint, Path(tmp), count, args.kib, n)
                    mb = count * args.kib * 1024 / 1e6
                    for step, took in (("push", push), ("pull", pull)):
                        print(
                            f"| {count} | {step} | {took:.2f} | {count / took:.0f} | "
                            f"{mb / took:.1f} | {took / count * 1e6:.0f} |",
                            flush=True,
                        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
