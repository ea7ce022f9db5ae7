"""The commands end to end: `segments assign` answers like the API; `segments serve` serves."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings

SEGMENTS = Path(sys.executable).with_name("segments")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEGMENTS), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_assign_command_matches_the_api_for_every_row(
    http: httpx.Client, classic_path: Path, classic_settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "assigned.csv"
    done = _run(
        "assign",
        "--input",
        str(classic_path),
        "--output",
        str(output),
        "--models-dir",
        str(classic_settings.models_dir),
        "--model-version",
        str(classic_settings.model_version),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"200 of 200 customers assigned by model {classic_settings.model_version}"
    )
    with output.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with classic_path.open(newline="") as handle:
        source = list(csv.DictReader(handle))
    customers = [
        {
            "customer_id": row["CustomerID"],
            "annual_income": float(row["Annual Income (k$)"]),
            "spending_score": float(row["Spending Score (1-100)"]),
            "age": float(row["Age"]),
            "gender": row["Genre"],
        }
        for row in source
    ]
    envelope = http.post("/assign/batch", json={"customers": customers}).json()
    api = envelope["assignments"]
    assert len(rows) == len(api) == 200
    for row, answer in zip(rows, api, strict=True):
        assert row["customer_id"] == answer["customer_id"]
        assert int(row["segment_id"]) == answer["segment_id"]
        assert row["segment_name"] == answer["segment_name"]
        assert_allclose(float(row["distance"]), answer["distance"], rtol=1e-15)
        assert_allclose(float(row["confidence"]), answer["confidence"], rtol=1e-15)
        assert row["atypical"] == str(answer["atypical"]).lower()
        assert row["imputed"] == ";".join(answer["imputed"])
        assert row["model_version"] == envelope["model_version"]
    assert (tmp_path / "assigned.rejected.csv").read_text().splitlines() == [
        '"source_row","CustomerID","Genre","Age","Annual Income (k$)",'
        '"Spending Score (1-100)","reason"'
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_command_serves_until_terminated(classic_settings: Settings) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            str(SEGMENTS),
            "serve",
            f"--port={port}",
            f"--models-dir={classic_settings.models_dir}",
            f"--model-version={classic_settings.model_version}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONWARNINGS": "error"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "segments serve did not start"
                time.sleep(0.2)
        assert response.json() == {
            "status": "ready",
            "model_version": classic_settings.model_version,
        }
        assert "server" not in response.headers
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert "Application shutdown complete" in output
    assert process.returncode in (0, -signal.SIGTERM)


def test_serve_command_refuses_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEG_MODEL_VERSION", "")  # restored afterwards: serve sets it
    done = CliRunner().invoke(app, ["serve", "--model-version", "../../etc"])
    assert done.exit_code == 2
    assert done.stderr.strip() == (
        "error: SEG_MODEL_VERSION='../../etc': invalid model version '../../etc': use letters, "
        "digits, '.', '_' and '-' only"
    )
