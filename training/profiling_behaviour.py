"""Descriptions and actions in business words for behaviour (RFM) segments.

Used by :mod:`training.profiling` when the spec has recency, frequency and monetary
features: "last bought 9 days ago on median, 14 orders, 2,300 spent", and an action that
fits (win-back for lapsed spenders, loyalty for frequent buyers, onboarding for new ones).
"""

from __future__ import annotations

from typing import Literal

from training.manifest import SegmentProfile

__all__ = ["behaviour_action", "behaviour_description"]

Level = Literal["low", "mid", "high"]
LEVEL_Z = 0.5
NOTABLE_SHARE = 0.6
RFM = ("recency_days", "frequency", "monetary")


def _level(seg: SegmentProfile, name: str) -> Level | None:
    if name not in seg.numeric:
        return None
    z = seg.numeric[name].z
    return "high" if z >= LEVEL_Z else "low" if z <= -LEVEL_Z else "mid"


def _median(seg: SegmentProfile, name: str) -> float | None:
    return seg.numeric[name].median if name in seg.numeric else None


def behaviour_description(seg: SegmentProfile) -> str | None:
    """One line in business words, or None when the segment has no R, F and M."""
    if not all(name in seg.numeric for name in RFM):
        return None
    recency, orders, spend = (seg.numeric[name].median for name in RFM)
    spend_words = {
        "high": "they spend more than most customers",
        "mid": "they spend about as much as the average customer",
        "low": "they spend less than most customers",
    }[_level(seg, "monetary") or "mid"]
    parts = [
        f"{seg.size:,} customers ({seg.share:.1%}): last bought {recency:,.0f} days ago on "
        f"median, {orders:,.0f} order{'' if orders == 1 else 's'}, {spend:,.0f} spent; "
        f"{spend_words}"
    ]
    extras = [
        ("online_share", "{:.0%} of their spend is online"),
        ("coupon_share", "{:.0%} of their orders use a coupon"),
    ]
    for name, words in extras:
        share = _notable(seg, name)
        if share is not None:
            parts.append(words.format(share))
    returns = seg.numeric["return_rate"].mean if "return_rate" in seg.numeric else None
    if returns is not None and _level(seg, "return_rate") == "high":
        parts.append(f"they return {returns:.0%} of what they buy")
    return "; ".join(parts) + "."


def _notable(seg: SegmentProfile, name: str) -> float | None:
    share = seg.numeric[name].mean if name in seg.numeric else None
    return share if share is not None and share >= NOTABLE_SHARE else None


def behaviour_action(seg: SegmentProfile) -> str | None:
    """A suggested action from recency, frequency, spend and tenure, or None without RFM."""
    if not all(name in seg.numeric for name in RFM):
        return None
    action = _base_action(seg)
    if _notable(seg, "coupon_share") is not None:
        action += " They answer coupons: target them, on full-price baskets only."
    if _notable(seg, "online_share") is not None:
        action += " Reach them online: email, app and free-shipping thresholds."
    return action


def _base_action(seg: SegmentProfile) -> str:
    r, f, m = (_level(seg, name) for name in RFM)
    tenure = _level(seg, "tenure_days")
    if r == "high":
        if m == "low":
            return "Low-cost reactivation: one automated win-back email, then stop spending."
        return "Win back: a personal 'we miss you' offer on what they used to buy."
    if f == "high" and m == "high":
        return "Reward loyalty: VIP tier, early access and thank-you gifts."
    if f == "high":
        return "Loyalty programme: points on every order and bundles that raise the basket value."
    if tenure == "low" or (f == "low" and r == "low"):
        return "Onboard: a welcome series and a second-order incentive to turn them into regulars."
    if r == "mid":
        return "Re-engage before they lapse: reminders and personalised recommendations."
    return "Grow the relationship: cross-sell on what they already buy and seasonal campaigns."
