"""GET /metrics: Prometheus metrics of this process, or of every worker with --workers N."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from service.metrics import CONTENT_TYPE, Metrics

__all__ = ["router"]

router = APIRouter(tags=["health"])
_TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "The Prometheus text format.",
    }
}


@router.get("/metrics", response_class=Response, responses=_TEXT)
def read_metrics(request: Request) -> Response:
    """Requests and latency per route and status, assignments per segment, the model
    version served, reloads and refused reloads."""
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)
