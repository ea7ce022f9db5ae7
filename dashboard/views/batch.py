"""Batch: upload a CSV or Parquet file, assign it through ``POST /assign/batch`` in chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import batching, ui
from dashboard.client import ApiError

NONE = "(not in the file)"
RESULT_KEY = "batch_result"


def _mapping(model: dict[str, Any], columns: list[str]) -> dict[str, str | None]:
    fields = [model["id_field"], *(f["name"] for f in model["features"])]
    words = {f["name"]: ui.feature_label(f) for f in model["features"]}
    words[model["id_field"]] = "Customer id"
    aliases = {f["name"]: f.get("aliases", []) for f in model["features"]}
    aliases[model["id_field"]] = model.get("id_aliases", [])
    guess = batching.guess_columns(columns, fields, aliases)
    st.markdown("**Which column holds each field?** (guessed from the headers; change any)")
    options = [NONE, *columns]
    boxes = st.columns(min(len(fields), 4))
    chosen: dict[str, str | None] = {}
    for i, name in enumerate(fields):
        found = guess[name]
        value = boxes[i % len(boxes)].selectbox(
            words.get(name, name), options, options.index(found) if found else 0, key=f"map_{name}"
        )
        chosen[name] = None if value == NONE else value
    return chosen


def _run(model: dict[str, Any], frame: Any, mapping: dict[str, str | None]) -> None:
    numeric = {f["name"] for f in model["features"] if f["kind"] == "numeric"}
    customers, rejected = batching.build_customers(frame, mapping, model["id_field"], numeric)
    bar = st.progress(0.0, text="sending the first chunk")

    def on_progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done:,} of {total:,} customers sent")

    try:
        outcome = batching.assign_rows(ui.client(), customers, on_progress=on_progress)
    except ApiError as exc:
        ui.stop_with(exc)
    bar.progress(1.0, text=f"{len(customers):,} customers sent")
    outcome.rejected.update(rejected)
    st.session_state[RESULT_KEY] = outcome


def _show(outcome: batching.BatchOutcome, id_field: str, stem: str) -> None:
    assigned, refused = st.columns(2)
    assigned.metric("Assigned", f"{len(outcome.assignments):,}")
    refused.metric("Rejected", f"{len(outcome.rejected):,}")
    counts = outcome.counts()
    st.subheader("Customers per segment", anchor=False)
    st.dataframe(
        counts,
        hide_index=True,
        column_config={"share": st.column_config.NumberColumn("share", format="percent")},
    )
    if outcome.rejected:
        st.subheader("Rejected rows", anchor=False)
        st.dataframe(outcome.rejected_frame(), hide_index=True)
    st.download_button(
        "Download the assignments (CSV)",
        outcome.to_csv(id_field),
        file_name=f"{stem}.assigned.csv",
        mime="text/csv",
        type="primary",
    )


def render() -> None:
    st.title("Assign a file")
    model = ui.get("/model")
    upload = st.file_uploader(
        "A customer file (CSV or Parquet), one customer per row",
        type=["csv", "parquet"],
        key="batch_file",
        on_change=lambda: st.session_state.pop(RESULT_KEY, None),
    )
    if upload is None:
        fields = ", ".join([model["id_field"], *(f["name"] for f in model["features"])])
        st.info(f"Expected columns (any header spelling): {fields}.")
        return
    try:
        frame = batching.read_upload(upload.name, upload.getvalue())
    except Exception as exc:  # any unreadable file: say so, never a traceback
        st.error(f"Cannot read {upload.name}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
        return
    frame.columns = [str(c) for c in frame.columns]
    st.caption(f"{upload.name}: {len(frame):,} rows, {len(frame.columns)} columns.")
    mapping = _mapping(model, list(frame.columns))
    if mapping[model["id_field"]] is None:
        st.warning(f"Choose the column that holds the customer id ({model['id_field']}).")
        return
    if st.button(f"Assign {len(frame):,} customers", type="primary"):
        _run(model, frame, mapping)
    outcome = st.session_state.get(RESULT_KEY)
    if isinstance(outcome, batching.BatchOutcome):
        _show(outcome, model["id_field"], Path(upload.name).stem)


if __name__ == "__main__":
    render()
