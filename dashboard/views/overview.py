"""Overview: one card per segment, the model and how k was chosen, the full report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from dashboard import ui

CARDS_PER_ROW = 3


def _trained(model: dict[str, Any]) -> str:
    created = datetime.fromisoformat(str(model["created_at"]).replace("Z", "+00:00"))
    return f"{created:%Y-%m-%d %H:%M} UTC"


def _typical(segment: dict[str, Any], features: dict[str, dict[str, Any]]) -> str:
    parts = []
    for name, value in segment["typical"].items():
        feature = features.get(name, {"name": name, "unit": None})
        parts.append(f"{ui.feature_label(feature)}: **{ui.fmt_number(value)}**")
    return " · ".join(parts)


ALGORITHMS = {"kmeans": "K-Means", "gmm": "Gaussian mixture"}


def _algorithm(model: dict[str, Any]) -> str:
    name = model.get("algorithm")  # servers before the Gaussian mixture do not say
    return f"{ALGORITHMS.get(name, name)}, " if name else ""


def _card(segment: dict[str, Any], features: dict[str, dict[str, Any]], version: str) -> None:
    since = segment.get("since_version")  # services with lineage: kept across retrains
    kept = f" (since model {since})" if since and since != version else ""
    with st.container(border=True):
        st.subheader(segment["name"], anchor=False)
        st.caption(f"segment {segment['segment_id']}{kept} · {segment['description']}")
        share, size = st.columns(2)
        share.metric("Share", f"{segment['share']:.1%}")
        size.metric("Customers", f"{segment['size']:,}")
        st.markdown("Typical: " + _typical(segment, features))
        st.markdown(f"**Suggested action:** {segment['action']}")


def render() -> None:
    st.title("Customer segments")
    model = ui.get("/model")
    segments = ui.get("/segments")
    profile = ui.get("/profile")
    st.markdown(
        f"Model **{model['model_version']}**, trained {_trained(model)} on "
        f"{model['rows_kept']:,} customers ({_algorithm(model)}spec `{model['spec']}`)."
    )
    st.markdown(f"**How k was chosen.** {profile['selection']['reason']}")
    if model.get("report_url"):
        st.link_button(
            "Open the full report", ui.connection().link(model["report_url"]), type="primary"
        )
    features = {f["name"]: f for f in model["features"]}
    cards = segments["segments"]
    for start in range(0, len(cards), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, segment in zip(columns, cards[start : start + CARDS_PER_ROW], strict=False):
            with column:
                _card(segment, features, model["model_version"])


if __name__ == "__main__":
    render()
