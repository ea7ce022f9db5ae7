"""The service's response models: what every route answers, as OpenAPI shows it.

The request models are built per model from its spec (:mod:`service.request_models`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from training.artifact import NumericSummary, SegmentProfile, Selection
from training.manifest import Comparison

__all__ = [
    "Assignment",
    "AssignmentBatch",
    "AssignmentRecord",
    "CampaignArm",
    "ErrorMessage",
    "FeatureInfo",
    "LineageSummary",
    "Liveness",
    "ModelInfo",
    "ProfileOut",
    "ProfileSample",
    "Readiness",
    "RefusedCandidate",
    "ReloadOut",
    "SegmentDetail",
    "SegmentList",
    "SegmentSummary",
    "ValidationErrorBody",
]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignArm(_Out):
    """A campaign that targets the customer's segment, and the customer's arm in it."""

    name: str
    arm: Literal["treatment", "holdout"] = Field(
        description="treatment: make the offer; holdout: kept out as control, no offer. "
        "A keyed hash of (campaign, customer id): the same on every call."
    )
    offer: str | None = Field(description="What to offer; null in the holdout arm.")


class AssignmentRecord(_Out):
    """Where one customer belongs (the fields of training.scoring.RECORD_FIELDS)."""

    customer_id: str = Field(description="The id sent in the request, unchanged.")
    segment_id: int = Field(
        ge=0, description="Segment id, kept across retrains (see GET /segments)."
    )
    segment_name: str = Field(description="Readable name, e.g. 'High income · Low spending'.")
    distance: float = Field(
        ge=0, description="Distance to the segment centre in the standardised feature space."
    )
    confidence: float = Field(
        ge=0,
        le=1,
        description="K-Means: 1 - distance / distance to the runner-up segment: 0 on the "
        "border between two segments, 1 at the centre. Gaussian mixture: the posterior "
        "probability of the segment.",
    )
    atypical: bool = Field(
        description="True when the distance is beyond the 99th percentile of the training "
        "customers of this segment (Gaussian mixture: the log-likelihood is below the "
        "training 1st percentile): the customer fits no segment well."
    )
    imputed: list[str] = Field(
        description="Cluster features that were missing and replaced by the training value."
    )
    campaigns: list[CampaignArm] = Field(
        default_factory=list,
        description="Active campaigns (SEG_CAMPAIGNS) targeting this segment, with the "
        "customer's arm: see GET /campaigns.",
    )


class Assignment(AssignmentRecord):
    """Where one customer belongs, and the model that placed it."""

    model_version: str


class AssignmentBatch(_Out):
    model_version: str = Field(description="The model that placed every customer of the batch.")
    assignments: list[AssignmentRecord] = Field(description="One per customer, in request order.")


class SegmentSummary(_Out):
    segment_id: int
    name: str
    description: str
    action: str = Field(description="Suggested marketing action.")
    size: int = Field(description="Training customers in the segment.")
    share: float = Field(description="Share of the training customers, 0..1.")
    typical: dict[str, float | str | None] = Field(
        description="Median of each numeric feature, most common value of each categorical "
        "one, in original units."
    )
    since_version: str = Field(description="The model version since which this id exists.")


class SegmentList(_Out):
    model_version: str
    segments: list[SegmentSummary]


class SegmentDetail(SegmentProfile):
    model_version: str
    since_version: str = Field(description="The model version since which this id exists.")
    distance_percentiles: dict[str, float] = Field(
        description="Training distances to this segment's centre: p50, p90, p95, p99, max."
    )


class ProfileOut(_Out):
    model_version: str
    n_customers: int
    overall_numeric: dict[str, NumericSummary]
    overall_categorical: dict[str, dict[str, float]]
    segments: list[SegmentProfile]
    selection: Selection = Field(description="How k was chosen: the rule, table and reason.")
    report_url: str | None = Field(description="The HTML report, or null without one.")
    comparison: Comparison | None = Field(
        None,
        description="K-Means, Gaussian mixture, Ward, DBSCAN and HDBSCAN on a sample of the "
        "same cluster features; null for models trained without it.",
    )


class ProfileSample(_Out):
    """A fixed-seed sample of training customers: cluster feature values and segment only."""

    model_version: str
    n_customers: int = Field(description="Training customers the sample is drawn from.")
    seed: int = Field(description="The sample's random seed (same model, same rows).")
    columns: dict[str, list[float | str | None]] = Field(
        description="Per cluster feature, its values in original units (null: missing in the "
        "training file, imputed by the model)."
    )
    segment_id: list[int] = Field(description="Each sampled customer's segment, in row order.")


class FeatureInfo(_Out):
    name: str
    kind: Literal["numeric", "categorical"]
    role: Literal["cluster", "profile"]
    unit: str | None
    description: str
    minimum: float | None
    maximum: float | None
    allowed: list[str] | None
    aliases: list[str] = Field(
        description="Other headers a customer file may use for this column ('Genre' for gender)."
    )


class LineageSummary(_Out):
    """Segment ids of this model against the previous one (the manifest's lineage)."""

    previous_version: str | None = Field(description="The model matched against, if any.")
    matched: bool = Field(description="False when there was nothing comparable to match.")
    reason: str = Field(description="How the ids were decided, or why nothing was matched.")
    kept: list[int] = Field(description="Ids kept from the previous model.")
    new: list[int] = Field(description="Ids first used by this model.")
    retired: list[int] = Field(description="Previous ids with no segment here (never reused).")
    shared_customers: int | None = Field(description="Customers in both trainings.")
    changed_share: float | None = Field(description="Share of them whose segment id changed.")
    ari: float | None = Field(description="Adjusted Rand index, old vs new labels.")


class ModelInfo(_Out):
    model_version: str
    created_at: datetime
    format_version: int
    spec: str
    id_field: str
    id_aliases: list[str] = Field(description="Other headers a file may use for the id.")
    features: list[FeatureInfo]
    n_clusters: int
    algorithm: Literal["kmeans", "gmm"] = Field(
        description="The served algorithm: K-Means, or a Gaussian mixture (gmm)."
    )
    covariance_type: str | None = Field(None, description="Gaussian mixture only.")
    selection_reason: str
    libraries: dict[str, str]
    data_source: str
    data_fingerprint: str
    rows_read: int
    rows_kept: int
    rows_rejected: int
    report_url: str | None
    lineage: LineageSummary = Field(description="Segment ids against the previous model.")


class Liveness(_Out):
    status: Literal["alive"] = "alive"
    model_version: str | None


class RefusedCandidate(_Out):
    """A model that was not swapped in: the served one (if any) kept serving."""

    model_version: str | None = Field(
        None, description="The candidate's version; null when LATEST could not be read."
    )
    kind: str = Field(
        description="checksum, signature, untrusted, format, library_version, schema, missing, "
        "invalid or error (the label of segments_model_reloads_refused_total)."
    )
    reason: str


class Readiness(_Out):
    status: Literal["ready"] = "ready"
    model_version: str
    refused: RefusedCandidate | None = Field(
        None, description="The last candidate refused since this model was swapped in, if any."
    )
    campaigns_refused: str | None = Field(
        None, description="Why the campaign file was refused (the previous one still serves)."
    )


class ReloadOut(_Out):
    status: Literal["loaded", "refused"] = Field(
        description="loaded: the candidate passed every check and now serves in this worker; "
        "refused: it did not, and the model before it still serves."
    )
    candidate: str | None = Field(
        description="The version LATEST (or SEG_MODEL_VERSION) names; null when unreadable."
    )
    model_version: str | None = Field(description="The version this worker serves now.")
    refused: RefusedCandidate | None = None


class ErrorMessage(_Out):
    detail: str


class ValidationIssue(_Out):
    """One problem: where (``loc``), what (``msg``, ``type``); never the value sent."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, Any] | None = None


class ValidationErrorBody(_Out):
    """The one 422 body of every route."""

    detail: list[ValidationIssue] = Field(
        max_length=100, description="The first 100 issues at most, in request order."
    )
    error_count: int = Field(ge=1, description="How many issues in all.")
