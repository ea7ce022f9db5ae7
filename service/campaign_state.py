"""The campaign file being served (``SEG_CAMPAIGNS``), reloaded like the model.

:class:`CampaignHolder` keeps one :class:`~training.campaigns.CampaignBook`, swapped whole.
Every ``SEG_RELOAD_INTERVAL`` seconds each worker reads the file again; when its bytes or
the served model changed, it is parsed, validated and checked against the model's segment
ids. A file that fails keeps the previous campaigns serving, and ``/health/ready`` names
the reason (as it does for a refused model) until a good file replaces it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request

from service.config import Settings
from service.state import LoadedModel, ModelHolder
from training.campaigns import CampaignBook, CampaignError, parse_campaigns, utc_today

__all__ = ["CampaignHolder", "CampaignsDep", "poll_campaigns"]

logger = logging.getLogger(__name__)
PUBLIC_SOURCE = "SEG_CAMPAIGNS"  # the file's path is the server's business


class CampaignHolder:
    """The campaigns served now (``book``), and why the last candidate file was refused."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.campaigns
        self.salt = settings.campaign_salt
        self.book: CampaignBook | None = None
        self.model_version: str | None = None  # the model the book was checked against
        self.refused: str | None = None
        self._seen: tuple[str, str | None] | None = None  # (sha256 of the file, model)

    @property
    def configured(self) -> bool:
        return self.path is not None

    def reload(self, model: LoadedModel | None) -> bool:
        """Read the file again; swap in a new book if it changed and passes. True if swapped."""
        if self.path is None:
            return False
        version = model.version if model is not None else None
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            return self._refuse(f"{PUBLIC_SOURCE}: cannot read the campaign file ({exc.strerror})")
        seen = (hashlib.sha256(data).hexdigest(), version)
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            book = parse_campaigns(data.decode("utf-8"), PUBLIC_SOURCE, self.salt)
            if model is not None:
                ids = [s.segment_id for s in model.artifact.profile.segments]
                book.check_targets(ids, model.version)
        except (CampaignError, UnicodeDecodeError) as exc:
            return self._refuse(str(exc))
        self.book, self.model_version, self.refused = book, version, None
        logger.info("serving %d campaigns (checked against model %s)", len(book.campaigns), version)
        return True

    def _refuse(self, reason: str) -> bool:
        if reason != self.refused:
            logger.warning("campaign file refused, previous campaigns kept: %s", reason)
        self.refused = reason
        return False

    def attach(self, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add ``campaigns: [{name, arm, offer}]`` to each assignment answer, in place."""
        segments = [answer["segment_id"] for answer in answers]
        ids = [answer["customer_id"] for answer in answers]
        for answer, arms in zip(answers, self.arms(segments, ids), strict=True):
            answer["campaigns"] = arms
        return answers

    def arms(self, segments: Sequence[int], ids: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Per customer, ``[{name, arm, offer}]`` of each active campaign on its segment."""
        book = self.book
        if book is None:
            return [[]] * len(ids)  # one shared empty list: answers are only serialised
        today = utc_today()
        return [book.arms(s, i, today) for s, i in zip(segments, ids, strict=True)]

    def column(self, segments: list[int], ids: list[str]) -> list[str]:
        """Per customer, ``name=arm`` of each active campaign joined by ``;`` (tables)."""
        book = self.book
        return [""] * len(ids) if book is None else book.column(segments, ids, utc_today())


async def poll_campaigns(campaigns: CampaignHolder, models: ModelHolder, interval: float) -> None:
    """Look at the campaign file every ``interval`` seconds (and after a model swap)."""
    while True:
        await anyio.sleep(interval)
        try:
            campaigns.reload(models.current)  # a small file: read on the loop
        except Exception:  # never let the poll die: the next look may succeed
            logger.exception("looking at the campaign file failed")


async def _campaigns(request: Request) -> CampaignHolder:
    holder: CampaignHolder = request.app.state.campaigns
    return holder


CampaignsDep = Annotated[CampaignHolder, Depends(_campaigns)]
