"""Monitoring, changes and campaigns: shown when the service offers them.

``GET /monitoring`` (live mix against training, drift status), the lineage in
``GET /model`` and ``GET /campaigns`` come with newer services; on one without them (or
with monitoring turned off) each section says so, in the server's words when it gives any.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import panels, ui
from dashboard.client import Absent


def _unavailable(what: str, why: str) -> None:
    st.info(f"{what} not available on this server ({why}).", icon=":material/info:")


def render() -> None:
    st.title("Monitoring, changes and campaigns")
    model = ui.get("/model")
    st.header("Live traffic against training", anchor=False)
    monitoring = ui.get_optional("/monitoring")
    if isinstance(monitoring, Absent):
        _unavailable("Monitoring is", monitoring.reason)
    else:
        names = {s["segment_id"]: s["name"] for s in ui.get("/segments")["segments"]}
        panels.show_monitoring(monitoring, names)
    st.header("Changes since the previous model", anchor=False)
    lineage = model.get("lineage")
    if lineage is None:
        _unavailable("Lineage is", "GET /model has no lineage")
    elif isinstance(lineage, dict):
        panels.show_lineage(lineage)
    else:
        st.json(lineage, expanded=False)
    st.header("Campaigns", anchor=False)
    campaigns = ui.get_optional("/campaigns")
    if isinstance(campaigns, Absent):
        _unavailable("Campaigns are", campaigns.reason)
    elif isinstance(campaigns, dict):
        panels.show_campaigns(campaigns)
    else:
        st.dataframe(pd.DataFrame(campaigns), hide_index=True)


if __name__ == "__main__":
    render()
