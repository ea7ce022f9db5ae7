"""Explore: the training customers in space, coloured by segment, with each centre.

The points come from ``GET /profile/sample`` (cluster feature values and segment only).
:func:`segments_figure` is shared with the What-if page, which adds its customer.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from dashboard import charts, ui
from dashboard.client import Absent

SAMPLE_SIZE = 2000
X_KEY, Y_KEY = "explore_x", "explore_y"


def axes_choices(model: dict[str, Any]) -> list[str]:
    """Numeric cluster features first (the scatter's natural axes), then the others."""
    cluster = ui.cluster_features(model)
    numeric = [f["name"] for f in cluster if f["kind"] == "numeric"]
    return numeric + [f["name"] for f in cluster if f["kind"] != "numeric"] + [charts.SEGMENT]


def default_axes(choices: list[str]) -> tuple[str, str]:
    x = st.session_state.get(X_KEY, choices[0])
    y = st.session_state.get(Y_KEY, choices[1] if len(choices) > 1 else choices[0])
    return (x if x in choices else choices[0]), (y if y in choices else choices[-1])


def labels(model: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: ui.feature_label(f) for f in model["features"]} | {charts.SEGMENT: "Segment"}


def segments_figure(
    model: dict[str, Any], x: str, y: str, point: dict[str, Any] | None = None
) -> tuple[go.Figure, dict[str, Any]] | Absent:
    """The scatter and the sample it shows; the server's reason when it offers no sample."""
    sample = ui.get_optional("/profile/sample", n=SAMPLE_SIZE)
    if isinstance(sample, Absent):
        return sample
    segments = ui.get("/segments")["segments"]
    names = {s["segment_id"]: s["name"] for s in segments}
    frame = charts.sample_frame(sample, names)
    numeric = [f["name"] for f in ui.cluster_features(model) if f["kind"] == "numeric"]
    centres = charts.centres(ui.get("/profile"), numeric)
    return charts.scatter(frame, x, y, centres, labels(model), point), sample


def render() -> None:
    st.title("Explore the segments")
    model = ui.get("/model")
    choices = axes_choices(model)
    words = labels(model)
    x, y = default_axes(choices)
    left, right = st.columns(2)

    def word(name: str) -> str:
        return words.get(name, name)

    left.selectbox("Horizontal axis", choices, choices.index(x), word, key=X_KEY)
    right.selectbox("Vertical axis", choices, choices.index(y), word, key=Y_KEY)
    shown = segments_figure(model, st.session_state[X_KEY], st.session_state[Y_KEY])
    if isinstance(shown, Absent):
        st.info(f"The customer sample is not available on this server ({shown.reason}).")
        return
    figure, sample = shown
    st.plotly_chart(figure, key="explore_chart")
    st.caption(
        f"A fixed-seed sample of {len(sample['segment_id']):,} of the "
        f"{sample['n_customers']:,} training customers (seed {sample['seed']}), coloured by "
        "segment; crosses mark each segment's centre (its mean). Hover for values."
    )


if __name__ == "__main__":
    render()
