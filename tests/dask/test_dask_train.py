"""`segments train --engine dask`: the final fit on the cluster, published as a normal artifact."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from distributed import LocalCluster
from numpy.testing import assert_allclose
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from service.config import Settings
from tests.e2e.conftest import ThreadedServer
from training.artifact import load_artifact, read_cleaned
from training.cli import app
from training.dask_engine import EngineError
from training.dask_train import install_centers
from training.manifest import FinalFit
from training.scoring import load_scorer
from training.train import TrainResult

runner = CliRunner()


@pytest.fixture(scope="module")
def dask_models(
    blobs: Path, cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The blobs' 3 Parquet partitions trained through the CLI on the test cluster."""
    folder = tmp_path_factory.mktemp("dask-models")
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            f"{blobs}/part-*.parquet",
            "--k",
            "5",
            "--models-dir",
            str(folder),
            "--no-report",
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "final fit on the Dask cluster (k-means|| init)" in result.stdout
    assert "rows: 6000 read, 6000 kept, 0 rejected (0 duplicate ids)" in result.stdout
    return folder


def test_dask_fit_matches_scikit_learn_on_blobs(
    dask_models: Path, blobs_local: TrainResult
) -> None:
    artifact = load_artifact(dask_models)
    local = blobs_local.pipeline.steps[-1][1].cluster_centers_
    centers = artifact.pipeline.steps[-1][1].cluster_centers_
    cleaned = read_cleaned(artifact)
    local_cleaned = read_cleaned(load_artifact(blobs_local.path.parent))
    assert cleaned["customer_id"].tolist() == local_cleaned["customer_id"].tolist()
    assert adjusted_rand_score(local_cleaned["segment"], cleaned["segment"]) >= 0.99
    cost = ((local[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    assert_allclose(centers[cols], local[rows], atol=0.01)  # standardised units
    assert artifact.manifest.data.source == "part-*.parquet"
    assert artifact.manifest.final_fit == FinalFit(engine="dask", init="k-means||")
    assert load_artifact(blobs_local.path.parent).manifest.final_fit == FinalFit()


def test_dask_artifact_is_verified_and_served(dask_models: Path) -> None:
    artifact = load_artifact(dask_models)
    scorer = load_scorer(artifact)  # raises unless the scorer equals Pipeline.predict
    cleaned = read_cleaned(artifact)
    rows = cleaned.iloc[::600]
    customers = [
        {
            "customer_id": r.customer_id,
            "annual_income": r.annual_income,
            "spending_score": r.spending_score,
        }
        for r in rows.itertuples()
    ]
    settings = Settings(models_dir=dask_models, model_version=artifact.version)
    with ThreadedServer(settings) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post("/assign/batch", json={"customers": customers})
    assert answer.status_code == 200
    assert answer.headers["X-Model-Version"] == artifact.version
    served = [a["segment_id"] for a in answer.json()["assignments"]]
    assert served == rows["segment"].tolist()
    assert scorer.n_clusters == 5


def test_install_centers_gives_a_kmeans_that_predicts_with_those_centers() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    centers = np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, -1.5]])
    like = KMeans(n_clusters=3, n_init=10, random_state=7)
    kmeans = install_centers(centers, like, X)
    assert np.array_equal(kmeans.cluster_centers_, centers)
    expected = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.array_equal(kmeans.labels_, expected)
    assert np.array_equal(kmeans.predict(X), expected)
    assert kmeans.get_params() == like.get_params()
    assert_allclose(kmeans.inertia_, ((X - centers[expected]) ** 2).sum())


def test_install_centers_refuses_coinciding_centroids() -> None:
    centers = np.array([[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(EngineError, match="the distributed fit gave coinciding centroids"):
        install_centers(centers, KMeans(n_clusters=2), np.zeros((4, 2)))


def test_train_dask_unreachable_scheduler_is_one_line(blobs: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            f"{blobs}/part-*.parquet",
            "--models-dir",
            str(tmp_path),
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{tmp}/none-*.parquet"], "error: no input file matches '{tmp}/none-*.parquet'"),
        (["--k-min", "1"], "error: k range 1..10 is invalid: need 2 <= k_min <= k_max"),
        (["--algorithm", "gmm"], "error: --engine dask fits K-Means only: use --algorithm kmeans"),
    ],
)
def test_train_dask_bad_options_fail_before_any_cluster(
    args: list[str], message: str, blobs: Path, tmp_path: Path
) -> None:
    argv = ["train", "--data", f"{blobs}/part-*.parquet", "--engine", "dask", *args]
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in argv])
    assert result.exit_code == 2
    assert result.stderr == message.format(tmp=tmp_path) + "\n"  # no dashboard: no cluster
