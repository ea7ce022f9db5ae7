"""The artifact's typed documents: the manifest, the selection table and the profiles.

Pure pydantic models with no I/O; :mod:`training.artifact` reads and writes them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from training.spec import SegmentationSpec

__all__ = [
    "DataSummary",
    "Manifest",
    "NumericSummary",
    "Profile",
    "SegmentProfile",
    "Selection",
    "SelectionRow",
]


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


class DataSummary(_Model):
    source: str
    fingerprint: str
    rows_read: int
    rows_kept: int
    rows_rejected: int
    duplicates: int
    missing: dict[str, int]
    rejection_reasons: dict[str, int]


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
