#!/usr/bin/env python3
"""`push` of many small files to a moto S3 server on 127.0.0.1: gitflowml vs DVC, interleaved.

    python benchmarks/s3_push.py --moto .venv/bin/moto_server \\
        --gitflowml .venv-bench/bin/gitflowml --dvc /tmp/dvc-venv/bin/dvc \\
        [--files 20000] [--runs 3] [--source DIR]

DVC needs its S3 support (`pip install 'dvc[s3]'` in its own venv). Each round pushes to a
fresh prefix of one bucket, so every push uploads everything. Each round also measures the
server's own ceiling: the same number of 4 KiB PUTs from a bare HTTP client (no signing,
no checksums, four keep-alive connections), which no client that stores one object per
key can beat. Stdlib only; the server is started and stopped here, by PID, and nothing
talks to any address but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

ENV = {
    **os.environ,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "DVC_NO_ANALYTICS": "1",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@invalid",
}


def sh(argv: list[str], cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True)


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")
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
    raise SystemExit("moto_server did not start")


def make_bucket(endpoint: str, name: str) -> None:
    req = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    urllib.request.urlopen(req, timeout=10).close()


def bare_puts(endpoint: str, prefix: str, count: int, conns: int = 4) -> float:
    """Seconds for `count` PUTs of 4 KiB to `bench/<prefix>/…` from a bare client."""
    host, port = endpoint.removeprefix("http://").split(":")
    body = os.urandom(4096)
    failed: list[int] = []

    def put(first: int) -> None:
        conn = HTTPConnection(host, int(port), timeout=60)
        try:
            for i in range(first, count, conns):
                conn.request("PUT", f"/bench/{prefix}/{i % 256:02x}/{i:030x}", body=body)
                reply = conn.getresponse()
                reply.read()
                if reply.status != 200:
                    failed.append(reply.status)
        finally:
            conn.close()

    threads = [threading.Thread(target=put, args=(k,)) for k in range(conns)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    if failed:
        raise SystemExit(f"bare PUTs failed with HTTP {failed[0]}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--gitflowml", required=True)
    ap.add_argument("--dvc", required=True)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--source", type=Path, help="a directory of files to push (default: made)")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gfml-s3-bench-"))
    proc, endpoint = start_moto(a.moto)
    try:
        make_bucket(endpoint, "bench")
        data = work / "data"
        if a.source:
            shutil.copytree(a.source, data)
        else:
            for i in range(a.files):
                sub = data / f"d{i // 100:03d}"
                sub.mkdir(parents=True, exist_ok=True)
                (sub / f"f{i:05d}.bin").write_bytes(os.urandom(4096))
        nfiles = sum(1 for p in data.rglob("*") if p.is_file())
        repos = {}
        for tool in ("gitflowml", "dvc"):
            root = work / tool
            root.mkdir()
            sh(["git", "init", "-q"], root)
            shutil.copytree(data, root / "data")
            exe = a.gitflowml if tool == "gitflowml" else a.dvc
            sh([exe, "init"] + (["-q"] if tool == "dvc" else []), root)
            sh([exe, "add", "data"], root)
            repos[tool] = (exe, root)
        samples: dict[str, list[float]] = {"gitflowml": [], "dvc": [], "bare": []}
        for run in range(a.runs + 1):  # the first round is a warm-up
            for tool, (exe, root) in repos.items():
                url = f"s3://bench/{tool}-{run}"
                if tool == "gitflowml":
                    sh([exe, "remote", "add", f"r{run}", url], root)
                    sh([exe, "remote", "modify", f"r{run}", "endpoint_url", endpoint], root)
                    took = timed([exe, "push", "-r", f"r{run}"], root)
                else:
                    sh([exe, "remote", "add", f"r{run}", url], root)
                    sh([exe, "remote", "modify", f"r{run}", "endpointurl", endpoint], root)
                    took = timed([exe, "push", "-r", f"r{run}"], root)
                print(f"round {run} {tool}: {took:.2f} s", file=sys.stderr)
                if run:
                    samples[tool].append(took)
            took = bare_puts(endpoint, f"bare-{run}", nfiles)
            print(f"round {run} bare PUTs: {took:.2f} s", file=sys.stderr)
            if run:
                samples["bare"].append(took)
        g, d = statistics.median(samples["gitflowml"]), statistics.median(samples["dvc"])
        b = statistics.median(samples["bare"])
        print(f"| push {nfiles} files to moto S3 | gitflowml | DVC | DVC/gitflowml |")
        print("|---|---|---|---|")
        print(
            f"| median s (min-max) | {g:.2f} ({min(samples['gitflowml']):.2f}-"
            f"{max(samples['gitflowml']):.2f}) | {d:.2f} ({min(samples['dvc']):.2f}-"
            f"{max(samples['dvc']):.2f}) | {d / g:.2f}x |"
        )
        print(f"| objects/s | {nfiles / g:.0f} | {nfiles / d:.0f} | |")
        print(
            f"\nServer ceiling (bare PUTs): {b:.2f} s, {nfiles / b:.0f} objects/s; "
            f"DVC/ceiling {d / b:.2f}x is the most any one-object-per-key client can gain "
            "over DVC against this server."
        )
    finally:
        proc.terminate()  # a server holding many objects may take long to exit: then kill
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
