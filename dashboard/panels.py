"""The documents of the Monitoring page: drift, lineage and campaigns, drawn from the API.

Each has a reading for the shape the service answers today (``GET /monitoring``, the
``lineage`` of ``GET /model``, ``GET /campaigns``), and falls back to a generic drawing (a
key/value table for scalars, tables for lists of records) so a field added later still
shows and an unknown shape never breaks the page.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import pandas as pd
import streamlit as st

from dashboard import charts

__all__ = ["show_campaigns", "show_document", "show_lineage", "show_monitoring"]

STATUS_COLOURS = {"ok": "green", "watch": "orange", "retrain": "red"}
MAX_DEPTH = 3


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _records(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _cell(value: Any) -> Any:
    # Arrow wants one type per column: nested values and mixed cells are shown as text.
    return value if _scalar(value) else str(value)


def _text(value: Any) -> str:
    """A figure for people: 1.018e-06 and 0.14 stay short (4 significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


def show_document(document: dict[str, Any], depth: int = 0) -> None:
    """Scalars as one key/value table, lists of records as tables, dicts one level down."""
    scalars = {k: v for k, v in document.items() if _scalar(v)}
    if scalars:
        table = pd.DataFrame(
            {"field": list(scalars), "value": [_text(v) for v in scalars.values()]}
        )
        st.dataframe(table, hide_index=True)
    for key, value in document.items():
        if key in scalars:
            continue
        st.markdown(f"**{_title(key)}**")
        if _records(value):
            st.dataframe(
                pd.DataFrame([{k: _cell(v) for k, v in row.items()} for row in value]),
                hide_index=True,
            )
        elif isinstance(value, list) and all(_scalar(v) for v in value):
            st.markdown(", ".join(str(v) for v in value) or "none")
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            rows = [{"": k} | {c: _cell(v) for c, v in row.items()} for k, row in value.items()]
            st.dataframe(pd.DataFrame(rows), hide_index=True)
        elif isinstance(value, dict) and depth < MAX_DEPTH:
            show_document(value, depth + 1)
        else:
            st.json(value, expanded=False)


def _named(rows: Any, names: dict[int, str]) -> Any:
    """Records with a ``segment_id`` get the segment's name beside it."""
    if not _records(rows):
        return rows
    return [
        {"segment_id": r["segment_id"], "segment": names.get(r["segment_id"])} | r
        if "segment_id" in r
        else r
        for r in rows
    ]


def show_monitoring(document: dict[str, Any], names: dict[int, str]) -> None:
    """``GET /monitoring``: the status and its reasons, the mix as bars, then every figure."""
    status = document.get("status")
    if isinstance(status, str):
        st.markdown(f"Drift status: :{STATUS_COLOURS.get(status, 'gray')}-badge[{status}]")
    segments = document.get("segments")
    if _records(segments) and all("training_share" in s for s in segments):
        if any(s.get("live_share") is None for s in segments):
            st.caption("Too few assignments in the window yet: live shares are not shown.")
        st.plotly_chart(charts.mix_bars(segments, names), key="monitoring_mix")
    show_document({key: _named(value, names) for key, value in document.items()})


def _ids(ids: Any) -> str:
    return ", ".join(str(i) for i in ids) if isinstance(ids, list) and ids else "none"


def show_lineage(lineage: dict[str, Any]) -> None:
    """The served model's segment ids against the previous model's, in a sentence."""
    if lineage.get("matched") is False:
        st.info(
            f"No previous model to compare with: {lineage.get('reason', 'not matched')}.",
            icon=":material/info:",
        )
        return
    if "kept" in lineage:
        text = (
            f"Segment ids matched to model **{lineage.get('previous_version')}**: "
            f"kept {_ids(lineage['kept'])}; new {_ids(lineage.get('new'))}; "
            f"retired {_ids(lineage.get('retired'))}."
        )
        shared, changed = lineage.get("shared_customers"), lineage.get("changed_share")
        if shared and changed is not None:
            text += f" Of the {shared:,} customers in both trainings, {changed:.1%} changed segment"
            text += f" (ARI {lineage['ari']:.2f})." if lineage.get("ari") is not None else "."
        st.markdown(text)
    show_document(lineage)


def _target(target: Any) -> str:
    if isinstance(target, dict):
        return f"{target.get('segment_id')} {target.get('segment_name') or ''}".strip()
    return str(target)


def _outcome(outcome: Any) -> str:
    if not isinstance(outcome, dict):
        return "" if outcome is None else str(outcome)
    window = outcome.get("window_days")
    return f"{outcome.get('metric')}" + (f" within {window} days" if window else "")


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
        | {"judged on": _outcome(c.get("outcome"))}
        for c in campaigns
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    checked = document.get("checked_against")
    st.caption(
        (f"Checked against model {checked}. " if checked else "")
        + "The API does not serve uplift: measure it offline from outcomes with "
        "`segments uplift`."
    )
