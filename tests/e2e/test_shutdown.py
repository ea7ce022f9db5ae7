"""`segments serve` as a real process: graceful shutdown on SIGTERM, JSON logs.

A request whose body is still arriving when SIGTERM comes is answered 200 once the body
is complete; a new connection after SIGTERM is refused; every log line is one JSON object.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.config import Settings

SEGMENTS = Path(sys.executable).with_name("segments")
BODY = b'{"customer_id": "SLOW-CUSTOMER", "annual_income": 85, "spending_score": 90}'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(settings: Settings, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            str(SEGMENTS),
            "serve",
            f"--port={port}",
            f"--models-dir={settings.models_dir}",
            f"--model-version={settings.model_version}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONWARNINGS": "error", "SEG_RELOAD_INTERVAL": "0.5"},
    )
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "segments serve did not start"
        time.sleep(0.1)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _read_response(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_interim(conn: socket.socket) -> bytes:
    """One interim response (status line and headers), byte by byte: nothing more is read."""
    received = b""
    while not received.endswith(b"\r\n\r\n"):
        byte = conn.recv(1)
        assert byte, f"the connection closed after {received!r}"
        received += byte
    return received


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(
    classic_settings: Settings,
) -> None:
    port = _free_port()
    process = _start(classic_settings, port)
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = (
            f"POST /assign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\nExpect: 100-continue\r\n\r\n"
        ).encode()
        conn.sendall(head + BODY[:10])  # headers and the first bytes: the request is open
        # uvicorn sends 100 Continue when the app first asks for the body: from then on the
        # request is in flight in the server, however loaded the machine.
        assert _read_interim(conn) == b"HTTP/1.1 100 Continue\r\n\r\n"
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not _refused(port):
            assert time.monotonic() < deadline, "new connections were still accepted"
            time.sleep(0.05)
        for start in range(10, len(BODY), 10):  # the rest, slowly
            conn.sendall(BODY[start : start + 10])
            time.sleep(0.05)
        response = _read_response(conn)
        conn.close()
        output = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", response
    answer = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert (answer["customer_id"], answer["model_version"]) == (
        "SLOW-CUSTOMER",
        classic_settings.model_version,
    )
    assert process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    _assert_json_logs(output, classic_settings)


def _assert_json_logs(output: str, settings: Settings) -> None:
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert "Application shutdown complete." in messages
    assert "SLOW-CUSTOMER" not in output
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access_lines = [line for line in lines if line["logger"] == "service.access"]
    [access] = [line for line in access_lines if line["route"] == "/assign"]
    assert {k: access[k] for k in ("method", "route", "status", "model_version")} == {
        "method": "POST",
        "route": "/assign",
        "status": 200,
        "model_version": settings.model_version,
    }
    served = [line for line in lines if line["message"].startswith("serving model")]
    assert [line["model_version"] for line in served] == [settings.model_version]
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
