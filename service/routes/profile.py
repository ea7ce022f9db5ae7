"""GET /profile (segments and the choice of k) and the HTML report with its figures.

The report links its images relatively (``figures/x.png``); served at ``/profile/report``
those resolve to ``/profile/figures/x.png``, which is therefore where figures are served
(``/profile/report/figures/x.png`` answers too, for a report opened with a trailing slash).
A figure is served only when the artifact's manifest lists it, so no name can escape.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from service.deps import ModelDep, SettingsDep, require_api_key
from service.errors import NotFoundError
from service.routes._responses import NOT_FOUND, NOT_READY, UNAUTHORIZED
from service.sample import DEFAULT_SAMPLE, MAX_SAMPLE, SAMPLE_SEED, training_sample
from service.schemas import ProfileOut, ProfileSample
from service.state import LoadedModel

__all__ = ["REPORT_URL", "report_url", "router"]

router = APIRouter(prefix="/profile", tags=["profile"])
REPORT_URL = "/profile/report"
_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The report (HTML)."}
}
_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "A figure of the report."}
}


def report_url(model: LoadedModel) -> str | None:
    return REPORT_URL if model.report_path is not None else None


@router.get("", responses=NOT_READY)
async def read_profile(model: ModelDep) -> ProfileOut:
    """Every segment in original units, the choice of k, other algorithms, the report's URL."""
    profile = model.artifact.profile
    return ProfileOut(
        model_version=model.version,
        n_customers=profile.n_customers,
        overall_numeric=profile.overall_numeric,
        overall_categorical=profile.overall_categorical,
        segments=profile.segments,
        selection=model.artifact.manifest.selection,
        report_url=report_url(model),
        comparison=model.artifact.manifest.comparison,
    )


# Training customers' values (without ids): behind the API key, like /assign, and off on an
# open service (no SEG_API_KEYS), where every answer is public.
SAMPLE_OFF = (
    "the customer sample is off: it shows training customers' values, so it is served only "
    "behind SEG_API_KEYS"
)


@router.get(
    "/sample",
    dependencies=[Depends(require_api_key)],
    responses=UNAUTHORIZED | NOT_FOUND | NOT_READY,
)
def read_profile_sample(
    model: ModelDep,
    settings: SettingsDep,
    n: Annotated[int, Query(ge=1, le=MAX_SAMPLE, description="Customers to return.")] = (
        DEFAULT_SAMPLE
    ),
) -> ProfileSample:
    """A fixed-seed sample of training customers: cluster features and segment, no ids.
    Only when API keys are set (SEG_API_KEYS); 404 on an open service."""
    if not settings.api_keys:
        raise NotFoundError(SAMPLE_OFF)
    sample = training_sample(model, n)
    return ProfileSample(
        model_version=model.version,
        n_customers=sample.n_customers,
        seed=SAMPLE_SEED,
        columns=sample.columns,
        segment_id=sample.segment_id,
    )


@router.get("/report", response_class=FileResponse, responses=_HTML | NOT_FOUND | NOT_READY)
def read_report(model: ModelDep) -> FileResponse:
    """The profile report of the loaded model (HTML with its figures)."""
    path = model.report_path
    if path is None:
        raise NotFoundError(f"model {model.version} has no report")
    return FileResponse(path, media_type="text/html; charset=utf-8")


@router.get(
    "/figures/{name}", response_class=FileResponse, responses=_IMAGE | NOT_FOUND | NOT_READY
)
def read_figure(name: str, model: ModelDep) -> FileResponse:
    """One figure of the report, by file name."""
    path = model.figure_path(name)
    if path is None:
        raise NotFoundError(f"figure {name!r} not found in the report of model {model.version}")
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type)


router.add_api_route(
    "/report/figures/{name}", read_figure, methods=["GET"], include_in_schema=False
)
