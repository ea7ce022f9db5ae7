"""Transactions in, one row of features per customer out: the recipe run by DuckDB.

The one function :func:`compute_features` serves every path: ``segments features``,
``segments train --transactions``, ``segments assign --transactions`` (a CSV or Parquet
path, streamed by DuckDB) and ``POST /assign/transactions`` (an in-memory Arrow table of one
customer's lines). The SQL is in :mod:`training.recipe`. DuckDB is imported inside the
function: the service pays its import only when a transactions request arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.recipe import (
    RECIPE_VERSION,
    TransactionsSpec,
    features_sql,
    lines_sql,
    monthly_sql,
)
from training.transactions_source import (
    TransactionsError,
    check_header,
    connect,
    read_error,
    scan,
    source_name,
    source_view,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "FeatureResult",
    "NoUsableLinesError",
    "TransactionsError",  # defined with the reading, in training.transactions_source
    "compute_features",
    "reason_examples",
]

REASON_COLUMN = "reason"
EXAMPLES_PER_REASON = 3


class NoUsableLinesError(TransactionsError):
    """Every line of the log is rejected (or there is none): ``rejected`` says why each."""

    def __init__(self, message: str, rejected: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected


@dataclass(frozen=True)
class FeatureResult:
    """What :func:`compute_features` made.

    ``features``: the id column, then one float column per feature, sorted by id.
    ``rejected``: ``line`` (1-based in the file), the raw text of each mapped column and a
    ``reason``.
    """

    features: pd.DataFrame
    rejected: pd.DataFrame
    as_of: date
    mapping: dict[str, str]
    lines_read: int
    lines_after_as_of: int
    customers_without_purchase: int
    examples: dict[str, list[str]] = field(default_factory=dict)
    monthly: pd.DataFrame | None = None  # customer id, month (YYYY-MM), spend; if asked

    @property
    def lines_rejected(self) -> int:
        return len(self.rejected)

    def reason_counts(self) -> dict[str, int]:
        counts = self.rejected[REASON_COLUMN].value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def recipe(self) -> dict[str, Any]:
        """What the artifact records about how these features were made."""
        present = set(self.mapping)
        return {
            "version": RECIPE_VERSION,
            "as_of": self.as_of.isoformat(),
            "mapping": self.mapping,
            "sql": features_sql(present, "lines", "as_of"),
        }


def compute_features(
    source: Path | pa.Table,
    spec: TransactionsSpec,
    *,
    id_name: str = "customer_id",
    as_of: date | None = None,
    monthly: bool = False,
    partition: bool = False,
) -> FeatureResult:
    """Compute the features of every customer of ``source`` as of ``as_of``.

    Parameters
    ----------
    source : Path or pyarrow.Table
        A CSV or Parquet log, or the lines themselves (an optional ``line`` column numbers
        them, as the service does; else lines are numbered from 1 in file order).
    as_of : date, optional
        Reference date; lines on or after it are ignored. Default: the day after the last
        usable line.
    monthly : bool
        Also sum each customer's purchases per calendar month (training's report).
    partition : bool
        ``source`` is one partition of a bigger log (:mod:`training.dask_features`): with
        ``as_of`` given, a partition without a usable line gives no customer, not an error.

    Raises
    ------
    NoUsableLinesError
        When no line is usable (unless ``partition``, with ``as_of``).
    TransactionsError
        When the log cannot be read or lacks a required column.
    """
    import duckdb

    con = connect(source)
    try:
        known = None if isinstance(source, Path) else list(source.column_names)
        if isinstance(source, Path):
            check_header(con, source, spec)
        mapping = source_view(con, scan(source, con), spec, known)
        present = set(mapping)
        con.sql(f"CREATE TEMP TABLE lines AS {lines_sql(spec, present, 'source')}")
        result = _collect(con, mapping, id_name, as_of, source, partition)
        if monthly:
            as_of_sql = f"DATE '{result.as_of.isoformat()}'"
            frame = con.sql(monthly_sql("lines", as_of_sql)).df()
            result = replace(result, monthly=frame.rename(columns={"customer_id": id_name}))
        return result
    except duckdb.Error as exc:
        raise read_error(exc, source) from None
    finally:
        con.close()


def _collect(
    con: duckdb.DuckDBPyConnection,
    mapping: dict[str, str],
    id_name: str,
    as_of: date | None,
    source: Path | pa.Table,
    partition: bool = False,
) -> FeatureResult:
    total, usable, last = con.sql(
        "SELECT count(*), count(*) FILTER (reason IS NULL), "
        "max(CAST(ts AS DATE)) FILTER (reason IS NULL) FROM lines"
    ).fetchall()[0]
    rejected = _rejected(con, mapping)
    if not usable and not (partition and as_of is not None):
        counts = ", ".join(f"{k}: {v}" for k, v in rejected[REASON_COLUMN].value_counts().items())
        raise NoUsableLinesError(
            f"no usable transaction line in {source_name(source)}: {total} lines read"
            + (f", all rejected ({counts})" if counts else ""),
            rejected,
        )
    as_of = as_of or date.fromordinal(last.toordinal() + 1)
    con.sql(f"CREATE TEMP TABLE as_of_table AS SELECT DATE '{as_of.isoformat()}' AS as_of")
    after, customers = con.sql(
        "SELECT count(*) FILTER (CAST(ts AS DATE) >= (SELECT as_of FROM as_of_table)), "
        "count(DISTINCT customer_id) FROM lines WHERE reason IS NULL"
    ).fetchall()[0]
    sql = features_sql(set(mapping), "lines", "(SELECT as_of FROM as_of_table)")
    features = con.sql(sql).df().rename(columns={"customer_id": id_name})
    features[id_name] = features[id_name].astype("string")
    return FeatureResult(
        features=features,
        rejected=rejected,
        as_of=as_of,
        mapping=mapping,
        lines_read=int(total),
        lines_after_as_of=int(after),
        customers_without_purchase=int(customers) - len(features),
        examples=reason_examples(rejected, mapping),
    )


def _rejected(con: duckdb.DuckDBPyConnection, mapping: dict[str, str]) -> pd.DataFrame:
    raw = ", ".join(f"raw_{c} AS {c}" for c in mapping)
    frame: pd.DataFrame = con.sql(
        f"SELECT line, {raw}, reason FROM lines WHERE reason IS NOT NULL ORDER BY line"
    ).df()
    return frame.astype(dict.fromkeys(mapping, "string"))


def reason_examples(rejected: pd.DataFrame, mapping: dict[str, str]) -> dict[str, list[str]]:
    """Up to three raw values per reason (the field the reason names), for error messages."""
    out: dict[str, list[str]] = {}
    for reason, rows in rejected.groupby(REASON_COLUMN, sort=True):
        column = str(reason).split(":")[0]
        if column in mapping:
            values = rows[column].dropna().head(EXAMPLES_PER_REASON)
            out[str(reason)] = [str(v) for v in values]
    return out
