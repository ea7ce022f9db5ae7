"""`segments serve` as a real process against hostile connections, each check bounded in time.

Big headers are refused (431, or the connection closed) with the worker's memory flat;
a request head sent too slowly is cut off after SEG_HEADER_TIMEOUT; with the open-files
limit at 256, 600 half-sent requests (2.4 times the limit, as 2,400 against systemd's
1,024) leave /health/live answering.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.config import Settings

pytestmark = pytest.mark.slow

SEGMENTS = Path(sys.executable).with_name("segments")
HEADER_TIMEOUT = 2.0
NOFILE = 256
HALF_OPEN = 600
HEAD = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _low_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, hard))


@pytest.fixture(scope="module")
def served(classic_settings: Settings) -> Iterator[tuple[int, int]]:
    """(port, pid) of `segments serve` with a 2 s header timeout and 256 open files."""
    port = _free_port()
    env = os.environ | {"SEG_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "SEG_RELOAD_INTERVAL": "0.5"}
    process = subprocess.Popen(
        [
            str(SEGMENTS),
            "serve",
            f"--port={port}",
            f"--models-dir={classic_settings.models_dir}",
            f"--model-version={classic_settings.model_version}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        preexec_fn=_low_nofile,
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "segments serve stopped"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "segments serve did not start"
        time.sleep(0.1)
    try:
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def test_header_over_the_limit_is_answered_431(served: tuple[int, int]) -> None:
    port, _pid = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(HEAD + b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        answer = _read_all(conn)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert answer.endswith(b"request line and headers over 16384 bytes (SEG_MAX_HEADER_BYTES)")


def test_endless_header_is_cut_off_with_memory_flat(served: tuple[int, int]) -> None:
    port, pid = served
    before = _rss_mb(pid)
    sent, limit = 0, 32 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(HEAD + b"X-Big: ")
        chunk = b"a" * 65536
        try:
            while sent < limit:
                conn.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(conn)
    assert sent < limit, "the server read a 32 MB header"
    assert answer in (b"",) or answer.startswith(b"HTTP/1.1 431 ")
    assert _rss_mb(pid) - before < 20


def test_slow_request_head_times_out(served: tuple[int, int]) -> None:
    port, _pid = served
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(HEAD)
        conn.settimeout(0.5)
        answer = b""
        while time.monotonic() - started < HEADER_TIMEOUT + 5:
            try:
                conn.sendall(b"X-Slow: 1\r\n")  # one header line every 0.5 s
                if (chunk := conn.recv(65536)) == b"":
                    break
                answer += chunk
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert HEADER_TIMEOUT - 0.1 <= elapsed < HEADER_TIMEOUT + 2  # uvloop timers: ms steps


def test_silent_connection_times_out(served: tuple[int, int]) -> None:
    port, _pid = served
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT + 5) as conn:
        answer = _read_all(conn)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert time.monotonic() - started < HEADER_TIMEOUT + 2


def test_liveness_answers_through_half_sent_requests(served: tuple[int, int]) -> None:
    port, _pid = served
    attackers: list[socket.socket] = []
    latencies: list[float] = []
    try:
        for _ in range(HALF_OPEN):
            conn = socket.socket()
            conn.setblocking(False)
            conn.connect_ex(("127.0.0.1", port))
            attackers.append(conn)
        time.sleep(0.2)
        for conn in attackers:
            with contextlib.suppress(OSError):  # closed by the server to make room
                conn.send(HEAD)
        with httpx.Client(timeout=5) as probe:
            for _ in range(20):
                started = time.monotonic()
                response = probe.get(
                    f"http://127.0.0.1:{port}/health/live", headers={"connection": "close"}
                )
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
        assert ready.status_code == 200
    finally:
        for conn in attackers:
            conn.close()
    assert max(latencies) < 1.0, latencies
