"""GET /model: which model is serving, what it expects, and how it was trained."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import ModelDep
from service.routes._responses import NOT_READY
from service.routes.profile import report_url
from service.schemas import FeatureInfo, LineageSummary, ModelInfo
from training.manifest import Lineage

__all__ = ["router"]

router = APIRouter(prefix="/model", tags=["model"])


@router.get("", responses=NOT_READY)
async def read_model(model: ModelDep) -> ModelInfo:
    """The manifest in short: version, features with units and bounds, data, libraries."""
    manifest, spec = model.artifact.manifest, model.spec
    features = [
        FeatureInfo(
            name=f.name,
            kind=f.kind,
            role=f.role,
            unit=f.unit,
            description=f.description,
            minimum=f.min,
            maximum=f.max,
            allowed=list(f.allowed) if f.allowed is not None else None,
            aliases=list(f.aliases),
        )
        for f in spec.features
    ]
    return ModelInfo(
        model_version=model.version,
        created_at=manifest.created_at,
        format_version=manifest.format_version,
        spec=spec.name,
        id_field=spec.id.name,
        id_aliases=list(spec.id.aliases),
        features=features,
        n_clusters=manifest.n_clusters,
        algorithm=manifest.algorithm,
        covariance_type=manifest.covariance_type,
        selection_reason=manifest.selection.reason,
        libraries=manifest.libraries,
        data_source=manifest.data.source,
        data_fingerprint=manifest.data.fingerprint,
        rows_read=manifest.data.rows_read,
        rows_kept=manifest.data.rows_kept,
        rows_rejected=manifest.data.rows_rejected,
        report_url=report_url(model),
        lineage=_lineage(manifest.lineage),
    )


def _lineage(lineage: Lineage) -> LineageSummary:
    moved = lineage.migration
    return LineageSummary(
        previous_version=lineage.previous_version,
        matched=lineage.matched,
        reason=lineage.reason,
        kept=lineage.kept,
        new=lineage.new,
        retired=lineage.retired,
        shared_customers=moved.shared_customers if moved else None,
        changed_share=moved.changed_share if moved else None,
        ari=moved.ari if moved else None,
    )
