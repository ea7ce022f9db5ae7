"""The service process never imports plotting or training-only code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from service.config import Settings

FORBIDDEN = (
    "matplotlib",
    "kneed",
    "training.train",
    "training.selection",
    "training.comparison",
    "training.profiling",
    "training.report",
    "training.cli",
    # Our Dask engine. (dask itself may load in a dev venv that has it: skops imports every
    # sklearn module, sklearn's array-api shim for dask among them; `make image-steps`
    # checks that the service's own install has no Dask at all.)
    "training.dask",
)

SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from service.main import app_factory

with TestClient(app_factory()) as client:
    statuses = [
        client.post("/assign", json={"customer_id": "a", "annual_income": 5}).status_code,
        client.post("/assign/batch", json={"customers": [{"customer_id": "a"}]}).status_code,
        *(client.get(url).status_code for url in (
            "/segments", "/segments/0", "/profile", "/profile/report",
            "/profile/figures/sizes.png", "/model", "/health/ready", "/openapi.json",
        )),
    ]
print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules)}))
"""


def test_service_process_never_imports_training_only_code(classic_settings: Settings) -> None:
    env = os.environ | {
        "SEG_MODELS_DIR": str(classic_settings.models_dir),
        "SEG_MODEL_VERSION": str(classic_settings.model_version),
    }
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["statuses"][:2] == [200, 422]
    assert result["statuses"][2:5] == [200, 200, 200]
    imported = [m for m in result["modules"] if m.split(".")[0] in ("matplotlib", "kneed")]
    imported += [m for m in result["modules"] if m.startswith(FORBIDDEN[2:])]
    assert imported == []
