"""Behaviour segments described and acted on in business words."""

from __future__ import annotations

from training.manifest import NumericSummary, SegmentProfile
from training.profiling_behaviour import behaviour_action, behaviour_description


def _summary(median: float, z: float, mean: float | None = None) -> NumericSummary:
    m = median if mean is None else mean
    return NumericSummary(mean=m, std=1, min=0, q1=0, median=median, q3=0, max=0, z=z)


def _segment(**numeric: NumericSummary) -> SegmentProfile:
    return SegmentProfile(
        segment_id=0,
        name="x",
        description="",
        action="",
        size=1234,
        share=0.1234,
        numeric=numeric,
        categorical={},
    )


def test_behaviour_description_says_how_recently_often_and_much() -> None:
    seg = _segment(
        recency_days=_summary(9, -0.9),
        frequency=_summary(14, 1.2),
        monetary=_summary(2300, 1.5),
        coupon_share=_summary(0.1, 0.0, mean=0.8),
    )
    assert behaviour_description(seg) == (
        "1,234 customers (12.3%): last bought 9 days ago on median, 14 orders, 2,300 spent; "
        "they spend more than most customers; 80% of their orders use a coupon."
    )
    assert behaviour_action(seg) == (
        "Reward loyalty: VIP tier, early access and thank-you gifts. They answer coupons: "
        "target them, on full-price baskets only."
    )


def test_behaviour_action_wins_back_lapsed_spenders_and_onboards_new_ones() -> None:
    lapsed = _segment(
        recency_days=_summary(400, 1.4), frequency=_summary(8, 0.2), monetary=_summary(900, 0.6)
    )
    assert behaviour_action(lapsed) == (
        "Win back: a personal 'we miss you' offer on what they used to buy."
    )
    new = _segment(
        recency_days=_summary(5, -0.8),
        frequency=_summary(1, -0.7),
        monetary=_summary(40, -0.4),
        tenure_days=_summary(6, -1.1),
    )
    assert behaviour_action(new) == (
        "Onboard: a welcome series and a second-order incentive to turn them into regulars."
    )
    assert behaviour_description(_segment(monetary=_summary(1, 0))) is None
