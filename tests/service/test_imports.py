"""The service process never imports plotting or training-only code."""

from __future__ import annotations

import ast
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
    "dashboard",  # the dashboard is a client of the API, never part of it
    "streamlit",
    "plotly",
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


ROOT = Path(__file__).resolve().parents[2]


def _importers(folder: str, target: str) -> list[str]:
    """Modules in ``folder`` (or that file) importing ``target``, even under TYPE_CHECKING."""
    found = []
    where = ROOT / folder
    for path in [where] if where.is_file() else sorted(where.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        if any(name == target or name.startswith(f"{target}.") for name in names):
            found.append(str(path.relative_to(ROOT)))
    return found


def test_training_never_imports_service() -> None:
    assert _importers("training", "service") == []


def test_report_never_imports_train() -> None:
    assert _importers("training/report", "training.train") == []


def test_cli_help_imports_no_heavy_library() -> None:
    # What keeps `segments --help` under a second: pandas, numpy and sklearn load per command.
    script = "import sys, service.cli; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert loaded & {"pandas", "numpy", "sklearn", "pyarrow", "fastapi", "matplotlib"} == set()


def test_reload_checks_never_import_the_model_holder() -> None:
    # service.state imports service.candidate: the reverse would be a cycle.
    assert _importers("service/candidate.py", "service.state") == []
