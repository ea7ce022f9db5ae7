"""GET /health/live and /health/ready: liveness is not readiness."""

from __future__ import annotations

from fastapi import APIRouter

from service.campaign_state import CampaignsDep
from service.deps import HolderDep, ModelDep
from service.routes._responses import NOT_READY
from service.schemas import Liveness, Readiness, RefusedCandidate
from service.state import Refusal

__all__ = ["refused_candidate", "router"]

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def read_liveness(holder: HolderDep) -> Liveness:
    """200 while the process runs, with or without a model."""
    model = holder.current
    return Liveness(model_version=model.version if model else None)


@router.get("/ready", responses=NOT_READY, response_model_exclude_none=True)
async def read_readiness(model: ModelDep, holder: HolderDep, campaigns: CampaignsDep) -> Readiness:
    """200 only with a verified model loaded (and the last refused candidate, if any);
    otherwise 503 saying why."""
    refused = refused_candidate(holder.refused)
    return Readiness(
        model_version=model.version, refused=refused, campaigns_refused=campaigns.refused
    )


def refused_candidate(refusal: Refusal | None) -> RefusedCandidate | None:
    if refusal is None:
        return None
    return RefusedCandidate(model_version=refusal.version, kind=refusal.kind, reason=refusal.reason)
