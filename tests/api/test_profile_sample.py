"""GET /profile/sample: training customers' cluster features and segment; no ids, no profile."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.sample import _column
from training.artifact import load_artifact, read_cleaned
from training.train import TrainResult

KEY = "sample-key"


@pytest.fixture(scope="module")
def keyed(classic_settings: Settings) -> Iterator[TestClient]:
    settings = classic_settings.model_copy(update={"api_keys": (KEY,), "reload_interval": 0})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def sample(keyed: TestClient) -> Iterator[TestClient]:
    """The keyed service, each call with the key: the sample is served only behind keys."""
    keyed.headers["X-API-Key"] = KEY
    yield keyed
    del keyed.headers["X-API-Key"]


def test_read_profile_sample_holds_cluster_features_and_segments_only(
    sample: TestClient, classic_model: TrainResult
) -> None:
    response = sample.get("/profile/sample", params={"n": 50})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"model_version", "n_customers", "seed", "columns", "segment_id"}
    assert list(body["columns"]) == ["annual_income", "spending_score"]
    assert [len(v) for v in body["columns"].values()] == [50, 50]
    assert len(body["segment_id"]) == 50
    assert (body["n_customers"], body["seed"]) == (classic_model.profile.n_customers, 0)
    assert body["model_version"] == classic_model.path.name


def test_read_profile_sample_is_the_training_rows_with_their_segments(
    sample: TestClient, classic_model: TrainResult
) -> None:
    body = sample.get("/profile/sample", params={"n": 5000}).json()
    cleaned = read_cleaned(load_artifact(classic_model.path.parent, classic_model.path.name))
    assert len(body["segment_id"]) == len(cleaned)  # fewer rows than asked: all of them
    columns = body["columns"]
    sampled = Counter(
        zip(columns["annual_income"], columns["spending_score"], body["segment_id"], strict=True)
    )
    training = Counter(
        zip(cleaned["annual_income"], cleaned["spending_score"], cleaned["segment"], strict=True)
    )
    assert sampled == training


def test_read_profile_sample_of_a_gaussian_mixture(
    gmm_settings: Settings, gmm_model: TrainResult
) -> None:
    settings = gmm_settings.model_copy(update={"reload_interval": 0, "api_keys": (KEY,)})
    with TestClient(create_app(settings), headers={"X-API-Key": KEY}) as gmm:
        body = gmm.get("/profile/sample", params={"n": 5000}).json()
    cleaned = read_cleaned(load_artifact(gmm_model.path.parent, gmm_model.path.name))
    columns = body["columns"]
    sampled = Counter(
        zip(columns["annual_income"], columns["spending_score"], body["segment_id"], strict=True)
    )
    training = Counter(
        zip(cleaned["annual_income"], cleaned["spending_score"], cleaned["segment"], strict=True)
    )
    assert sampled == training


def test_read_profile_sample_is_fixed_and_nested(sample: TestClient) -> None:
    small = sample.get("/profile/sample", params={"n": 20}).json()
    large = sample.get("/profile/sample").json()
    assert sample.get("/profile/sample", params={"n": 20}).json() == small
    assert small["segment_id"] == large["segment_id"][:20]
    assert small["columns"]["annual_income"] == large["columns"]["annual_income"][:20]
    assert small["segment_id"] != sorted(small["segment_id"])  # shuffled, not file order


@pytest.mark.parametrize(
    ("n", "message"),
    [
        ("0", "Input should be greater than or equal to 1"),
        ("5001", "Input should be less than or equal to 5000"),
        ("ten", "Input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_read_profile_sample_bounds_n(sample: TestClient, n: str, message: str) -> None:
    response = sample.get("/profile/sample", params={"n": n})
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert (issue["loc"], issue["msg"]) == (["query", "n"], message)


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({"X-API-Key": "wrong"}, 401), ({"X-API-Key": KEY}, 200)]
)
def test_read_profile_sample_needs_the_api_key_when_keys_are_set(
    keyed: TestClient, headers: dict[str, str], status: int
) -> None:
    assert keyed.get("/profile/sample", headers=headers).status_code == status


def test_read_profile_sample_is_off_on_an_open_service(client: TestClient) -> None:
    """No SEG_API_KEYS: every answer is public, and public answers carry no training rows."""
    response = client.get("/profile/sample", params={"n": 5})
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "the customer sample is off: it shows training customers' values, so it is served "
        "only behind SEG_API_KEYS"
    )


def test_missing_values_are_sent_as_null() -> None:
    assert _column(np.array([1.5, np.nan])) == [1.5, None]
    assert _column(np.array(["Male", np.nan], dtype=object)) == ["Male", None]
