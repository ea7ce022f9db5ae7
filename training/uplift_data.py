"""Inputs of ``segments uplift``: assignments joined with outcomes, and the table per segment.

Assignments (CSV or Parquet) need the id, ``segment_id`` and the campaign's arm: either a
``campaigns`` column as ``segments assign --campaigns`` writes it (``name=arm;...``) or an
``arm`` column (with an optional ``campaign`` column). ``segment_name`` is used when present.
Outcomes need the id and ``converted`` (0/1, true/false) and/or ``revenue`` (a number),
one row per customer.

Nothing is guessed: ids in outcomes but not assigned, ids assigned to both arms (or to
several segments), and assigned ids without an outcome are counted, reported and left out.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from training.campaigns import ARMS, TREATMENT
from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES, DataError
from training.uplift import UpliftRow, holm, proportions_row, verdict, welch_row

__all__ = ["METRICS", "Joined", "analyse", "join_inputs", "read_assignments", "read_outcomes"]

METRICS = ("converted", "revenue")
UNITS = {"converted": "pp", "revenue": ""}
_NONE = {"sum": 0.0, "count": 0.0, "mean": float("nan"), "var": float("nan")}
_NULL = pa.scalar(None, pa.string())
_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


@dataclass
class Joined:
    """The customers analysed, one row each, and what was left out."""

    frame: pd.DataFrame  # segment_id, treated (bool), one column per metric
    metrics: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # segment id -> name


def _columns(path: Path) -> list[str]:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return list(pq.read_schema(path).names)
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _read(path: Path, what: str, required: list[str], optional: list[str]) -> pa.Table:
    """Read ``required`` (+ present ``optional``) columns as text; one-line errors."""
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        raise DataError(f"--{what} {path}: use a .csv or .parquet file")
    if not path.is_file():
        raise DataError(f"--{what} {path}: file not found")
    try:
        header = _columns(path)
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"--{what} {path}: missing column(s) {', '.join(missing)} "
                f"(found: {', '.join(header) or 'none'})"
            )
        wanted = required + [c for c in optional if c in header]
        if suffix in PARQUET_SUFFIXES:
            table = pq.read_table(path, columns=wanted)
            return pa.table({c: pc.cast(table[c], pa.string()) for c in wanted})
        types = dict.fromkeys(wanted, pa.string())
        options = pacsv.ConvertOptions(include_columns=wanted, column_types=types)
        return pacsv.read_csv(path, convert_options=options)
    except (OSError, UnicodeDecodeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(f"--{what} {path}: cannot read it ({str(exc).splitlines()[0]})") from None


def _arms(table: pa.Table, campaign: str) -> pa.Array:
    """The campaign's arm per row (null where the row is not in it)."""
    if "campaigns" in table.column_names:
        column = table["campaigns"]
        name = re.escape(campaign)
        masks = [pc.match_substring_regex(column, rf"(^|;){name}={a}(;|$)") for a in ARMS]
        return pc.if_else(masks[0], ARMS[0], pc.if_else(masks[1], ARMS[1], _NULL))
    arms = table["arm"]
    if "campaign" in table.column_names:
        arms = pc.if_else(pc.equal(table["campaign"], campaign), arms, _NULL)
    return pc.if_else(pc.is_in(arms, pa.array(ARMS)), arms, _NULL)


def _campaigns_in(table: pa.Table) -> list[str]:
    if "campaigns" in table.column_names:
        pairs = pc.list_flatten(pc.split_pattern(table["campaigns"].drop_null(), ";"))
        names = pc.list_element(pc.split_pattern(pairs, "="), 0)
        return sorted(n for n in pc.unique(names).to_pylist() if n)
    if "campaign" in table.column_names:
        return sorted(n for n in pc.unique(table["campaign"]).to_pylist() if n)
    return []


def read_assignments(path: Path, campaign: str, id_column: str) -> tuple[pa.Table, int]:
    """(id, segment_id, segment_name, arm) of the customers in ``campaign``; rows read."""
    optional = ["campaigns", "arm", "segment_name", "campaign"]
    table = _read(path, "assignments", [id_column, "segment_id"], optional)
    if "campaigns" not in table.column_names and "arm" not in table.column_names:
        raise DataError(
            f"--assignments {path}: missing column campaigns (as segments assign --campaigns "
            "writes it) or arm"
        )
    if table[id_column].null_count:
        raise DataError(f"--assignments {path}: {table[id_column].null_count} rows have no id")
    arms = _arms(table, campaign)
    inside = pc.is_valid(arms)
    if not pc.any(inside).as_py():
        raise DataError(
            f"--campaign {campaign!r}: no customer of {path} is in it "
            f"(campaigns found: {', '.join(_campaigns_in(table)) or 'none'})"
        )
    rows = table.num_rows
    table = table.filter(inside).append_column("arm_", arms.filter(inside))
    try:
        segment = pc.cast(table["segment_id"], pa.int64()).to_numpy()
    except pa.ArrowInvalid:
        raise DataError(f"--assignments {path}: segment_id must be whole numbers >= 0") from None
    if (segment < 0).any():
        raise DataError(f"--assignments {path}: segment_id must be whole numbers >= 0")
    named = "segment_name" in table.column_names
    out = pa.table(
        {
            "id": pc.cast(table[id_column], pa.string()),
            "segment_id": pa.array(segment),
            "segment_name": table["segment_name"].fill_null("") if named else [""] * len(segment),
            "arm": table["arm_"],
        }
    )
    return out, rows


def _flag(values: pa.ChunkedArray, path: Path) -> np.ndarray:
    values = values.fill_null("")
    text = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    true, false = pc.is_in(text, pa.array(sorted(_TRUE))), pc.is_in(text, pa.array(sorted(_FALSE)))
    bad = pc.invert(pc.or_(true, false)).to_numpy(zero_copy_only=False)
    if bad.any():
        example = values.to_numpy(zero_copy_only=False)[bad][0]
        raise DataError(
            f"--outcomes {path}: converted must be 0/1 or true/false "
            f"({int(bad.sum())} rows are not, e.g. {example!r})"
        )
    flags: np.ndarray = true.to_numpy(zero_copy_only=False).astype(np.int64)
    return flags


def read_outcomes(path: Path, id_column: str) -> tuple[pa.Table, list[str]]:
    """(id, converted and/or revenue) per customer, one row each; and the metrics found."""
    present = [c for c in METRICS if c in (_columns(path) if path.is_file() else [])]
    if path.is_file() and not present:
        raise DataError(f"--outcomes {path}: missing column converted or revenue (need one)")
    table = _read(path, "outcomes", [id_column, *present], [])
    ids = table[id_column]
    if ids.null_count:
        raise DataError(f"--outcomes {path}: {ids.null_count} rows have no id")
    distinct = pc.count_distinct(ids).as_py()
    if distinct < len(ids):
        first = pd.Series(ids.to_numpy()).duplicated().to_numpy()
        raise DataError(
            f"--outcomes {path}: {len(ids) - distinct} duplicated ids in {id_column} "
            f"(first: {ids.to_numpy()[first][0]!r}): give one row per customer"
        )
    out: dict[str, Any] = {"id": pc.cast(ids, pa.string())}
    if "converted" in present:
        out["converted"] = _flag(table["converted"], path)
    if "revenue" in present:
        try:
            revenue = pc.cast(table["revenue"], pa.float64()).to_numpy()
        except pa.ArrowInvalid:
            revenue = np.array([np.nan])
        if not np.isfinite(revenue).all():
            raise DataError(f"--outcomes {path}: revenue must be a finite number on every row")
        out["revenue"] = revenue
    return pa.table(out), present


def _one_arm_each(assigned: pa.Table, counts: dict[str, int]) -> pa.Table:
    """Collapse repeated rows; leave out ids in both arms or in several segments."""
    ids = assigned["id"]
    counts["repeated_rows"] = len(ids) - pc.count_distinct(ids).as_py()
    counts["in_both_arms"] = counts["in_several_segments"] = 0
    if not counts["repeated_rows"]:
        return assigned
    frame = assigned.select(["id", "arm", "segment_id"]).to_pandas()
    repeated = frame["id"].duplicated(keep=False)
    groups = frame[repeated].groupby("id")[["arm", "segment_id"]].nunique()
    both = groups.index[groups["arm"] > 1]
    several = groups.index[(groups["arm"] == 1) & (groups["segment_id"] > 1)]
    counts["in_both_arms"], counts["in_several_segments"] = len(both), len(several)
    keep = ~frame["id"].isin(both.union(several)) & ~frame["id"].duplicated()
    return assigned.filter(pa.array(keep.to_numpy()))


def join_inputs(
    assignments: Path, outcomes: Path, campaign: str, id_column: str = "customer_id"
) -> Joined:
    """Read both files and keep the customers with one arm, one segment and one outcome."""
    assigned, rows = read_assignments(assignments, campaign, id_column)
    results, metrics = read_outcomes(outcomes, id_column)
    counts = {
        "assignment_rows": rows,
        "in_campaign": assigned.num_rows,
        "outcome_rows": results.num_rows,
    }
    in_campaign = assigned["id"]
    assigned = _one_arm_each(assigned, counts)
    where = pc.index_in(results["id"], value_set=assigned["id"])  # null: left out
    known = pc.is_valid(where).to_numpy(zero_copy_only=False)
    if assigned.num_rows == len(in_campaign):
        counts["outcomes_not_assigned"] = int((~known).sum())
    else:  # outcomes of ids left out above are not "not assigned"
        inside = pc.is_in(results["id"], value_set=in_campaign)
        counts["outcomes_not_assigned"] = results.num_rows - pc.sum(inside).as_py()
    positions = where.filter(pc.is_valid(where)).to_numpy()
    frame = pd.DataFrame(
        {
            "segment_id": assigned["segment_id"].to_numpy(),
            "treated": pc.equal(assigned["arm"], TREATMENT).to_numpy(zero_copy_only=False),
        }
    )
    for metric in metrics:
        values = np.full(len(frame), np.nan)
        values[positions] = results[metric].to_numpy()[known]
        frame[metric] = values
    no_outcome = np.isnan(frame[metrics[0]].to_numpy())
    counts["assigned_without_outcome"] = int(no_outcome.sum())
    frame = frame[~no_outcome].reset_index(drop=True)
    counts["analysed"] = len(frame)
    if frame.empty:
        raise DataError(f"no customer of --campaign {campaign!r} has an outcome in {outcomes}")
    return Joined(frame, metrics, counts, _names(assigned))


def _names(assigned: pa.Table) -> dict[int, str]:
    pairs = assigned.select(["segment_id", "segment_name"]).group_by(
        "segment_id", use_threads=False
    )
    first = pairs.aggregate([("segment_name", "first")]).to_pydict()
    return dict(zip(first["segment_id"], first["segment_name_first"], strict=True))


def _row(stats: pd.DataFrame, metric: str, segment: str, name: str) -> UpliftRow:
    """``stats``: sum, count, mean, var of ``metric``, indexed by treated (True/False)."""
    arms: dict[Any, Any] = stats.to_dict("index")
    t, h = arms.get(True, _NONE), arms.get(False, _NONE)
    n1, n2 = int(t["count"]), int(h["count"])
    if metric == "converted":
        return proportions_row(segment, name, (int(t["sum"]), int(h["sum"])), (n1, n2))
    return welch_row(segment, name, (t["mean"], t["var"], n1), (h["mean"], h["var"], n2))


def analyse(joined: Joined) -> list[UpliftRow]:
    """Per metric: one row per segment (Holm-adjusted), then the overall row."""
    frame, out = joined.frame, list[UpliftRow]()
    aggregations: Any = ["sum", "count", "mean", "var"]
    for metric in joined.metrics:
        by_segment = frame.groupby(["segment_id", "treated"])[metric].agg(aggregations)
        rows = [
            _row(part.droplevel(0), metric, str(segment), joined.names.get(segment, ""))
            for segment, part in by_segment.groupby(level=0, sort=True)
        ]
        tested = [i for i, r in enumerate(rows) if not np.isnan(r.p_value)]
        adjusted = holm([rows[i].p_value for i in tested])
        for i, p in zip(tested, adjusted, strict=True):
            rows[i] = replace(rows[i], p_adjusted=p)
        overall = frame.groupby("treated")[metric].agg(aggregations)
        rows.append(_row(overall, metric, "all", "all targeted customers"))
        out.extend(replace(r, verdict=verdict(r, UNITS[metric])) for r in rows)
    return out
