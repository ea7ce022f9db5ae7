"""Transactions in, one row of features per customer out: the recipe run by DuckDB.

The one function :func:`compute_features` serves every path: ``segments features``,
``segments train --transactions``, ``segments assign --transactions`` (a CSV or Parquet
path, streamed by DuckDB) and ``POST /assign/transactions`` (an in-memory Arrow table of one
customer's lines). The SQL is in :mod:`training.recipe`. DuckDB is imported inside the
function: the service pays its import only when a transactions request arrives.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES, DataError
from training.recipe import (
    COLUMNS,
    RECIPE_VERSION,
    TransactionsSpec,
    features_sql,
    lines_sql,
    monthly_sql,
)
from training.spec import normalise_header

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "FeatureResult",
    "NoUsableLinesError",
    "TransactionsError",
    "check_header",
    "compute_features",
    "file_scan",
    "map_columns",
    "read_error",
    "reason_examples",
]

LINE_COLUMN = "line"
REASON_COLUMN = "reason"
EXAMPLES_PER_REASON = 3
MEMORY_LIMIT = "1GB"
_SHARED: list[duckdb.DuckDBPyConnection] = []  # made on first use, never at import
_SHARED_LOCK = threading.Lock()


class TransactionsError(DataError):
    """A transactions log cannot be used at all (unreadable, a required column absent...)."""


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


def map_columns(columns: list[str], spec: TransactionsSpec) -> dict[str, str]:
    """Map each recipe column to the log's header that names it (canonical -> source).

    Raises
    ------
    TransactionsError
        When the customer id, the date, or both amount and quantity x price are absent, or
        two headers name one column.
    """
    found = {normalise_header(c): c for c in columns}
    mapping: dict[str, str] = {}
    for name in COLUMNS:
        aliases = getattr(spec, name)
        hits = list(dict.fromkeys(found[a] for a in map(normalise_header, aliases) if a in found))
        if len(hits) > 1:
            raise TransactionsError(
                f"columns {hits[0]!r} and {hits[1]!r} both map to {name!r}: keep only one"
            )
        if hits:
            mapping[name] = hits[0]
    listed = ", ".join(columns) or "(none)"
    for name in ("customer_id", "date"):
        if name not in mapping:
            raise TransactionsError(
                f"required transactions column {name!r} not found (looked for "
                f"{', '.join(getattr(spec, name))}); columns found: {listed}"
            )
    if "amount" in mapping:
        mapping.pop("quantity", None)
        mapping.pop("price", None)
    elif not {"quantity", "price"} <= set(mapping):
        raise TransactionsError(
            "required transactions column 'amount' not found, nor both 'quantity' and "
            f"'price' (looked for {', '.join(spec.amount)}); columns found: {listed}"
        )
    return mapping


def _scan(source: Path | pa.Table, con: duckdb.DuckDBPyConnection) -> str:
    """A SQL table expression over the raw log, every column as text."""
    if not isinstance(source, Path):
        con.register("input_lines", source)
        return "input_lines"
    return file_scan(source)


def file_scan(path: Path) -> str:
    """The SQL table expression that reads a log file as the recipe reads it (CSV as text).

    Raises
    ------
    TransactionsError
        When the file is absent or neither CSV nor Parquet.
    """
    if not path.is_file():
        raise TransactionsError(f"transactions file not found: {path}")
    if path.stat().st_size == 0:
        raise TransactionsError(f"transactions file {path} is empty: it needs a header line")
    suffix = path.suffix.lower()
    quoted = "'" + str(path).replace("'", "''") + "'"
    if suffix in CSV_SUFFIXES:
        return f"read_csv({quoted}, all_varchar = true, header = true)"
    if suffix in PARQUET_SUFFIXES:
        return f"read_parquet({quoted})"
    raise TransactionsError(
        f"unsupported file type {suffix or '(none)'!r} for {path}: use .csv or .parquet"
    )


def check_header(con: duckdb.DuckDBPyConnection, path: Path, spec: TransactionsSpec) -> None:
    """Refuse a CSV whose header names a recipe column twice (DuckDB would silently rename
    the second, and the recipe read the first).

    Raises
    ------
    TransactionsError
        Naming the file and the repeated column.
    """
    if path.suffix.lower() not in CSV_SUFFIXES:
        return
    scan = file_scan(path).replace("header = true", "header = false")
    rows = con.sql(f"SELECT * FROM {scan} LIMIT 1").fetchall()
    row = rows[0] if rows else ()
    aliases = {normalise_header(a) for name in COLUMNS for a in getattr(spec, name)}
    seen: set[str] = set()
    for name in (str(v) for v in row if v is not None):
        if normalise_header(name) in seen & aliases:
            raise TransactionsError(f"column {name!r} appears twice in {path}: keep only one")
        seen.add(normalise_header(name))


def _source_view(
    con: duckdb.DuckDBPyConnection, scan: str, spec: TransactionsSpec, known: list[str] | None
) -> dict[str, str]:
    describe = f"DESCRIBE SELECT * FROM {scan}"
    columns = known or [str(row[0]) for row in con.sql(describe).fetchall()]
    mapping = map_columns(columns, spec)
    selected = ", ".join(
        f'CAST("{src.replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS {name}'
        for name, src in mapping.items()
    )
    # Only in-memory lines (the service) bring their own numbers; a file's "line" column is
    # data, and its lines are numbered in file order.
    own = known is not None and LINE_COLUMN in columns
    number = f"CAST({LINE_COLUMN} AS BIGINT)" if own else "row_number() OVER ()"
    con.sql(f"CREATE TEMP VIEW source AS SELECT {number} AS line, {selected} FROM {scan}")
    return mapping


def _connect(source: Path | pa.Table) -> duckdb.DuckDBPyConnection:
    """A file gets its own database with every core; in-memory lines share one database.

    One request's lines are tiny: a new database costs ~50 ms and its threads ~2 ms a query,
    so they get a cursor (~0.1 ms) on a shared single-threaded in-memory database instead.
    """
    import duckdb

    if not isinstance(source, Path):
        with _SHARED_LOCK:
            if not _SHARED:
                _SHARED.append(duckdb.connect(config={"threads": 1}))
                _SHARED[0].sql("SET GLOBAL TimeZone = 'UTC'")  # for every cursor
            return _SHARED[0].cursor()
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT})
    con.sql("SET TimeZone = 'UTC'")  # a zoned timestamp's day must not depend on the machine
    con.sql("SET enable_progress_bar = false")  # it would write on the CLI's stdout
    con.sql(f"SET temp_directory = '{tempfile.gettempdir()}/segments-duckdb'")
    return con


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

    con = _connect(source)
    try:
        known = None if isinstance(source, Path) else list(source.column_names)
        if isinstance(source, Path):
            check_header(con, source, spec)
        mapping = _source_view(con, _scan(source, con), spec, known)
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


def read_error(exc: Exception, source: Path | pa.Table) -> TransactionsError:
    """DuckDB's error on reading ``source``, as one line that names the file."""
    lines = str(exc).splitlines()
    reason = lines[0]
    if any("not utf-8 encoded" in line for line in lines):
        reason = f"{reason.split(': ', 1)[-1]}: not UTF-8 text (save the file as UTF-8)"
    return TransactionsError(f"cannot read transactions {_name(source)}: {reason}")


def _name(source: Path | pa.Table) -> str:
    return str(source) if isinstance(source, Path) else "(request)"


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
            f"no usable transaction line in {_name(source)}: {total} lines read"
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
