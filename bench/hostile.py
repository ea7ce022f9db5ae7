"""Hostile connections against `segments serve` (1 worker, open files at 1,024) on 127.0.0.1.

Measures, against the same server: the worker's RSS growth while one client sends a
100 MB header; how long a header sent one line every 2 s keeps its connection; and the
/health/live latencies (p50, p99, max, failures) while 2,400 half-sent requests are held
open. Set BENCH_SCALE=0.25 for a quick run (25 MB header, 600 connections, nofile 256).

    .venv/bin/python bench/hostile.py [models_dir]
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
NOFILE = int(1024 * SCALE)
CONNECTIONS = int(2400 * SCALE)
HEADER_MB = int(100 * SCALE)
HEAD = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def _limit() -> None:
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    )


def _start(models: Path, port: int) -> subprocess.Popen[bytes]:
    segments = Path(sys.executable).with_name("segments")
    args = [str(segments), "serve", f"--port={port}", f"--models-dir={models}"]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_limit
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("segments serve did not start")


def _rss(pid: int) -> float:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(x for x in lines if x.startswith("VmRSS:")).split()[1]) / 1024


def big_header(port: int, pid: int) -> None:
    before, sent = _rss(pid), 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(HEAD + b"X-Big: ")
        try:
            while sent < HEADER_MB << 20:
                conn.sendall(b"a" * 65536)
                sent += 65536
        except OSError:
            pass
    print(
        f"{HEADER_MB} MB header: server closed after {sent / 2**20:.2f} MB sent, "
        f"RSS growth {_rss(pid) - before:+.1f} MB"
    )


def slow_header(port: int) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        conn.sendall(HEAD)
        try:
            while time.monotonic() - started < 80:
                conn.sendall(b"X-Slow: 1\r\n")
                try:
                    if conn.recv(65536) == b"":
                        break
                except TimeoutError:
                    pass
        except OSError:
            pass
    print(f"one header line every 2 s: connection closed after {time.monotonic() - started:.1f} s")


def flood(port: int) -> None:
    attackers = []
    for _ in range(CONNECTIONS):
        conn = socket.socket()
        conn.setblocking(False)
        conn.connect_ex(("127.0.0.1", port))
        attackers.append(conn)
    time.sleep(0.5)
    for conn in attackers:
        with contextlib.suppress(OSError):  # closed by the server to make room
            conn.send(HEAD)
    latencies, failures = [], 0
    with httpx.Client(timeout=5) as probe:
        for _ in range(200):
            started = time.monotonic()
            try:
                ok = probe.get(f"http://127.0.0.1:{port}/health/live").status_code == 200
            except httpx.TransportError:
                ok = False
            latencies.append(time.monotonic() - started)
            failures += not ok
            time.sleep(0.02)
    for conn in attackers:
        conn.close()
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{CONNECTIONS} half-sent requests, nofile {NOFILE}: /health/live p50 "
        f"{q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms,"
        f" {failures}/200 failed"
    )


def main() -> None:
    models = Path(sys.argv[1] if len(sys.argv) > 1 else "models")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _start(models, port)
    try:
        big_header(port, process.pid)
        flood(port)
        slow_header(port)
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
