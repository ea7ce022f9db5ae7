"""A hostile ``LATEST`` (a symlink to /etc/passwd, 20 MB) is never echoed: not in an answer,
not in a log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app

PASSWD = Path("/etc/passwd")
FILLER = b"root:x:0:0:root:/root:/bin/bash\n"
EXPECTED = "it should hold one line, a model version name"


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("symlink to /etc/passwd", "is a symbolic link (refused)"),
        ("20 MB", "is larger than 256 bytes"),
    ],
)
def test_read_health_ready_never_echoes_latest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str, problem: str
) -> None:
    latest = tmp_path / "LATEST"
    if case == "20 MB":
        latest.write_bytes(FILLER * (20 * 2**20 // len(FILLER)))
    else:
        latest.symlink_to(PASSWD)
    caplog.set_level(logging.INFO)
    with TestClient(create_app(Settings(models_dir=tmp_path))) as client:
        ready = client.get("/health/ready")
    detail = f"no model loaded: SEG_MODELS_DIR/LATEST {problem}: {EXPECTED}"
    assert (ready.status_code, ready.json()) == (503, {"detail": detail})
    assert len(ready.content) < 200
    assert "root:" not in caplog.text
    assert max(len(record.getMessage()) for record in caplog.records) < 300
