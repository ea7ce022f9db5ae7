"""The sklearn pipeline: impute and scale/encode the cluster features, then the model.

The model is the final step, named ``"model"``: K-Means or a Gaussian mixture. Artifacts
written before the mixture existed name it ``"kmeans"``; :func:`model_step` reads both.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from training.manifest import Algorithm, CovarianceType
from training.spec import SegmentationSpec

__all__ = [
    "DEFAULT_N_INIT",
    "DEFAULT_RANDOM_STATE",
    "GMM_N_INIT",
    "MODEL_STEP",
    "build_model",
    "build_pipeline",
    "build_preprocessor",
    "model_step",
]

DEFAULT_N_INIT = 10
DEFAULT_RANDOM_STATE = 42
# EM restarts are each costlier than a K-Means one and converge from k-means inits.
GMM_N_INIT = 3
MODEL_STEP = "model"
_LEGACY_MODEL_STEP = "kmeans"


def model_step(pipeline: Pipeline) -> KMeans | GaussianMixture:
    """The fitted clustering model of a pipeline (step ``model``, or ``kmeans`` before it)."""
    steps = pipeline.named_steps
    model = steps[MODEL_STEP] if MODEL_STEP in steps else steps[_LEGACY_MODEL_STEP]
    if not isinstance(model, KMeans | GaussianMixture):
        raise TypeError(f"unsupported clustering step: {type(model).__name__}")
    return model


def build_preprocessor(spec: SegmentationSpec) -> ColumnTransformer:
    """Numeric: median impute -> standard scale; categorical: most-frequent -> one-hot.

    Numeric features with ``transform = "log1p"`` form their own branch (``log``): median
    impute (in original units) -> log1p -> standard scale. The output is dense float64: the
    plain numeric columns, then the transformed ones, each in spec order, then the one-hot
    columns; the scorer relies on that order.
    """
    transformers: list[tuple[str, Pipeline, list[str]]] = []
    plain = [name for name in spec.numeric_cluster if name not in spec.transformed]
    if plain:
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        transformers.append(("num", numeric, plain))
    if spec.transformed:
        logged = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("log1p", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("log", logged, spec.transformed))
    if spec.categorical_cluster:
        categories = [list(spec.feature(name).allowed or ()) for name in spec.categorical_cluster]
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                (
                    "onehot",
                    OneHotEncoder(
                        categories=categories, handle_unknown="ignore", sparse_output=False
                    ),
                ),
            ]
        )
        transformers.append(("cat", categorical, spec.categorical_cluster))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def build_model(
    n_clusters: int,
    *,
    algorithm: Algorithm = "kmeans",
    covariance_type: CovarianceType = "full",
    n_init: int = DEFAULT_N_INIT,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> KMeans | GaussianMixture:
    """K-Means, or a Gaussian mixture with ``covariance_type`` (both with a fixed seed)."""
    if algorithm == "gmm":
        return GaussianMixture(
            n_components=n_clusters,
            covariance_type=covariance_type,
            n_init=n_init,
            random_state=random_state,
        )
    return KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state)


def build_pipeline(
    spec: SegmentationSpec,
    n_clusters: int,
    *,
    algorithm: Algorithm = "kmeans",
    covariance_type: CovarianceType = "full",
    n_init: int = DEFAULT_N_INIT,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> Pipeline:
    """The full pipeline fitted by training and shipped in the artifact."""
    model = build_model(
        n_clusters,
        algorithm=algorithm,
        covariance_type=covariance_type,
        n_init=n_init,
        random_state=random_state,
    )
    return Pipeline([("preprocess", build_preprocessor(spec)), (MODEL_STEP, model)])
