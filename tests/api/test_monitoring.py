"""GET /monitoring and the drift gauges: live traffic against the training data."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.candidates import point_latest, publish_copy
from training.train import TrainOptions, TrainResult, train

WINDOW = 1000
BATCH = 200


@pytest.fixture
def monitored(classic_settings: Settings) -> Iterator[TestClient]:
    settings = classic_settings.model_copy(
        update={
            "reload_interval": 0,
            "monitor_window": WINDOW,
            "monitor_min_seconds": 0.0,
            "monitor_bucket_seconds": 0.5,
        }
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _stream(classic_path: Path, seed: int, income_shift: float = 0.0) -> list[dict[str, object]]:
    """``WINDOW`` customers drawn from the training file (income shifted by ``income_shift``)."""
    frame = pd.read_csv(classic_path).sample(WINDOW, replace=True, random_state=seed)
    return [
        {"customer_id": f"L-{i}", "annual_income": income + income_shift, "spending_score": score}
        for i, (income, score) in enumerate(
            zip(frame["Annual Income (k$)"], frame["Spending Score (1-100)"], strict=True)
        )
    ]


def _send(client: TestClient, customers: list[dict[str, object]]) -> Counter[int]:
    segments: Counter[int] = Counter()
    for start in range(0, len(customers), BATCH):
        response = client.post(
            "/assign/batch", json={"customers": customers[start : start + BATCH]}
        )
        assert response.status_code == 200
        segments.update(a["segment_id"] for a in response.json()["assignments"])
    return segments


def test_read_monitoring_in_distribution_stays_ok(
    monitored: TestClient, classic_path: Path, classic_model: TrainResult
) -> None:
    customers = _stream(classic_path, seed=1)
    segments = _send(monitored, customers)
    body = monitored.get("/monitoring").json()
    assert (body["status"], body["reasons"]) == ("ok", [])
    assert (body["assignments"], body["workers"]) == (WINDOW, 1)
    assert {s["segment_id"]: s["live_count"] for s in body["segments"]} == {
        s.segment_id: segments[s.segment_id] for s in classic_model.profile.segments
    }
    income = body["features"][0]
    assert income["feature"] == "annual_income"
    assert income["live_mean"] == pytest.approx(np.mean([c["annual_income"] for c in customers]))
    train = np.array([s.share for s in classic_model.profile.segments])
    live = np.array([segments[s.segment_id] for s in classic_model.profile.segments]) / WINDOW
    psi = float(((np.maximum(live, 1e-4) - train) * np.log(np.maximum(live, 1e-4) / train)).sum())
    assert body["psi"] == pytest.approx(psi)
    assert body["psi"] < 0.1
    assert body["expected_atypical_rate"] == classic_model.manifest.atypical_share


def test_read_monitoring_income_shift_of_one_sd_turns_retrain(
    monitored: TestClient, classic_path: Path, classic_model: TrainResult
) -> None:
    _send(monitored, _stream(classic_path, seed=2))
    assert monitored.get("/monitoring").json()["status"] == "ok"
    time.sleep(0.6)  # the next bucket: the window (1,000 assignments) is the shifted stream
    sd = classic_model.profile.overall_numeric["annual_income"].std
    _send(monitored, _stream(classic_path, seed=3, income_shift=sd))
    body = monitored.get("/monitoring").json()
    assert body["status"] == "retrain"
    assert body["assignments"] == WINDOW
    assert body["features"][0]["shift_sd"] == pytest.approx(1.0, abs=0.15)
    assert any(r.startswith("annual_income mean moved +") for r in body["reasons"])
    assert body["psi"] >= 0.1  # the mix moves too (0.24 here), though the mean says it first
    metrics = monitored.get("/metrics").text
    version = classic_model.manifest.model_version
    assert f'segments_drift_status{{model_version="{version}"}} 2.0' in metrics
    assert re.search(
        rf'^segments_drift_feature_shift_sd\{{feature="annual_income",model_version="{version}"\}} '
        r"(0\.[89]|1\.[01])",
        metrics,
        re.M,
    )


def test_read_monitoring_too_few_assignments_is_ok_without_figures(
    monitored: TestClient,
) -> None:
    body = monitored.get("/monitoring").json()
    assert (body["status"], body["assignments"], body["psi"]) == ("ok", 0, None)
    assert body["reasons"] == ["0 assignments in the window, fewer than 100: too few to judge"]
    assert body["features"][0]["live_mean"] is None


def test_read_monitoring_off_is_404(classic_settings: Settings) -> None:
    settings = classic_settings.model_copy(update={"reload_interval": 0, "monitor": False})
    with TestClient(create_app(settings)) as client:
        response = client.get("/monitoring")
        assert (
            client.post(
                "/assign", json={"customer_id": "C-1", "annual_income": 50, "spending_score": 50}
            ).status_code
            == 200
        )
    assert response.status_code == 404
    assert response.json() == {"detail": "drift monitoring is off: SEG_MONITOR=false"}


def test_read_model_has_lineage(client: TestClient, classic_model: TrainResult) -> None:
    lineage = client.get("/model").json()["lineage"]
    assert lineage == {
        "previous_version": None,
        "matched": False,
        "reason": "fresh ids 0..4: first model in this models folder",
        "kept": [],
        "new": [0, 1, 2, 3, 4],
        "retired": [],
        "shared_customers": None,
        "changed_share": None,
        "ari": None,
    }


def test_reload_to_a_retrained_version_starts_an_empty_window_with_its_lineage(
    classic_model: TrainResult, classic_path: Path, tmp_path: Path
) -> None:
    old = publish_copy(classic_model.path, tmp_path)
    point_latest(tmp_path, old)
    settings = Settings(
        models_dir=tmp_path,
        reload_interval=0,
        admin_api_keys=("admin-key",),
        monitor_min_seconds=0.0,
    )
    customers = _stream(classic_path, seed=4)
    with TestClient(create_app(settings)) as client:
        _send(client, customers[:400])
        assert client.get("/monitoring").json()["assignments"] == 400
        # A retrain with one more segment, matched to the version served (LATEST).
        options = TrainOptions(
            data=classic_path, models_dir=tmp_path, k=6, k_max=6, report=False, compare=False
        )
        new = train(options).manifest.model_version
        reload = client.post("/admin/reload", headers={"X-API-Key": "admin-key"})
        assert (reload.status_code, reload.json()["model_version"]) == (200, new)
        body = client.get("/monitoring").json()
        assert (body["model_version"], body["assignments"], body["status"]) == (new, 0, "ok")
        assert [s["segment_id"] for s in body["segments"]] == [0, 1, 2, 3, 4, 5]
        sent = _send(client, customers[400:600])
        body = client.get("/monitoring").json()
        assert body["assignments"] == 200
        mix = body["segments"]  # by id, while the model's labels are in another order
        live = np.maximum([s["live_share"] for s in mix], 1e-4)
        train_ = np.array([s["training_share"] for s in mix])
        assert body["psi"] == pytest.approx(float(((live - train_) * np.log(live / train_)).sum()))
        assert {s["segment_id"]: s["live_count"] for s in body["segments"]} == {
            sid: sent[sid] for sid in range(6)
        }
        lineage = client.get("/model").json()["lineage"]
        since = {
            s["segment_id"]: s["since_version"] for s in client.get("/segments").json()["segments"]
        }
    assert (lineage["previous_version"], lineage["new"], lineage["retired"]) == (old, [5], [])
    assert lineage["kept"] == [0, 1, 2, 3, 4]
    assert since == {0: old, 1: old, 2: old, 3: old, 4: old, 5: new}


def test_read_monitoring_ignores_the_openapi_examples(monitored: TestClient) -> None:
    assert monitored.get("/openapi.json").status_code == 200  # scores its made-up examples
    assert monitored.get("/monitoring").json()["assignments"] == 0
