"""The segments in space: a Plotly scatter of the training sample, centres and a customer."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

__all__ = ["SEGMENT", "centres", "mix_bars", "sample_frame", "scatter"]

SEGMENT = "segment"
# Plotly's "Plotly" qualitative palette, repeated for many segments.
COLOURS = (
    "#636EFA",
    "#EF553B",
    "#00CC96",
    "#AB63FA",
    "#FFA15A",
    "#19D3F3",
    "#FF6692",
    "#B6E880",
    "#FF97FF",
    "#FECB52",
)


def sample_frame(sample: dict[str, Any], names: dict[int, str]) -> pd.DataFrame:
    """``GET /profile/sample`` as a frame: one column per cluster feature, then the segment."""
    frame = pd.DataFrame(sample["columns"])
    frame["segment_id"] = sample["segment_id"]
    frame[SEGMENT] = [names.get(i, f"segment {i}") for i in sample["segment_id"]]
    return frame


def centres(profile: dict[str, Any], features: list[str]) -> pd.DataFrame:
    """Each segment's mean of each numeric feature (its K-Means centre, in original units)."""
    rows = []
    for segment in profile["segments"]:
        numeric = segment["numeric"]
        row = {name: numeric[name]["mean"] for name in features if name in numeric}
        rows.append({"segment_id": segment["segment_id"], SEGMENT: segment["name"], **row})
    return pd.DataFrame(rows)


def _hover(x: str, y: str, labels: dict[str, str]) -> str:
    return (
        "<b>%{customdata}</b><br>"
        f"{labels.get(x, x)}: %{{x}}<br>{labels.get(y, y)}: %{{y}}<extra></extra>"
    )


def scatter(
    frame: pd.DataFrame,
    x: str,
    y: str,
    centre_frame: pd.DataFrame,
    labels: dict[str, str],
    point: dict[str, Any] | None = None,
) -> go.Figure:
    """Customers coloured by segment, a cross at each segment's centre, and ``point``
    (``{x, y, name}``) as a star when given."""
    figure = go.Figure()
    for i, (segment_id, rows) in enumerate(frame.groupby("segment_id", sort=True)):
        colour = COLOURS[int(str(segment_id)) % len(COLOURS)]
        name = str(rows[SEGMENT].iloc[0])
        figure.add_trace(
            go.Scattergl(
                x=rows[x],
                y=rows[y],
                mode="markers",
                name=name,
                legendrank=i,
                marker={"color": colour, "size": 6, "opacity": 0.6},
                customdata=rows[SEGMENT],
                hovertemplate=_hover(x, y, labels),
            )
        )
    if x in centre_frame and y in centre_frame:
        figure.add_trace(
            go.Scatter(
                x=centre_frame[x],
                y=centre_frame[y],
                mode="markers",
                name="segment centre",
                marker={"symbol": "x", "size": 14, "color": "black"},
                customdata=centre_frame[SEGMENT] + " (centre)",
                hovertemplate=_hover(x, y, labels),
            )
        )
    if point is not None:
        figure.add_trace(
            go.Scatter(
                x=[point["x"]],
                y=[point["y"]],
                mode="markers",
                name="this customer",
                marker={"symbol": "star", "size": 22, "color": "gold", "line": {"width": 2}},
                customdata=[point["name"]],
                hovertemplate=_hover(x, y, labels),
            )
        )
    figure.update_layout(
        xaxis_title=labels.get(x, x),
        yaxis_title=labels.get(y, y),
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "title_text": ""},
        height=560,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return figure


def mix_bars(segments: list[dict[str, Any]], names: dict[int, str]) -> go.Figure:
    """Each segment's training share beside its live share (``GET /monitoring``)."""
    labels = [names.get(s["segment_id"], f"segment {s['segment_id']}") for s in segments]
    figure = go.Figure()
    for key, title, colour in (
        ("training_share", "training", "#B0B7C3"),
        ("live_share", "live (window)", "#636EFA"),
    ):
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[s.get(key) for s in segments],
                name=title,
                marker={"color": colour},
                hovertemplate="%{x}<br>" + title + ": %{y:.1%}<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="group",
        yaxis={"tickformat": ".0%", "title": "share of customers"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "title_text": ""},
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return figure
