"""GET /monitoring: the live segment mix and features against training, and a status."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service.deps import ModelDep, SettingsDep
from service.drift import DriftBook
from service.errors import NotFoundError
from service.monitoring import Monitoring, monitoring
from service.routes._responses import NOT_FOUND, NOT_READY

__all__ = ["router"]

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


@router.get("", responses=NOT_FOUND | NOT_READY)
def read_monitoring(request: Request, model: ModelDep, settings: SettingsDep) -> Monitoring:
    """Drift over the sliding window, summed across workers: segment mix (PSI, chi-square),
    atypical rate, feature shifts, and a status (ok / watch / retrain)."""
    book: DriftBook | None = request.app.state.drift
    if book is None:
        raise NotFoundError("drift monitoring is off: SEG_MONITOR=false")
    return monitoring(model, book, settings.monitor_min_assignments)
