"""Describing every segment in business words and in the original units."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from training.artifact import NumericSummary, Profile, SegmentProfile
from training.profiling_behaviour import behaviour_action, behaviour_description
from training.spec import FeatureSpec, SegmentationSpec

__all__ = ["NamesError", "load_names", "profile_segments"]

Level = Literal["low", "mid", "high"]
LEVEL_Z = 0.5  # |z| of the segment mean beyond which a trait counts as high or low
DOMINANT_SHARE = 0.7

_SPEND_WORDS = {
    "high": "they buy more than most customers",
    "mid": "they buy about as much as the average customer",
    "low": "they buy less than most customers",
}
# (income level, spending level) -> suggested action.
_ACTIONS: dict[tuple[Level | None, Level], str] = {
    (
        "high",
        "high",
    ): "Retain and reward: VIP tier, early access to new collections, premium bundles.",
    ("high", "mid"): "Upsell: premium lines, personal shopping and exclusive events.",
    ("high", "low"): "Win share of wallet: personalised premium offers and quality-led campaigns; "
    "they can afford to spend more here.",
    ("mid", "high"): "Reward frequency: loyalty points and member-only previews.",
    ("mid", "mid"): "Grow the mainstream: seasonal campaigns, cross-sell and the newsletter.",
    ("mid", "low"): "Nudge spending: targeted discounts on the categories they already buy.",
    ("low", "high"): "Keep them engaged responsibly: loyalty points, flash sales and "
    "budget-friendly new arrivals.",
    ("low", "mid"): "Value with variety: bundles and coupons on everyday items.",
    ("low", "low"): "Price-led offers: value packs, discount days and coupons.",
    (None, "high"): "Retain and reward: loyalty tier and early access.",
    (None, "mid"): "Cross-sell: recommendations based on what they already buy.",
    (None, "low"): "Reactivate: a time-limited offer to bring them back.",
}


class NamesError(ValueError):
    """A names override file is missing or malformed."""


def _summary(values: pd.Series, overall_mean: float, overall_std: float) -> NumericSummary:
    clean = values.dropna()
    if clean.empty:
        return NumericSummary(
            mean=np.nan,
            std=np.nan,
            min=np.nan,
            q1=np.nan,
            median=np.nan,
            q3=np.nan,
            max=np.nan,
            z=0.0,
        )
    q1, median, q3 = np.quantile(clean, [0.25, 0.5, 0.75])
    mean = float(clean.mean())
    z = (mean - overall_mean) / overall_std if overall_std > 0 else 0.0
    return NumericSummary(
        mean=mean,
        std=float(clean.std(ddof=0)),
        min=float(clean.min()),
        q1=float(q1),
        median=float(median),
        q3=float(q3),
        max=float(clean.max()),
        z=float(z),
    )


def _mix(values: pd.Series, allowed: tuple[str, ...]) -> dict[str, float]:
    counts = values.dropna().value_counts()
    total = int(counts.sum())
    return {a: (float(counts.get(a, 0)) / total if total else 0.0) for a in allowed}


def _level(z: float) -> Level:
    return "high" if z >= LEVEL_Z else "low" if z <= -LEVEL_Z else "mid"


def _business_level(spec: SegmentationSpec, seg: SegmentProfile, role: str) -> Level | None:
    for f in spec.features:
        if f.business == role and f.name in seg.numeric:
            return _level(seg.numeric[f.name].z)
    return None


def _name(
    spec: SegmentationSpec,
    seg: SegmentProfile,
    overall: Mapping[str, Mapping[str, float]],
    features: tuple[FeatureSpec, ...],
) -> list[str]:
    traits = []
    for f in features:
        if f.kind == "numeric":
            traits.append(f.level_word(_level(seg.numeric[f.name].z)))
        else:
            top, share = max(seg.categorical[f.name].items(), key=lambda kv: kv[1])
            if share >= DOMINANT_SHARE and share > overall[f.name][top]:
                traits.append(f"Mostly {top.lower()}")
    return traits


def _describe(spec: SegmentationSpec, seg: SegmentProfile) -> str:
    parts = []
    for f in spec.features:
        if f.kind == "numeric":
            s = seg.numeric[f.name]
            unit = f" {f.unit}" if f.unit and not f.unit.startswith("score") else ""
            parts.append(f"{f.display} averages {s.mean:.1f}{unit} ({_level(s.z)})")
        else:
            top, share = max(seg.categorical[f.name].items(), key=lambda kv: kv[1])
            parts.append(f"{share:.0%} {top.lower()}")
    spend = _business_level(spec, seg, "spending")
    tail = f"; {_SPEND_WORDS[spend]}" if spend else ""
    return f"{seg.size} customers ({seg.share:.1%}): " + ", ".join(parts) + tail + "."


def _action(spec: SegmentationSpec, seg: SegmentProfile, traits: list[str]) -> str:
    spend = _business_level(spec, seg, "spending")
    if spend is None:
        return "Tailor offers to the segment's strongest traits: " + ", ".join(traits) + "."
    return _ACTIONS[(_business_level(spec, seg, "income"), spend)]


def _unique_names(names: list[list[str]], extra: list[list[str]]) -> list[str]:
    joined = [" · ".join(n) for n in names]
    for name in list(joined):
        clashes = [j for j, other in enumerate(joined) if other == name]
        if len(clashes) > 1:
            for j in clashes:
                joined[j] = " · ".join(names[j] + extra[j][:1]) or f"Segment {j}"
    seen: dict[str, int] = {}
    for i, name in enumerate(joined):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1 or not name:
            joined[i] = f"{name or 'Segment'} ({i})"
    return joined


def profile_segments(
    frame: pd.DataFrame,
    labels: np.ndarray,
    spec: SegmentationSpec,
    names: Mapping[str, Mapping[str, str]] | None = None,
    *,
    segment_ids: Sequence[int] | None = None,
    inherited: Mapping[str, Mapping[str, str]] | None = None,
    applied: dict[str, dict[str, str]] | None = None,
) -> Profile:
    """Profile each segment in original units.

    Parameters
    ----------
    frame : DataFrame of shape (n_samples, n_columns)
        Cleaned customers (NaN where missing, before imputation).
    labels : ndarray of shape (n_samples,)
        Segment id of each row, 0..k-1.
    names : mapping, optional
        Overrides keyed by segment id (as text) or by generated name, each with any of
        ``name``, ``description``, ``action``.
    segment_ids : sequence of int, optional
        Stable id of each label (``training.lineage``); default: the label itself.
    inherited : mapping, optional
        Overrides kept from the previous model, by stable id; ``names`` wins over them.
    applied : dict, optional
        Filled with the override used for each segment that had one, by stable id.
    """
    n_clusters = int(labels.max()) + 1
    numeric = [f for f in spec.features if f.kind == "numeric"]
    categorical = [f for f in spec.features if f.kind == "categorical"]
    stats = {
        f.name: (float(frame[f.name].mean()), float(frame[f.name].std(ddof=0))) for f in numeric
    }
    overall_num = {f.name: _summary(frame[f.name], *stats[f.name]) for f in numeric}
    overall_cat = {f.name: _mix(frame[f.name], f.allowed or ()) for f in categorical}
    segments = []
    for seg_id in range(n_clusters):
        rows = frame[labels == seg_id]
        segments.append(
            SegmentProfile(
                segment_id=seg_id if segment_ids is None else int(segment_ids[seg_id]),
                name="",
                description="",
                action="",
                size=len(rows),
                share=len(rows) / len(frame),
                numeric={f.name: _summary(rows[f.name], *stats[f.name]) for f in numeric},
                categorical={f.name: _mix(rows[f.name], f.allowed or ()) for f in categorical},
            )
        )
    profile_features = tuple(f for f in spec.features if f.role == "profile")
    traits = [_name(spec, s, overall_cat, spec.cluster_features) for s in segments]
    extra = [_name(spec, s, overall_cat, profile_features) for s in segments]
    for seg, name, seg_traits in zip(segments, _unique_names(traits, extra), traits, strict=True):
        seg.name = name
        seg.description = behaviour_description(seg) or _describe(spec, seg)
        seg.action = behaviour_action(seg) or _action(spec, seg, seg_traits)
        key = str(seg.segment_id)
        override = (
            (names or {}).get(key) or (names or {}).get(name) or (inherited or {}).get(key) or {}
        )
        if override and applied is not None:
            applied[key] = dict(override)
        for key in ("name", "description", "action"):
            if key in override:
                setattr(seg, key, str(override[key]))
    return Profile(
        n_customers=len(frame),
        overall_numeric=overall_num,
        overall_categorical=overall_cat,
        segments=segments,
    )


def load_names(path: Path) -> dict[str, dict[str, str]]:
    """Read a names override file (JSON or TOML): ``{segment id or name: {name, ...}}``."""
    if not path.is_file():
        raise NamesError(f"names file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise NamesError(f"names file {path}: cannot parse: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise NamesError(f"names file {path}: expected a table of segments, each a table")
    allowed = {"name", "description", "action"}
    for key, value in data.items():
        unknown = set(value) - allowed
        if unknown:
            raise NamesError(
                f"names file {path}: segment {key!r}: unknown key {sorted(unknown)[0]!r}"
                " (allowed: name, description, action)"
            )
    return {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in data.items()}
