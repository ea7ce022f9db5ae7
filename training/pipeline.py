"""The sklearn pipeline: impute and scale/encode the cluster features, then K-Means."""

from __future__ import annotations

from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from training.spec import SegmentationSpec

__all__ = ["DEFAULT_N_INIT", "DEFAULT_RANDOM_STATE", "build_pipeline", "build_preprocessor"]

DEFAULT_N_INIT = 10
DEFAULT_RANDOM_STATE = 42


def build_preprocessor(spec: SegmentationSpec) -> ColumnTransformer:
    """Numeric: median impute -> standard scale; categorical: most-frequent -> one-hot.

    The output is dense float64, numeric columns first, in spec order; the scorer relies on
    that order.
    """
    transformers: list[tuple[str, Pipeline, list[str]]] = []
    if spec.numeric_cluster:
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        transformers.append(("num", numeric, spec.numeric_cluster))
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


def build_pipeline(
    spec: SegmentationSpec,
    n_clusters: int,
    *,
    n_init: int = DEFAULT_N_INIT,
    random_state: int = DEFAULT_RANDOM_STATE,
) -> Pipeline:
    """The full pipeline fitted by training and shipped in the artifact."""
    kmeans = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state)
    return Pipeline([("preprocess", build_preprocessor(spec)), ("kmeans", kmeans)])
