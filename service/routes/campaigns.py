"""GET /campaigns: the campaigns of SEG_CAMPAIGNS, their dates, targets and holdouts."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.campaign_state import CampaignsDep
from service.deps import HolderDep
from training.campaigns import Outcome, utc_today

__all__ = ["router"]

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


class TargetOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_id: int
    segment_name: str | None = Field(description="Its name in the served model.")


class CampaignOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    offer: str = Field(description="Made to the treatment arm only.")
    holdout: float = Field(description="Share of targeted customers kept out as control.")
    start: date = Field(description="First day (UTC), inclusive.")
    end: date = Field(description="Last day (UTC), inclusive.")
    active: bool = Field(description="Whether today (UTC) is within start..end.")
    targets: list[TargetOut]
    outcome: Outcome | None


class CampaignList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: date = Field(description="Today in UTC: the day /assign answers use.")
    checked_against: str | None = Field(
        description="The model version whose segment ids the file was checked against."
    )
    refused: str | None = Field(
        description="Why the latest campaign file was refused, if it was: the campaigns "
        "listed are the previous file's."
    )
    campaigns: list[CampaignOut] = Field(description="Every campaign of the file, active or not.")


@router.get("")
async def read_campaigns(campaigns: CampaignsDep, holder: HolderDep) -> CampaignList:
    """The campaigns in SEG_CAMPAIGNS (empty without one), with their targets and dates."""
    today, book, model = utc_today(), campaigns.book, holder.current
    names = dict(enumerate(model.segment_names)) if model is not None else {}
    listed = [
        CampaignOut(
            name=c.name,
            offer=c.offer,
            holdout=c.holdout,
            start=c.start,
            end=c.end,
            active=c.active(today),
            targets=[TargetOut(segment_id=s, segment_name=names.get(s)) for s in c.segments],
            outcome=c.outcome,
        )
        for c in (book.campaigns if book is not None else ())
    ]
    return CampaignList(
        today=today,
        checked_against=campaigns.model_version,
        refused=campaigns.refused,
        campaigns=listed,
    )
