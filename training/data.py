"""Loading and cleaning a customer file against a spec.

Nothing is silently dropped: every row that breaks the spec goes to ``rejected`` with the
reasons, duplicate ids keep their first row and report the others, and missing values are
kept (counted here, imputed inside the fitted pipeline).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from training.spec import FeatureSpec, SegmentationSpec, normalise_header

__all__ = [
    "CleanResult",
    "DataError",
    "as_text",
    "clean",
    "load_table",
    "row_reasons",
    "value_parser",
]

ROW_COLUMN = "source_row"
CSV_SUFFIXES = frozenset({".csv", ".txt"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
REASON_COLUMN = "reason"


class DataError(ValueError):
    """The customer file cannot be used at all (missing, unreadable, required column absent)."""


@dataclass(frozen=True)
class CleanResult:
    """Outcome of :func:`clean`.

    ``cleaned`` has the id, then every spec feature in canonical names and types, with NaN
    where a value was missing; ``rejected`` has the source row number, the raw values and
    one ``reason`` per row.
    """

    cleaned: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    duplicates: int
    missing: dict[str, int] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # feature columns not in the file (batch assignment only)

    @property
    def rows_kept(self) -> int:
        return len(self.cleaned)

    def reason_counts(self) -> dict[str, int]:
        """How many rejections each kind of reason caused (the text before the first ':')."""
        kinds = self.rejected[REASON_COLUMN].str.split("; ").explode().str.split(":").str[0]
        return {str(k): int(v) for k, v in kinds.value_counts().items()}


def as_text(table: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Every column as text, missing as None, as a CSV is read: typing is clean()'s job.

    A float NaN becomes the text "nan", a value that clean() rejects (as the API rejects
    NaN); only a null is a missing value.
    """
    columns = [pc.cast(column, pa.string()) for column in table.columns]
    frame: pd.DataFrame = pa.table(columns, names=table.schema.names).to_pandas()
    return frame


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (every column as text) or Parquet customer file; :func:`clean` types it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET_SUFFIXES:
            return as_text(pq.read_table(path))
        if suffix in CSV_SUFFIXES:
            # Text first: typing is clean()'s job, so "abc" in a number column is reported
            # against its row instead of failing the whole read.
            return pd.read_csv(
                path,
                dtype="string[pyarrow]",
                engine="pyarrow",
                keep_default_na=False,
                na_values=[""],
            )
    except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {path} as {suffix.lstrip('.')}: {reason}") from None
    raise DataError(
        f"unsupported file type {suffix or '(none)'!r} for {path}: use .csv or .parquet"
    )


def _absent_columns(
    frame: pd.DataFrame, spec: SegmentationSpec, present: set[str], impute_absent: bool
) -> list[str]:
    """The spec's columns not in the file; raise if any is required (all named at once).

    Training needs every column. Batch assignment (``impute_absent``) needs the id and one
    cluster feature: an absent feature column is a missing value in every row, as an absent
    field is in ``POST /assign`` (imputed when it is a cluster feature).
    """
    names = [spec.id.name, *(f.name for f in spec.features)]
    absent = [name for name in names if name not in present]
    required = [spec.id.name] if impute_absent else names
    found = ", ".join(map(str, frame.columns)) or "(none)"
    missing = [name for name in absent if name in required]
    problems = []
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        problems.append(f"required {noun} {', '.join(repr(n) for n in missing)} not found")
    cluster = [f.name for f in spec.cluster_features]
    if impute_absent and not set(cluster) & present:
        problems.append(f"no cluster feature column (one of {', '.join(cluster)} is needed)")
    if problems:
        raise DataError(f"{' and '.join(problems)}; columns found: {found}")
    return absent


def _map_headers(
    frame: pd.DataFrame, spec: SegmentationSpec, impute_absent: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    mapping = spec.header_map()
    renamed: dict[str, str] = {}
    for column in frame.columns:
        target = mapping.get(normalise_header(column))
        if target is None:
            continue
        clash = next((c for c, t in renamed.items() if t == target), None)
        if clash is not None:
            raise DataError(
                f"columns {clash!r} and {column!r} both map to {target!r}: keep only one"
            )
        renamed[column] = target
    absent = _absent_columns(frame, spec, set(renamed.values()), impute_absent)
    mapped = frame.rename(columns=renamed)
    for name in absent:
        mapped[name] = pd.Series(pd.NA, index=mapped.index, dtype="string")
    return mapped[[spec.id.name, *(f.name for f in spec.features)]], absent


def _by_unique(
    raw: pd.Series, parse: Callable[[str], tuple[object, str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct value once (a million rows hold a few hundred distinct ages).

    Returns the parsed values and the per-row reasons ('' when fine) as object arrays.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    parsed = [parse(str(u).strip()) for u in uniques] + [(np.nan, "")]  # code -1: missing
    values = np.array([v for v, _ in parsed], dtype=object)[codes]
    reasons = np.array([r for _, r in parsed], dtype=object)[codes]
    return values, reasons


def _numeric_parser(feature: FeatureSpec) -> Callable[[str], tuple[object, str]]:
    def parse(text: str) -> tuple[object, str]:
        if text == "":
            return np.nan, ""
        try:
            value = float(text)
        except ValueError:
            return np.nan, f"{feature.name}: {text[:40]} is not a number"
        if not math.isfinite(value):  # "NaN" is a value, and invalid (a 422 in the API);
            return np.nan, f"{feature.name}: {text[:40]} is not a finite number"  # "" is missing
        if feature.min is not None and value < feature.min:
            return np.nan, f"{feature.name}: {value:g} is below the minimum {feature.min:g}"
        if feature.max is not None and value > feature.max:
            return np.nan, f"{feature.name}: {value:g} is above the maximum {feature.max:g}"
        return value, ""

    return parse


def _categorical_parser(feature: FeatureSpec) -> Callable[[str], tuple[object, str]]:
    allowed = {value.casefold(): value for value in feature.allowed or ()}
    choices = ", ".join(feature.allowed or ())

    def parse(text: str) -> tuple[object, str]:
        if text == "":
            return np.nan, ""
        if text.casefold() in allowed:
            return allowed[text.casefold()], ""
        return np.nan, f"{feature.name}: {text[:40]} is not one of {choices}"

    return parse


def value_parser(feature: FeatureSpec) -> Callable[[str], tuple[object, str]]:
    """How :func:`clean` reads one stripped cell of ``feature``: (value, reason or '')."""
    return _numeric_parser(feature) if feature.kind == "numeric" else _categorical_parser(feature)


def row_reasons(
    spec: SegmentationSpec,
    id_lengths: np.ndarray,
    why: Mapping[str, np.ndarray],
    no_cluster: np.ndarray,
) -> np.ndarray:
    """Per row, why :func:`clean` rejects it ('' where it keeps it, repeated ids aside).

    Parameters
    ----------
    id_lengths : ndarray of shape (n_rows,)
        Characters of the stripped id; 0 where it is missing.
    why : mapping of feature name to ndarray of shape (n_rows,)
        The reason :func:`value_parser` gave each row's value ('' when it is fine); a
        feature may be left out (an absent column: missing everywhere, no reason).
    no_cluster : ndarray of shape (n_rows,)
        Where no cluster feature has a value.
    """
    reasons = np.full(len(id_lengths), "", dtype=object)
    reasons[id_lengths == 0] = f"{spec.id.name}: missing"
    most = spec.id.max_length
    reasons[id_lengths > most] = f"{spec.id.name}: longer than {most} characters"
    for feature in spec.features:
        if (reason := why.get(feature.name)) is not None:
            bad = reason != ""
            both = reasons[bad] + "; " + reason[bad]
            reasons[bad] = np.where(reasons[bad] == "", reason[bad], both)
    cluster = ", ".join(f.name for f in spec.cluster_features)
    reasons[no_cluster & (reasons == "")] = f"no cluster feature present: {cluster}"
    return reasons


def clean(
    frame: pd.DataFrame,
    spec: SegmentationSpec,
    *,
    reject_duplicates: bool = True,
    impute_absent: bool = False,
) -> CleanResult:
    """Map headers, type every column, and split rows into cleaned and rejected.

    Training rejects repeated ids (keeping the first); batch assignment passes
    ``reject_duplicates=False`` and answers every row, as the API does, and
    ``impute_absent=True``: a feature column absent from the file is missing in every row.
    An empty cell is a missing value; ``NaN`` or ``inf`` is an invalid one (rejected).

    Raises
    ------
    DataError
        When a column the spec needs is absent.
    """
    raw, absent = _map_headers(frame, spec, impute_absent)
    n = len(raw)
    columns: dict[str, np.ndarray] = {}
    ids = raw[spec.id.name].astype("string").str.strip()
    lengths = ids.str.len().fillna(0).to_numpy(dtype=np.int64)
    columns[spec.id.name] = ids.astype(object).where(ids.notna(), None).to_numpy()
    why: dict[str, np.ndarray] = {}
    for feature in spec.features:
        values, why[feature.name] = _by_unique(raw[feature.name], value_parser(feature))
        columns[feature.name] = values.astype(np.float64) if feature.kind == "numeric" else values
    cluster = [f.name for f in spec.cluster_features]
    no_cluster = np.all([pd.isna(columns[name]) for name in cluster], axis=0)
    reasons = row_reasons(spec, lengths, why, np.broadcast_to(no_cluster, n))

    duplicates = (
        _reject_duplicates(columns[spec.id.name], reasons, spec) if reject_duplicates else 0
    )
    keep = reasons == ""
    cleaned = pd.DataFrame({name: values[keep] for name, values in columns.items()})
    cleaned[spec.id.name] = cleaned[spec.id.name].astype("string")
    rejected = frame.loc[~keep].astype("string")
    rejected.insert(0, ROW_COLUMN, np.flatnonzero(~keep) + 1)
    rejected[REASON_COLUMN] = reasons[~keep]
    return CleanResult(
        cleaned=cleaned,
        rejected=rejected.reset_index(drop=True),
        rows_read=n,
        duplicates=duplicates,
        missing={f.name: int(pd.isna(cleaned[f.name]).sum()) for f in spec.features},
        absent=tuple(absent),
    )


def _reject_duplicates(ids: np.ndarray, reasons: np.ndarray, spec: SegmentationSpec) -> int:
    """Give every valid row whose id was seen before a reason; return how many."""
    valid = np.flatnonzero(reasons == "")
    codes, _ = pd.factorize(ids[valid])
    _, first = np.unique(codes, return_index=True)
    is_first = np.zeros(len(valid), dtype=bool)
    is_first[first] = True
    duplicate = valid[~is_first]
    first_row = valid[first[codes[~is_first]]]  # factorize codes are 0..m-1, as is first
    reasons[duplicate] = [f"{spec.id.name}: duplicate of source row {r + 1}" for r in first_row]
    return len(duplicate)
