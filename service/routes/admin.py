"""POST /admin/reload: look for a new model now, in the worker that receives the call.

Every worker also looks by itself every SEG_RELOAD_INTERVAL seconds, so with
``--workers N`` the others converge within that interval plus the load time.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from service.campaign_state import CampaignsDep
from service.deps import HolderDep, require_admin_key
from service.routes._responses import FORBIDDEN, UNAUTHORIZED
from service.routes.health import refused_candidate
from service.schemas import ReloadOut

__all__ = ["router"]

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin_key)],
    responses=UNAUTHORIZED | FORBIDDEN,
)
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ReloadOut, "description": "The candidate was refused; the old model serves."}
}


@router.post("/reload", response_model=ReloadOut, responses=_REFUSED)
async def reload_model(holder: HolderDep, campaigns: CampaignsDep) -> JSONResponse:
    """Load, verify, warm and swap in the version LATEST names, now, in this worker (other
    workers follow within SEG_RELOAD_INTERVAL plus the load time); 409 if it is refused.
    The campaign file (SEG_CAMPAIGNS) is read again too: a bad one keeps the previous
    campaigns serving and is named in /health/ready."""
    outcome = await holder.reload_async(force=True)
    campaigns.reload(holder.current)
    refused = outcome.status == "refused"
    body = ReloadOut(
        status="refused" if refused else "loaded",
        candidate=outcome.candidate,
        model_version=outcome.model_version,
        refused=refused_candidate(outcome.refusal),
    )
    return JSONResponse(body.model_dump(mode="json"), 409 if refused else 200)
