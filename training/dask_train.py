"""Training's Dask engine: read the partitions on the cluster, fit the final K-Means there.

:func:`training.train.train` runs as on one machine (the same cleaning, the k sweep on a
fixed-seed sample, profiling, the same artifact), with two of its steps swapped:

- :func:`load_inputs`: the files a glob names are read by the workers with training's own
  reader (:func:`training.data.load_table`), one task per file, and gathered in file
  order; the fingerprint hashes every file's sha256 (computed on the workers).
- :func:`dask_fit`: the preprocessor is fitted as usual; K-Means on all rows runs on the
  cluster with dask-ml's ``k-means||`` initialisation (its ``k-means++`` broke on
  scikit-learn >= 1.3). The centroids are then installed in a scikit-learn ``KMeans`` so
  the artifact is the normal ``Pipeline`` the service loads and verifies.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from training.artifact import sha256_file
from training.dask_engine import EngineError, expand_inputs
from training.data import load_table
from training.manifest import FinalFit
from training.pipeline import model_step
from training.train import Loaded

if TYPE_CHECKING:
    from pathlib import Path

    from distributed import Client

    from training.spec import SegmentationSpec
    from training.train import TrainOptions

__all__ = ["dask_fit", "dask_load", "fingerprint", "install_centers", "load_inputs"]

CHUNK_ROWS = 250_000


def load_inputs(pattern: str, client: Client) -> tuple[pd.DataFrame, str]:
    """The raw rows of every file ``pattern`` matches (sorted by name), and their fingerprint.

    Raises
    ------
    DataError
        When nothing matches or a file cannot be read.
    """
    paths = expand_inputs(pattern)
    frames = client.gather(client.map(load_table, paths, pure=False))
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return raw, fingerprint(paths, client)


def fingerprint(paths: list[Path], client: Client) -> str:
    """One sha256 over the files' names and sha256s (computed on the workers)."""
    hashes = client.gather(client.map(sha256_file, paths, pure=False))
    digest = hashlib.sha256()
    for path, file_hash in zip(paths, hashes, strict=True):
        digest.update(f"{path.name}\0{file_hash}\n".encode())
    return digest.hexdigest()


def dask_load(options: TrainOptions, spec: SegmentationSpec, client: Client) -> Loaded:
    """Training's ``load`` step on the cluster: customer files, or features from a log."""
    if not options.transactions:
        raw, data_hash = load_inputs(str(options.data), client)
        return Loaded(raw, data_hash, spec)
    from training.behaviour import scored_for_training, transactions_spec
    from training.dask_features import dask_features

    result = dask_features(
        str(options.data),
        transactions_spec(spec),
        client,
        id_name=spec.id.name,
        as_of=options.as_of,
        monthly=True,
    )
    frame, used, recipe = scored_for_training(result, spec, str(options.data))
    data_hash = fingerprint(expand_inputs(str(options.data)), client)
    return Loaded(frame, data_hash, used, result, recipe)


def dask_fit(pipeline: Pipeline, frame: pd.DataFrame, X: np.ndarray, client: Client) -> FinalFit:
    """Fit ``pipeline`` on ``frame`` in place, K-Means on the cluster; say how.

    Parameters
    ----------
    pipeline : Pipeline
        From :func:`training.pipeline.build_pipeline`, unfitted.
    frame : DataFrame of shape (n_samples, n_columns)
        The cleaned rows.
    X : ndarray of shape (n_samples, n_features)
        ``frame`` preprocessed (what the pipeline's preprocessor gives once fitted).
    """
    import dask.array as da
    from dask_ml.cluster import KMeans as DaskKMeans

    spec = model_step(pipeline)
    if not isinstance(spec, KMeans):
        raise EngineError("--engine dask fits K-Means only: use --algorithm kmeans")
    pipeline.named_steps["preprocess"].fit(frame)
    n_workers = max(1, len(client.scheduler_info()["workers"]))
    rows = max(1_000, min(CHUNK_ROWS, -(-len(X) // (2 * n_workers))))
    X_dask = client.persist(da.from_array(X, chunks=(rows, X.shape[1])))
    try:
        model = DaskKMeans(
            n_clusters=spec.n_clusters,
            init="k-means||",
            random_state=spec.random_state,
            max_iter=spec.max_iter,
            tol=spec.tol,
        ).fit(X_dask)
    except Exception as exc:  # a lost cluster: one line, not a traceback
        raise EngineError(f"the Dask K-Means fit failed: {type(exc).__name__}: {exc}") from None
    finally:
        client.cancel(X_dask)
    kmeans = install_centers(np.asarray(model.cluster_centers_, dtype=np.float64), spec, X)
    kmeans.n_iter_ = int(model.n_iter_)
    pipeline.steps[-1] = (pipeline.steps[-1][0], kmeans)
    return FinalFit(engine="dask", init="k-means||")


def install_centers(centers: np.ndarray, like: KMeans, X: np.ndarray) -> KMeans:
    """A fitted scikit-learn ``KMeans`` with exactly ``centers``, labels and inertia on ``X``.

    Fitted by scikit-learn itself (one Lloyd step from ``centers`` on the centers: each is
    its own cluster's mean), so every attribute ``predict`` needs is set as scikit-learn
    sets it; then given exactly ``centers`` and ``like``'s parameters.

    Parameters
    ----------
    centers : ndarray of shape (n_clusters, n_features), distinct rows
    X : ndarray of shape (n_samples, n_features)
    """
    if len(np.unique(centers, axis=0)) < len(centers):
        raise EngineError("the distributed fit gave coinciding centroids")
    kmeans = KMeans(n_clusters=len(centers), init=centers, n_init=1, max_iter=1)
    kmeans.fit(centers)
    # K-Means centres its input while fitting: the last bits may differ. Keep the exact ones.
    kmeans.cluster_centers_ = centers.copy()
    kmeans.set_params(**like.get_params())
    kmeans.labels_ = kmeans.predict(X)
    kmeans.inertia_ = float(((X - centers[kmeans.labels_]) ** 2).sum())
    return kmeans
