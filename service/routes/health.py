"""GET /health/live and /health/ready: liveness is not readiness."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import HolderDep, ModelDep
from service.routes._responses import NOT_READY
from service.schemas import Liveness, Readiness

__all__ = ["router"]

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def read_liveness(holder: HolderDep) -> Liveness:
    """200 while the process runs, with or without a model."""
    model = holder.current
    return Liveness(model_version=model.version if model else None)


@router.get("/ready", responses=NOT_READY)
async def read_readiness(model: ModelDep) -> Readiness:
    """200 only with a verified model loaded; otherwise 503 saying why."""
    return Readiness(model_version=model.version)
