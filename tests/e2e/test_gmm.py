"""A Gaussian-mixture artifact served end to end: real uvicorn, the API and the batch CLI."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from numpy.testing import assert_allclose

from service.config import Settings
from service.schemas import ProfileOut
from tests.e2e.conftest import ThreadedServer
from training.pipeline import model_step
from training.train import TrainResult

SEGMENTS = Path(sys.executable).with_name("segments")


@pytest.fixture(scope="module")
def gmm_http(gmm_settings: Settings) -> Iterator[httpx.Client]:
    with (
        ThreadedServer(gmm_settings) as running,
        httpx.Client(base_url=running.url, timeout=30) as client,
    ):
        yield client


def _customers(path: Path) -> list[dict[str, object]]:
    with path.open(newline="") as handle:
        return [
            {
                "customer_id": row["CustomerID"],
                "annual_income": float(row["Annual Income (k$)"]),
                "spending_score": float(row["Spending Score (1-100)"]),
            }
            for row in csv.DictReader(handle)
        ]


def test_assign_customer_with_a_mixture_answers_its_posterior(
    gmm_http: httpx.Client, gmm_model: TrainResult
) -> None:
    body = gmm_http.post(
        "/assign", json={"customer_id": "z", "annual_income": 70, "spending_score": 40}
    ).json()
    X = gmm_model.pipeline.named_steps["preprocess"].transform(
        gmm_model.cleaning.cleaned.head(0)
        .reindex([0])
        .assign(annual_income=70.0, spending_score=40.0)
    )
    gmm = model_step(gmm_model.pipeline)
    segment = int(gmm.predict(X)[0])
    assert body["segment_id"] == segment
    assert body["model_version"] == gmm_model.manifest.model_version
    assert_allclose(body["confidence"], gmm.predict_proba(X)[0, segment], rtol=1e-9)
    assert_allclose(body["distance"], np.linalg.norm(X[0] - gmm.means_[segment]), rtol=1e-9)
    assert body["atypical"] is False


def test_assign_batch_with_a_mixture_equals_training_labels(
    gmm_http: httpx.Client, gmm_model: TrainResult, classic_path: Path
) -> None:
    customers = _customers(classic_path)
    answers = gmm_http.post("/assign/batch", json={"customers": customers}).json()["assignments"]
    assert [a["segment_id"] for a in answers] == gmm_model.labels.tolist()
    # The floor is the training 1st percentile: 2 of the 200 training customers lie below it.
    assert sum(a["atypical"] for a in answers) == 2
    assert gmm_model.manifest.log_likelihood_p01 is not None


def test_read_profile_of_a_mixture_has_the_comparison(
    gmm_http: httpx.Client, gmm_model: TrainResult
) -> None:
    body = ProfileOut.model_validate(gmm_http.get("/profile").json())
    assert body.comparison == gmm_model.manifest.comparison
    assert body.comparison is not None
    assert [r.algorithm for r in body.comparison.rows if r.served] == ["gmm"]
    assert body.selection.rule.startswith("Gaussian mixture: eligible k")


def test_assign_command_with_a_mixture_matches_the_api(
    gmm_http: httpx.Client, gmm_settings: Settings, classic_path: Path, tmp_path: Path
) -> None:
    output = tmp_path / "assigned.csv"
    done = subprocess.run(
        [
            str(SEGMENTS), "assign", "--input", str(classic_path), "--output", str(output),
            "--models-dir", str(gmm_settings.models_dir),
            "--model-version", str(gmm_settings.model_version),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with output.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    customers = _customers(classic_path)
    api = gmm_http.post("/assign/batch", json={"customers": customers}).json()["assignments"]
    assert len(rows) == len(api) == 200
    for row, answer in zip(rows, api, strict=True):
        assert int(row["segment_id"]) == answer["segment_id"]
        assert_allclose(float(row["confidence"]), answer["confidence"], rtol=1e-15)
        assert_allclose(float(row["distance"]), answer["distance"], rtol=1e-15)
        assert row["atypical"] == str(answer["atypical"]).lower()
