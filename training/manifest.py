"""The artifact's typed documents: the manifest, the selection table and the profiles.

Pure pydantic models with no I/O; :mod:`training.artifact` reads and writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from training.spec import SegmentationSpec

__all__ = [
    "ALGORITHMS",
    "COVARIANCE_TYPES",
    "Algorithm",
    "Comparison",
    "ComparisonRow",
    "CovarianceType",
    "DataSummary",
    "FinalFit",
    "Lineage",
    "Manifest",
    "Migration",
    "NumericSummary",
    "Profile",
    "Recipe",
    "SegmentLineage",
    "SegmentProfile",
    "Selection",
    "SelectionRow",
]


Algorithm = Literal["kmeans", "gmm"]
ALGORITHMS: tuple[Algorithm, ...] = ("kmeans", "gmm")
CovarianceType = Literal["full", "diag", "tied", "spherical"]
COVARIANCE_TYPES: tuple[CovarianceType, ...] = ("full", "diag", "tied", "spherical")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SelectionRow(_Model):
    k: int
    wcss: float
    silhouette: float
    calinski_harabasz: float
    davies_bouldin: float
    stability: float
    min_share: float
    bic: float | None = Field(
        None, description="Gaussian mixture only: BIC on the sweep sample (lower is better)."
    )


class Selection(_Model):
    rule: str
    table: list[SelectionRow]
    chosen_k: int
    reason: str
    knee_k: int | None
    min_share: float
    min_stability: float


class NumericSummary(_Model):
    mean: float
    std: float
    min: float
    q1: float
    median: float
    q3: float
    max: float
    z: float = Field(description="(segment mean - overall mean) / overall std")


class SegmentProfile(_Model):
    segment_id: int
    name: str
    description: str
    action: str
    size: int
    share: float
    numeric: dict[str, NumericSummary]
    categorical: dict[str, dict[str, float]]


class Profile(_Model):
    n_customers: int
    overall_numeric: dict[str, NumericSummary]
    overall_categorical: dict[str, dict[str, float]]
    segments: list[SegmentProfile]

    @property
    def names_by_id(self) -> list[str]:
        """Segment names indexed by stable id (ids can be sparse after retrains: "" where
        this model has no such id)."""
        names = [""] * (max(s.segment_id for s in self.segments) + 1)
        for segment in self.segments:
            names[segment.segment_id] = segment.name
        return names

    @property
    def segment_ids(self) -> list[int]:
        """The stable ids of this model's segments, in label order."""
        return [s.segment_id for s in self.segments]


class DataSummary(_Model):
    source: str
    fingerprint: str
    rows_read: int
    rows_kept: int
    rows_rejected: int
    duplicates: int
    missing: dict[str, int]
    rejection_reasons: dict[str, int]


class ComparisonRow(_Model):
    """One algorithm of the comparison, scored on the comparison sample."""

    algorithm: Literal["kmeans", "gmm", "ward", "dbscan", "hdbscan"]
    title: str = Field(description="Human name, e.g. 'DBSCAN'.")
    parameters: str = Field(description="How it was run, e.g. 'eps=0.31, min_samples=4'.")
    n_clusters: int = Field(description="Clusters found (noise not counted).")
    noise_share: float = Field(description="Share of the sample labelled noise (-1), 0..1.")
    silhouette: float | None = Field(description="Noise excluded; null below 2 clusters.")
    davies_bouldin: float | None = Field(description="Noise excluded; null below 2 clusters.")
    calinski_harabasz: float | None = Field(description="Noise excluded; null below 2 clusters.")
    ari_vs_served: float = Field(description="Adjusted Rand index against the served model.")
    fit_seconds: float
    served: bool = Field(description="True for the served model's own algorithm.")


class Comparison(_Model):
    """Other clustering algorithms run on the same cluster features as the served model."""

    sample_size: int = Field(description="Rows of the fixed-seed sample every algorithm saw.")
    n_customers: int
    random_state: int
    metrics_note: str
    rows: list[ComparisonRow]
    verdict: str = Field(description="Which algorithm is served and why, in plain words.")


class FinalFit(_Model):
    """How the final K-Means on all rows was fitted (``segments train --engine``)."""

    engine: Literal["local", "dask"] = "local"
    init: Literal["k-means++", "k-means||"] = "k-means++"


class Recipe(_Model):
    """How a transactions log became the customer table (absent for customer tables)."""

    version: int
    as_of: str
    mapping: dict[str, str] = Field(description="recipe column -> the log's header")
    sql: str
    rfm_edges: dict[str, list[float]] = Field(default_factory=dict)
    lines_read: int = 0
    lines_rejected: int = 0
    lines_after_as_of: int = 0
    customers_without_purchase: int = 0
    rejection_reasons: dict[str, int] = Field(default_factory=dict)
    monthly_spend: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="segment id -> month (YYYY-MM) -> net spend"
    )


class SegmentLineage(_Model):
    """Where one segment of this model comes from (see :mod:`training.lineage`)."""

    segment_id: int
    status: Literal["kept", "new"]
    since_version: str | None = Field(
        None, description="The version that first had this segment; None: this model."
    )
    distance: float | None = Field(
        None,
        description="Centroid distance to the matched previous segment, in the "
        "previous model's standard deviations; None when new and nothing was matched.",
    )
    overlap: float | None = Field(
        None, description="Share of shared customers that agree on the match; None without."
    )
    size_before: int | None = None
    size_after: int


class Migration(_Model):
    """Customers present in both trainings: where they were, where they are."""

    shared_customers: int
    previous_ids: list[int]
    ids: list[int]
    counts: list[list[int]] = Field(description="[previous id][new id] customer counts")
    changed_share: float
    ari: float


class Lineage(_Model):
    """Segment ids across retrains: the matching to the previous model and its outcome.

    ``segment_ids[label]`` is the stable id of the fitted model's label ``label``;
    empty means ids equal labels (artifacts from before lineage).
    """

    previous_version: str | None = None
    matched: bool = False
    reason: str = "no lineage recorded"
    threshold: float | None = None
    segment_ids: list[int] = Field(default_factory=list)
    segments: list[SegmentLineage] = Field(default_factory=list)
    kept: list[int] = Field(default_factory=list)
    new: list[int] = Field(default_factory=list)
    retired: list[int] = Field(default_factory=list)
    ids_ever_used: list[int] = Field(default_factory=list)
    names: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Names-file overrides in force, by segment id."
    )
    migration: Migration | None = None
    previous_segments: dict[str, str] = Field(
        default_factory=dict, description="The previous model's segment names, by id."
    )
    previous_sizes: dict[str, int] = Field(
        default_factory=dict, description="The previous model's segment sizes, by id."
    )


class Manifest(_Model):
    format_version: int
    model_version: str = ""
    created_at: datetime
    libraries: dict[str, str]
    spec: SegmentationSpec
    data: DataSummary
    selection: Selection
    n_clusters: int
    n_init: int
    random_state: int
    distance_percentiles: dict[str, dict[str, float]]
    has_report: bool = False
    files: dict[str, str] = Field(default_factory=dict)
    algorithm: Algorithm = "kmeans"
    covariance_type: CovarianceType | None = Field(None, description="Gaussian mixture only.")
    log_likelihood_p01: float | None = Field(
        None,
        description="Gaussian mixture only: 1st percentile of the training customers' "
        "log-likelihood; a customer below it is atypical.",
    )
    comparison: Comparison | None = None
    final_fit: FinalFit = Field(default_factory=FinalFit)
    recipe: Recipe | None = None
    lineage: Lineage = Field(default_factory=Lineage)
    atypical_share: float | None = Field(
        None, description="Training customers beyond their segment's p99 distance (about 1 %)."
    )
