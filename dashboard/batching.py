"""An uploaded customer file through ``POST /assign/batch``, in chunks (no Streamlit here).

The file's columns are matched to the request fields of ``GET /model`` (a guess the user
can change), each row becomes one customer, and the API is the judge of the values: a
chunk it refuses with 422 loses the rows its issues name (each kept with its reasons) and
is sent again without them. Rows are numbered from 1, as ``segments assign`` numbers them.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboard.client import ApiClient, ApiInvalidError, describe_issue

__all__ = [
    "CHUNK_ROWS",
    "BatchOutcome",
    "assign_rows",
    "build_customers",
    "guess_columns",
    "read_upload",
]

CHUNK_ROWS = 1000
ROW = "source_row"
Customer = dict[str, Any]


def read_upload(name: str, data: bytes) -> pd.DataFrame:
    """A CSV (every column as text, so ids keep their zeros) or a Parquet file."""
    if name.lower().endswith((".parquet", ".pq")):
        return pd.read_parquet(io.BytesIO(data))
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _squeeze(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def guess_columns(
    columns: list[str], fields: list[str], aliases: dict[str, list[str]] | None = None
) -> dict[str, str | None]:
    """For each request field, the file column that looks like it, once case and
    punctuation go: its name or one of the spec's ``aliases`` (``Genre`` for ``gender``),
    else a header starting with its name (``Annual Income (k$)`` for ``annual_income``)."""
    guessed: dict[str, str | None] = {}
    for name in fields:
        wanted = {_squeeze(n) for n in [name, *(aliases or {}).get(name, [])]}
        exact = [c for c in columns if _squeeze(c) in wanted]
        prefix = [c for c in columns if _squeeze(c).startswith(_squeeze(name))]
        found = exact or prefix
        guessed[name] = found[0] if found else None
    return guessed


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _number(value: Any) -> float | None:
    """A float, None when blank; ValueError when it is not a number."""
    if _is_blank(value):
        return None
    number = float(str(value).strip())
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def build_customers(
    frame: pd.DataFrame, mapping: dict[str, str | None], id_field: str, numeric: set[str]
) -> tuple[list[Customer], dict[int, list[str]]]:
    """One request body per row (keyed by its row number), and the rows refused already."""
    customers: list[Customer] = []
    rejected: dict[int, list[str]] = {}
    used = {name: column for name, column in mapping.items() if column is not None}
    for number, row in enumerate(frame.to_dict("records"), start=1):
        customer: Customer = {ROW: number}
        reasons: list[str] = []
        for name, column in used.items():
            value = row[column]
            if name in numeric:
                try:
                    customer[name] = _number(value)
                except ValueError:
                    reasons.append(f"{name}: {str(value)[:40]!r} is not a number")
            elif not _is_blank(value):
                customer[name] = str(value).strip()
        if customer.get(id_field) is None:
            reasons.append(f"{id_field}: missing")
        if reasons:
            rejected[number] = reasons
        else:
            customers.append(customer)
    return customers, rejected


@dataclass
class BatchOutcome:
    """Answers in file order (each with its ``source_row``) and refused rows with reasons."""

    assignments: list[dict[str, Any]] = field(default_factory=list)
    rejected: dict[int, list[str]] = field(default_factory=dict)

    def counts(self) -> pd.DataFrame:
        answers = pd.DataFrame(self.assignments, columns=["segment_id", "segment_name"])
        counts = answers.value_counts(sort=False).rename("customers").reset_index()
        counts = counts.sort_values("segment_id", ignore_index=True)
        counts["share"] = counts["customers"] / max(len(answers), 1)
        return counts

    def rejected_frame(self) -> pd.DataFrame:
        rows = sorted(self.rejected.items())
        return pd.DataFrame(
            {ROW: [n for n, _ in rows], "reason": ["; ".join(r) for _, r in rows]},
        )

    def to_csv(self, id_field: str) -> bytes:
        frame = pd.DataFrame(self.assignments)
        if frame.empty:
            frame = pd.DataFrame(columns=[ROW, id_field])
        frame = frame.rename(columns={"customer_id": id_field})
        if "imputed" in frame:
            frame["imputed"] = frame["imputed"].map(";".join)
        if "campaigns" in frame:  # as `segments assign --campaigns` writes it: name=arm;...
            frame["campaigns"] = frame["campaigns"].map(
                lambda arms: ";".join(f"{a['name']}={a['arm']}" for a in arms)
            )
        return frame.to_csv(index=False).encode()


def _assign_chunk(client: ApiClient, chunk: list[Customer], outcome: BatchOutcome) -> None:
    pending = chunk
    while pending:  # each 422 removes at least one row, so this ends
        body = {"customers": [{k: v for k, v in c.items() if k != ROW} for c in pending]}
        try:
            answers = client.post("/assign/batch", body)["assignments"]
        except ApiInvalidError as exc:
            bad = _issues_by_position(exc)
            for position, reasons in bad.items():
                outcome.rejected.setdefault(pending[position][ROW], []).extend(reasons)
            pending = [c for i, c in enumerate(pending) if i not in bad]
            continue
        for customer, answer in zip(pending, answers, strict=True):
            outcome.assignments.append({ROW: customer[ROW], **answer})
        return


def _issues_by_position(exc: ApiInvalidError) -> dict[int, list[str]]:
    bad: dict[int, list[str]] = {}
    for issue in exc.issues:
        loc = issue.get("loc", [])
        if len(loc) < 3 or loc[1] != "customers" or not isinstance(loc[2], int):
            raise exc  # not about one customer (e.g. too many at once): nothing to drop
        bad.setdefault(loc[2], []).append(describe_issue(issue))
    return bad


def _server_limit(exc: ApiInvalidError) -> int | None:
    """The server's most customers per call, when that is what it refused."""
    for issue in exc.issues:
        if issue.get("type") == "too_long" and issue.get("loc") == ["body", "customers"]:
            return int(issue.get("ctx", {}).get("max_length", 0)) or None
    return None


def assign_rows(
    client: ApiClient,
    customers: list[Customer],
    *,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchOutcome:
    """Assign every customer through the API, ``chunk_rows`` at a time (fewer when the
    server's SEG_MAX_BATCH is lower)."""
    outcome, start = BatchOutcome(), 0
    while start < len(customers):
        chunk = customers[start : start + chunk_rows]
        try:
            _assign_chunk(client, chunk, outcome)
        except ApiInvalidError as exc:
            limit = _server_limit(exc)
            if limit is None or limit >= chunk_rows:
                raise
            chunk_rows = limit
            continue
        start += len(chunk)
        if on_progress is not None:
            on_progress(start, len(customers))
    outcome.assignments.sort(key=lambda answer: answer[ROW])
    return outcome
