"""`segments serve --workers 2`: every worker converges on a new version by itself, refuses a
broken one, and GET /metrics (answered by either worker) adds up both workers' metrics."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.candidates import break_artifact, point_latest, publish_copy
from tests.e2e.test_shutdown import SEGMENTS, _free_port
from training.train import TrainResult

INTERVAL = 0.2
CUSTOMER = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}


@pytest.fixture
def two_workers(classic_model: TrainResult, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    models = tmp_path / "models"
    version = publish_copy(classic_model.path, models)
    point_latest(models, version)
    port = _free_port()
    env = os.environ | {"SEG_RELOAD_INTERVAL": str(INTERVAL), "PYTHONWARNINGS": "error"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [str(SEGMENTS), "serve", f"--port={port}", "--workers=2", f"--models-dir={models}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: len(_serving(url)) == 2, "both workers to start", seconds=90)
        yield url, models, version
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _metrics(url: str) -> str:
    try:
        return httpx.get(url + "/metrics", timeout=5).text
    except httpx.TransportError:
        return ""


def _serving(url: str) -> dict[str, str]:
    """pid -> the version that worker serves, from the workers' own gauges."""
    pattern = r'^segments_model_info\{model_version="([^"]+)",pid="(\d+)"\} 1\.0$'
    return {pid: version for version, pid in re.findall(pattern, _metrics(url), re.M)}


def _wait(condition: object, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_workers_converge_on_a_new_version_and_refuse_a_broken_one(
    two_workers: tuple[str, Path, str], classic_model: TrainResult
) -> None:
    url, models, old = two_workers
    assert set(_serving(url).values()) == {old}
    new = publish_copy(classic_model.path, models)
    point_latest(models, new)
    _wait(lambda: set(_serving(url).values()) == {new}, "both workers to serve the new version")
    with httpx.Client(base_url=url) as client:
        for _ in range(10):
            assert client.post("/assign", json=CUSTOMER).headers["x-model-version"] == new
    bad = publish_copy(classic_model.path, models)
    break_artifact(models / bad, "bit-flipped")
    point_latest(models, bad)
    refused = re.compile(
        rf'^segments_model_refused_info\{{kind="checksum",model_version="{bad}",pid="\d+"\}} 1\.0$',
        re.M,
    )
    _wait(lambda: len(refused.findall(_metrics(url))) == 2, "both workers to refuse it")
    text = _metrics(url)
    assert 'segments_model_reloads_refused_total{kind="checksum"} 2.0' in text.splitlines()
    assert "segments_model_reloads_total 2.0" in text.splitlines()
    assert set(_serving(url).values()) == {new}
    ready = httpx.get(url + "/health/ready").json()
    assert (ready["model_version"], ready["refused"]["model_version"]) == (new, bad)
    assert 'segments_assignments_total{segment="' in text
