"""Monitoring, changes and campaigns: shown when the service offers them.

``GET /monitoring`` (live mix against training, drift status), the lineage in
``GET /model`` and ``GET /campaigns`` come with newer services; on one without them each
section says so. Their documents are drawn generically (a status first, tables for lists
of records, key/value tables for the rest), so a field added later still shows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import ui

STATUS_COLOURS = {"ok": "green", "watch": "orange", "retrain": "red"}
MAX_DEPTH = 3


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _cell(value: Any) -> Any:
    # Arrow wants one type per column: nested values and mixed cells are shown as text.
    return value if _scalar(value) else str(value)


def show_document(document: dict[str, Any], depth: int = 0) -> None:
    """Scalars as one key/value table, lists of records as tables, dicts one level down."""
    scalars = {k: v for k, v in document.items() if _scalar(v)}
    if scalars:
        table = pd.DataFrame({"field": list(scalars), "value": [str(v) for v in scalars.values()]})
        st.dataframe(table, hide_index=True)
    for key, value in document.items():
        if key in scalars:
            continue
        st.markdown(f"**{key.replace('_', ' ').capitalize()}**")
        if _records(value):
            st.dataframe(
                pd.DataFrame([{k: _cell(v) for k, v in row.items()} for row in value]),
                hide_index=True,
            )
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            rows = [{"": k} | {c: _cell(v) for c, v in row.items()} for k, row in value.items()]
            st.dataframe(pd.DataFrame(rows), hide_index=True)
        elif isinstance(value, dict) and depth < MAX_DEPTH:
            show_document(value, depth + 1)
        else:
            st.json(value, expanded=False)


def _status(document: dict[str, Any]) -> None:
    status = document.get("status")
    if isinstance(status, str):
        colour = STATUS_COLOURS.get(status, "gray")
        st.markdown(f"Drift status: :{colour}-badge[{status}]")


def _target(target: Any) -> str:
    if isinstance(target, dict):
        return f"{target.get('segment_id')} {target.get('segment_name') or ''}".strip()
    return str(target)


def show_campaigns(document: dict[str, Any]) -> None:
    """``GET /campaigns``: a refused file first, then one row per campaign."""
    if document.get("refused"):
        st.warning(f"The latest campaign file was refused: {document['refused']}")
    campaigns = document.get("campaigns")
    if not isinstance(campaigns, list):
        show_document(document)
        return
    if not campaigns:
        st.info("No campaigns on this server (none in SEG_CAMPAIGNS, or it is not set).")
        return
    rows = [
        {k: _cell(v) for k, v in c.items() if k not in ("targets", "outcome")}
        | {"targets": "; ".join(_target(t) for t in c.get("targets", []))}
        for c in campaigns
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    checked = document.get("checked_against")
    st.caption(
        (f"Checked against model {checked}. " if checked else "")
        + "Uplift is measured offline from outcomes: `segments uplift`."
    )


def _unavailable(what: str, why: str) -> None:
    st.info(f"{what} not available on this server ({why}).", icon=":material/info:")


def render() -> None:
    st.title("Monitoring, changes and campaigns")
    st.header("Live traffic against training", anchor=False)
    monitoring = ui.get_optional("/monitoring")
    if monitoring is None:
        _unavailable("Monitoring is", "no GET /monitoring")
    else:
        _status(monitoring)
        show_document(monitoring)
    st.header("Changes since the previous model", anchor=False)
    lineage = ui.get("/model").get("lineage")
    if lineage is None:
        _unavailable("Lineage is", "GET /model has no lineage")
    elif isinstance(lineage, dict):
        show_document(lineage)
    else:
        st.json(lineage, expanded=False)
    st.header("Campaigns", anchor=False)
    campaigns = ui.get_optional("/campaigns")
    if campaigns is None:
        _unavailable("Campaigns are", "no GET /campaigns")
    elif isinstance(campaigns, dict):
        show_campaigns(campaigns)
    else:
        st.dataframe(pd.DataFrame(campaigns), hide_index=True)


if __name__ == "__main__":
    render()
