"""GET /segments and /segments/{segment_id}: what each segment is and what to do with it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BeforeValidator

from service.deps import ModelDep
from service.errors import NotFoundError
from service.routes._responses import NOT_FOUND, NOT_READY, UNPROCESSABLE
from service.schemas import SegmentDetail, SegmentList, SegmentSummary
from service.state import LoadedModel
from training.artifact import SegmentProfile

__all__ = ["router"]

router = APIRouter(prefix="/segments", tags=["segments"])


def _plain_digits(value: object) -> object:
    # int() would take "+1", " 1" (%201) and "1.0" as 1: one segment, one spelling.
    if isinstance(value, str) and not (
        value.isascii() and value.isdigit() and (value == "0" or value[0] != "0")
    ):
        raise ValueError("a segment id is written in digits only, e.g. 3")
    return value


SegmentId = Annotated[
    int,
    Path(ge=0, description="Segment number in plain digits (`+1`, `1.0`, ` 1`, `01`: 422)."),
    BeforeValidator(_plain_digits),
]


def _typical(segment: SegmentProfile) -> dict[str, float | str | None]:
    typical: dict[str, float | str | None] = {
        name: summary.median for name, summary in segment.numeric.items()
    }
    for name, mix in segment.categorical.items():
        typical[name] = max(mix, key=mix.__getitem__) if mix else None
    return typical


def _since(model: LoadedModel, segment_id: int) -> str:
    for seg in model.artifact.manifest.lineage.segments:
        if seg.segment_id == segment_id and seg.since_version:
            return seg.since_version
    return model.version


def _summary(model: LoadedModel, segment: SegmentProfile) -> SegmentSummary:
    return SegmentSummary(
        segment_id=segment.segment_id,
        name=segment.name,
        description=segment.description,
        action=segment.action,
        size=segment.size,
        share=segment.share,
        typical=_typical(segment),
        since_version=_since(model, segment.segment_id),
    )


def _segment(model: LoadedModel, segment_id: int) -> SegmentProfile:
    segments = sorted(model.artifact.profile.segments, key=lambda s: s.segment_id)
    for segment in segments:
        if segment.segment_id == segment_id:
            return segment
    valid = ", ".join(str(s.segment_id) for s in segments)
    raise NotFoundError(f"segment {segment_id} not found; valid ids: {valid}")


# Light reads of the loaded model: async, no blocking work.
@router.get("", responses=NOT_READY)
async def read_segments(model: ModelDep) -> SegmentList:
    """Every segment with its size, share, typical values and suggested action."""
    ordered = sorted(model.artifact.profile.segments, key=lambda s: s.segment_id)
    segments = [_summary(model, s) for s in ordered]
    return SegmentList(model_version=model.version, segments=segments)


@router.get("/{segment_id}", responses=NOT_FOUND | NOT_READY | UNPROCESSABLE)
async def read_segment(segment_id: SegmentId, model: ModelDep) -> SegmentDetail:
    """One segment's full profile in original units, and its training distances."""
    segment = _segment(model, segment_id)
    percentiles = model.artifact.manifest.distance_percentiles.get(str(segment_id), {})
    return SegmentDetail(
        **segment.model_dump(),
        model_version=model.version,
        since_version=_since(model, segment_id),
        distance_percentiles=percentiles,
    )
