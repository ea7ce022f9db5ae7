"""Loading and cleaning a customer file against a spec.

Nothing is silently dropped: every row that breaks the spec goes to ``rejected`` with the
reasons, duplicate ids keep their first row and report the others, and missing values are
kept (counted here, imputed inside the fitted pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from training.spec import FeatureSpec, SegmentationSpec, normalise_header

__all__ = ["CleanResult", "DataError", "clean", "load_table"]

ROW_COLUMN = "source_row"
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

    @property
    def rows_kept(self) -> int:
        return len(self.cleaned)

    def reason_counts(self) -> dict[str, int]:
        """How many rejections each kind of reason caused (the text before the first ':')."""
        kinds = self.rejected[REASON_COLUMN].str.split("; ").explode().str.split(":").str[0]
        return {str(k): int(v) for k, v in kinds.value_counts().items()}


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet customer file, every column as text (typed later by :func:`clean`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
            return frame.astype("object").where(frame.notna(), None).astype("string")
        if suffix in {".csv", ".txt", ".gz"}:
            return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read {path} as {suffix.lstrip('.')}: {reason}") from None
    raise DataError(
        f"unsupported file type {suffix or '(none)'!r} for {path}: use .csv or .parquet"
    )


def _map_headers(frame: pd.DataFrame, spec: SegmentationSpec) -> pd.DataFrame:
    mapping = spec.header_map()
    renamed: dict[str, str] = {}
    for column in frame.columns:
        target = mapping.get(normalise_header(column))
        if target is not None and target not in renamed.values():
            renamed[column] = target
    required = [spec.id.name, *(f.name for f in spec.features)]
    absent = [name for name in required if name not in renamed.values()]
    if absent:
        found = ", ".join(map(str, frame.columns)) or "(none)"
        raise DataError(f"required column {absent[0]!r} not found; columns found: {found}")
    return frame.rename(columns=renamed)[required]


def _describe(name: str, values: pd.Series, problem: str) -> pd.Series:
    return name + ": " + values.astype("object").astype(str).str.slice(0, 40) + " " + problem


def _numeric(raw: pd.Series, feature: FeatureSpec) -> tuple[pd.Series, pd.Series]:
    """Coerce one column to float; return the values and a per-row reason ('' when fine)."""
    text = raw.str.strip()
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    present = text.notna() & (text != "")
    reasons = pd.Series("", index=raw.index, dtype="object")
    bad = present & values.isna()
    reasons[bad] = _describe(feature.name, text[bad], "is not a number")
    shown = values.map("{:g}".format)
    if feature.min is not None:
        low = values < feature.min
        reasons[low] = _describe(feature.name, shown[low], f"is below the minimum {feature.min:g}")
    if feature.max is not None:
        high = values > feature.max
        reasons[high] = _describe(
            feature.name, shown[high], f"is above the maximum {feature.max:g}"
        )
    infinite = np.isinf(values)
    reasons[infinite] = f"{feature.name}: must be finite"
    return values.where(reasons == ""), reasons


def _categorical(raw: pd.Series, feature: FeatureSpec) -> tuple[pd.Series, pd.Series]:
    allowed = {value.casefold(): value for value in feature.allowed or ()}
    text = raw.str.strip()
    values = text.str.casefold().map(allowed)
    present = text.notna() & (text != "")
    reasons = pd.Series("", index=raw.index, dtype="object")
    bad = present & values.isna()
    choices = ", ".join(feature.allowed or ())
    reasons[bad] = _describe(feature.name, text[bad], f"is not one of {choices}")
    return values.astype("object").where(values.notna(), np.nan), reasons


def clean(frame: pd.DataFrame, spec: SegmentationSpec) -> CleanResult:
    """Map headers, type every column, and split rows into cleaned and rejected.

    Raises
    ------
    DataError
        When a column the spec needs is absent.
    """
    raw = _map_headers(frame, spec)
    raw = raw.astype("string")
    out = pd.DataFrame(index=raw.index)
    reasons = pd.Series("", index=raw.index, dtype="object")

    ids = raw[spec.id.name].str.strip()
    missing_id = ids.isna() | (ids == "")
    reasons[missing_id] = f"{spec.id.name}: missing"
    out[spec.id.name] = ids

    for feature in spec.features:
        parse = _numeric if feature.kind == "numeric" else _categorical
        values, why = parse(raw[feature.name], feature)
        out[feature.name] = values
        reasons = _join(reasons, why)

    cluster = [f.name for f in spec.cluster_features]
    empty = out[cluster].isna().all(axis=1) & (reasons == "")
    reasons[empty] = "no cluster feature present: " + ", ".join(cluster)

    valid = reasons == ""
    duplicate = valid & out[spec.id.name].duplicated(keep="first") & ~missing_id
    first_row = out[valid].drop_duplicates(spec.id.name).reset_index().set_index(spec.id.name)
    reasons[duplicate] = (
        f"{spec.id.name}: duplicate of source row "
        + (first_row.loc[out.loc[duplicate, spec.id.name], "index"] + 1).astype(str).to_numpy()
    )
    keep = reasons == ""
    missing = {f.name: int(out.loc[keep, f.name].isna().sum()) for f in spec.features}

    rejected = frame.loc[~keep].astype("string").copy()
    rejected.insert(0, ROW_COLUMN, rejected.index + 1)
    rejected[REASON_COLUMN] = reasons[~keep].to_numpy()
    cleaned = out.loc[keep].reset_index(drop=True)
    return CleanResult(
        cleaned=cleaned,
        rejected=rejected.reset_index(drop=True),
        rows_read=len(frame),
        duplicates=int(duplicate.sum()),
        missing=missing,
    )


def _join(reasons: pd.Series, more: pd.Series) -> pd.Series:
    both = (reasons != "") & (more != "")
    joined = reasons + more
    joined[both] = reasons[both] + "; " + more[both]
    return joined
