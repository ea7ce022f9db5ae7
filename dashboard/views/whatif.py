"""What-if: one input per request field of ``GET /model``, answered by ``POST /assign``.

Sliders for bounded numbers, number boxes for unbounded ones, selects for allowed values;
each starts at the training median or most common value. Every change asks the API again
(Streamlit reruns the page), and the customer is drawn on the segments' scatter.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import charts, ui
from dashboard.client import Absent, ApiError, ApiInvalidError
from dashboard.views import explore

CUSTOMER_ID = "what-if"
LEAVE_OUT_KEY = "whatif_leave_out"


def _slider_range(feature: dict[str, Any], summary: dict[str, Any] | None) -> tuple[float, float]:
    """The training range with half its span on each side (room for atypical customers),
    within the field's bounds: a spec's bounds (income up to 10,000 k$) can dwarf the data."""
    low, high = float(feature["minimum"]), float(feature["maximum"])
    if summary is None:
        return low, high
    margin = (float(summary["max"]) - float(summary["min"])) / 2
    return max(low, float(summary["min"]) - margin), min(high, float(summary["max"]) + margin)


def _step(low: float, high: float) -> float:
    return 1.0 if high - low >= 20 else (high - low) / 100 if high > low else 1.0


def _categorical(feature: dict[str, Any], profile: dict[str, Any], key: str) -> Any:
    allowed = list(feature["allowed"])
    mix = profile["overall_categorical"].get(feature["name"]) or {}
    common = max(mix, key=mix.__getitem__) if mix else allowed[0]
    index = allowed.index(common) if common in allowed else 0
    return st.selectbox(ui.feature_label(feature), allowed, index, key=key)


def _input(feature: dict[str, Any], profile: dict[str, Any]) -> Any:
    """One input for one request field, starting at the training median / most common value."""
    key, label = f"whatif_{feature['name']}", ui.feature_label(feature)
    if feature["kind"] == "categorical":
        return _categorical(feature, profile, key)
    summary = profile["overall_numeric"].get(feature["name"])
    median = float(summary["median"]) if summary else None
    if feature["minimum"] is None or feature["maximum"] is None:
        value = median if median is not None else feature["minimum"] or 0.0
        return st.number_input(label, feature["minimum"], feature["maximum"], value, key=key)
    low, high = _slider_range(feature, summary)
    step = _step(low, high)
    start = min(max(round((median if median is not None else low) / step) * step, low), high)
    start = round(start, 6)  # 0.35, not 0.35000000000000003
    shown = "%.0f" if step >= 1 else "%.2f"
    return st.slider(label, low, high, start, step, format=shown, key=key)


def _customer(model: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    words = {f["name"]: ui.feature_label(f) for f in model["features"]}
    left_out = st.multiselect(
        "Leave out (the service fills a missing cluster feature with the training value)",
        list(words),
        format_func=words.__getitem__,
        key=LEAVE_OUT_KEY,
    )
    customer: dict[str, Any] = {model["id_field"]: CUSTOMER_ID}
    for feature in model["features"]:
        value = _input(feature, profile)
        if feature["name"] not in left_out:
            customer[feature["name"]] = value
    return customer


def _answer(answer: dict[str, Any], segments: dict[int, dict[str, Any]]) -> None:
    segment = segments.get(answer["segment_id"], {})
    st.caption("This customer lands in")
    st.subheader(answer["segment_name"], anchor=False)  # a metric would cut a long name
    confidence, atypical = st.columns(2)
    confidence.metric("Confidence", f"{answer['confidence']:.0%}")
    atypical.metric("Atypical", "yes" if answer["atypical"] else "no")
    imputed = ", ".join(answer["imputed"]) or "none"
    st.markdown(f"Imputed fields: **{imputed}** · distance {answer['distance']:.3f}")
    if segment:
        st.markdown(f"**Suggested action:** {segment['action']}")
    for arm in answer.get("campaigns", []):
        offer = f": {arm['offer']}" if arm.get("offer") else " (no offer: control group)"
        st.markdown(f"**Campaign {arm['name']}**, {arm['arm']} arm{offer}")
    st.caption(f"segment {answer['segment_id']} · model {answer['model_version']}")


def _point(
    customer: dict[str, Any], answer: dict[str, Any], x: str, y: str, profile: dict[str, Any]
) -> dict[str, Any]:
    def coordinate(name: str) -> Any:
        if name == charts.SEGMENT:
            return answer["segment_name"]
        if name in customer:
            return customer[name]
        summary = profile["overall_numeric"].get(name)  # imputed: near the training median
        return summary["median"] if summary else None

    return {
        "x": coordinate(x),
        "y": coordinate(y),
        "name": f"This customer: {answer['segment_name']}",
    }


def render() -> None:
    st.title("Where would this customer land?")
    model, profile = ui.get("/model"), ui.get("/profile")
    segments = {s["segment_id"]: s for s in ui.get("/segments")["segments"]}
    inputs, result = st.columns([2, 3], gap="large")
    with inputs:
        customer = _customer(model, profile)
    try:
        answer = ui.client().post("/assign", customer)
    except ApiInvalidError as exc:
        with result:
            st.error(exc.message, icon=":material/block:")
        return
    except ApiError as exc:
        with result:
            ui.stop_with(exc)
    with result:
        _answer(answer, segments)
        x, y = explore.default_axes(explore.axes_choices(model))
        shown = explore.segments_figure(model, x, y, _point(customer, answer, x, y, profile))
        if isinstance(shown, Absent):
            st.info(f"The segments' scatter is not available on this server ({shown.reason}).")
        else:
            st.plotly_chart(shown[0], key="whatif_chart")


if __name__ == "__main__":
    render()
