"""Campaigns per segment, each with a deterministic holdout: the file and the arm function.

A campaign file (TOML) holds one ``[[campaign]]`` table per campaign::

    [[campaign]]
    name = "spring-vip"
    segments = [1, 3]                  # target segment ids
    offer = "20 % off the spring collection"
    holdout = 0.10                     # share kept out as control (default 0.10)
    start = 2027-03-01                 # TOML dates, inclusive, UTC
    end = 2027-04-30
    outcome = { metric = "converted", window_days = 30 }   # optional, informational

**Arms.** A customer of a targeted segment is in the ``holdout`` arm of a campaign when
``x < holdout * 2**64`` (compared exactly), where ``x`` is
``blake2b(name + "\\x1f" + customer_id, key=SEG_CAMPAIGN_SALT, digest_size=8)`` read as a
big-endian unsigned integer (names and ids as UTF-8; the salt may be empty, at most 64
bytes). Nothing is stored: every worker, restart, retrain and the batch CLI give a
customer the same arm. The campaign name is in the hashed message, so arms of two
campaigns are independent. Raising ``holdout`` only moves customers from treatment to
holdout, never back; changing the name or the salt reshuffles everyone.

Light imports only (stdlib and pydantic): the service uses this module.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "ARMS",
    "HOLDOUT",
    "MAX_SALT_BYTES",
    "SALT_VARIABLE",
    "TREATMENT",
    "Campaign",
    "CampaignBook",
    "CampaignError",
    "Outcome",
    "arm",
    "load_campaigns",
    "parse_campaigns",
    "utc_today",
]

TREATMENT = "treatment"
HOLDOUT = "holdout"
ARMS = (TREATMENT, HOLDOUT)
SALT_VARIABLE = "SEG_CAMPAIGN_SALT"
MAX_SALT_BYTES = 64  # blake2b's key size
_SEPARATOR = b"\x1f"  # not allowed in a name, so (name, id) -> message is one-to-one
_SCALE = float(2**64)


class CampaignError(ValueError):
    """A campaign file that cannot be read, parsed or validated (the message says where)."""


class Outcome(BaseModel):
    """What the campaign is judged on (informational: ``segments uplift`` reports both)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal["converted", "revenue"] = "converted"
    window_days: int | None = Field(None, ge=1, le=3660)
    description: str | None = Field(None, max_length=500)


class Campaign(BaseModel):
    """One campaign: who it targets, what it offers, its holdout share and its dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    segments: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
    offer: str = Field(min_length=1, max_length=500)
    holdout: float = Field(0.10, gt=0, lt=1)
    start: date
    end: date
    outcome: Outcome | None = None

    @model_validator(mode="after")
    def _check(self) -> Campaign:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        repeated = sorted({s for s in self.segments if self.segments.count(s) > 1})
        if repeated:
            raise ValueError(f"segments: {repeated} listed twice")
        return self

    def active(self, day: date) -> bool:
        return self.start <= day <= self.end


def utc_today() -> date:
    return datetime.now(UTC).date()


def _salt_key(salt: str) -> bytes:
    key = salt.encode()
    if len(key) > MAX_SALT_BYTES:
        raise CampaignError(f"{SALT_VARIABLE}: {len(key)} bytes, at most {MAX_SALT_BYTES}")
    return key


def arm(campaign: str, customer_id: str, holdout: float, salt: str = "") -> str:
    """``"holdout"`` or ``"treatment"``: the keyed hash of (campaign, customer id)."""
    state = _keyed_state(campaign, _salt_key(salt))
    held = _in_holdout(state, customer_id.encode(), _threshold(holdout))
    return HOLDOUT if held else TREATMENT


def _threshold(holdout: float) -> int:
    # x < ceil(t) <=> x < t for an integer x; holdout * 2**64 is exact in a double.
    return math.ceil(holdout * _SCALE)


def _keyed_state(campaign: str, key: bytes) -> Any:
    """blake2b keyed with the salt, the campaign's name and the separator already hashed."""
    return hashlib.blake2b(campaign.encode() + _SEPARATOR, digest_size=8, key=key)


def _in_holdout(state: Any, customer_id: bytes, threshold: int) -> bool:
    # A copy of the campaign's state, then the id: the same digest as hashing name + id
    # under the key from scratch, without keying (a whole block) per customer.
    digest = state.copy()
    digest.update(customer_id)
    return int.from_bytes(digest.digest(), "big") < threshold


@dataclass(frozen=True)
class _Prepared:
    """What the arms of one campaign need, derived once per day: the keyed hash state and
    the two answers (shared by every customer in an arm; answers are only serialised)."""

    campaign: Campaign
    state: Any  # hashlib.blake2b
    threshold: int  # holdout iff hash < threshold
    holdout: dict[str, Any]
    treatment: dict[str, Any]

    @classmethod
    def of(cls, campaign: Campaign, key: bytes) -> _Prepared:
        name = campaign.name
        return cls(
            campaign,
            _keyed_state(name, key),
            _threshold(campaign.holdout),
            {"name": name, "arm": HOLDOUT, "offer": None},
            {"name": name, "arm": TREATMENT, "offer": campaign.offer},
        )


@dataclass(frozen=True)
class CampaignBook:
    """The campaigns of one file, with the salt; answers which apply to whom, on a day."""

    campaigns: tuple[Campaign, ...]
    salt: str = field(default="", repr=False)
    source: str = ""
    _key: bytes = field(init=False, repr=False)
    _today: tuple[date, dict[int, tuple[_Prepared, ...]]] | None = field(
        init=False, repr=False, default=None
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _salt_key(self.salt))  # frozen: derived once

    def targeting(self, segment: int, day: date) -> tuple[Campaign, ...]:
        """The campaigns active on ``day`` that target ``segment`` (file order)."""
        return tuple(p.campaign for p in self._prepared(segment, day))

    def _prepared(self, segment: int, day: date) -> tuple[_Prepared, ...]:
        cached = self._today
        if cached is None or cached[0] != day:
            active = [_Prepared.of(c, self._key) for c in self.campaigns if c.active(day)]
            targets = {s for p in active for s in p.campaign.segments}
            index = {s: tuple(p for p in active if s in p.campaign.segments) for s in targets}
            cached = (day, index)
            object.__setattr__(self, "_today", cached)  # one day cached, swapped whole
        return cached[1].get(segment, ())

    def arms(self, segment: int, customer_id: str, day: date) -> list[dict[str, Any]]:
        """``[{name, arm, offer}]`` for one customer; a holdout answer has no offer."""
        encoded = customer_id.encode()
        return [
            p.holdout if _in_holdout(p.state, encoded, p.threshold) else p.treatment
            for p in self._prepared(segment, day)
        ]

    def column(self, segments: Sequence[int], ids: Sequence[str], day: date) -> list[str]:
        """Per customer, ``name=arm`` of each campaign, joined with ``;`` (batch files)."""
        return [
            ";".join(f"{a['name']}={a['arm']}" for a in self.arms(segment, customer_id, day))
            for segment, customer_id in zip(segments, ids, strict=True)
        ]

    def check_targets(self, segment_ids: Iterable[int], model_version: str) -> None:
        """Raise :class:`CampaignError` if a campaign targets a segment the model lacks."""
        known = sorted(segment_ids)
        for campaign in self.campaigns:
            unknown = [s for s in campaign.segments if s not in known]
            if unknown:
                raise CampaignError(
                    f"{self.source}: campaign {campaign.name!r}: segments: "
                    f"{', '.join(map(str, unknown))} not in model {model_version} "
                    f"(its segments: {', '.join(map(str, known))})"
                )


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign: list[Campaign] = Field(default_factory=list)


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """``campaign 'spring-vip': holdout`` for pydantic's ``('campaign', 0, 'holdout')``."""
    if len(loc) < 2 or loc[0] != "campaign" or not isinstance(loc[1], int):
        return ".".join(map(str, loc)) or "file"
    tables = raw.get("campaign")
    table = tables[loc[1]] if isinstance(tables, list) and loc[1] < len(tables) else {}
    name = table.get("name") if isinstance(table, dict) else None
    who = f"campaign {name!r}" if isinstance(name, str) else f"campaign #{loc[1] + 1}"
    key = ".".join(map(str, loc[2:]))
    return f"{who}: {key}" if key else who


def parse_campaigns(text: str, source: str = "campaigns", salt: str = "") -> CampaignBook:
    """Parse and validate a campaign file's text; raise :class:`CampaignError` naming the
    campaign and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{source}: not valid TOML: {exc}") from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        message = first["msg"].removeprefix("Value error, ")
        raise CampaignError(f"{source}: {_where(raw, first['loc'])}: {message}") from None
    names: dict[str, int] = {}
    for number, campaign in enumerate(parsed.campaign, 1):
        if campaign.name in names:
            raise CampaignError(
                f"{source}: campaign {campaign.name!r}: name: used by campaign "
                f"#{names[campaign.name]} too"
            )
        names[campaign.name] = number
    return CampaignBook(tuple(parsed.campaign), salt=salt, source=source)


def load_campaigns(path: Path, salt: str = "") -> CampaignBook:
    """Read and validate the campaign file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignError(f"{path}: campaign file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(f"{path}: cannot read the campaign file ({exc})") from None
    return parse_campaigns(text, str(path), salt)
