"""One LocalCluster (2 worker processes, 1 thread each) for the session's Dask tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from sklearn.datasets import make_blobs

from training.train import TrainOptions, TrainResult, train

BLOB_CENTERS = [[20, 20], [20, 80], [60, 50], [100, 20], [100, 80]]


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as running:
        yield running


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as connected:
        connected.wait_for_workers(2, timeout=60)
        yield connected


@pytest.fixture(scope="session")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 customers around 5 well-separated centres: one CSV and 3 Parquet partitions."""
    folder = tmp_path_factory.mktemp("blobs")
    X, _ = make_blobs(6000, centers=BLOB_CENTERS, cluster_std=6.0, random_state=1)
    X = np.clip(X, 1, 100).round(2)
    frame = pd.DataFrame(
        {
            "CustomerID": [f"c{i:05d}" for i in range(len(X))],
            "Gender": np.where(np.arange(len(X)) % 2 == 0, "Male", "Female"),
            "Age": 30 + np.arange(len(X)) % 40,
            "Annual Income (k$)": X[:, 0],
            "Spending Score (1-100)": X[:, 1],
        }
    )
    frame.to_csv(folder / "blobs.csv", index=False)
    for i in range(3):
        frame.iloc[i * 2000 : (i + 1) * 2000].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="session")
def blobs_local(blobs: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The single-process model on the blobs (scikit-learn's K-Means, n_init=10)."""
    folder = tmp_path_factory.mktemp("blobs-local-models")
    return train(TrainOptions(data=blobs / "blobs.csv", k=5, models_dir=folder, report=False))
