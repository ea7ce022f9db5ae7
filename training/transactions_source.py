"""Where a transactions log's lines come from: the file (or request) as DuckDB reads it.

The header is mapped to the recipe's columns (:func:`map_columns`, with the spec's
aliases), every column is read as text, and lines are numbered as the file orders them.
:mod:`training.features` runs the recipe over the view made here; the Dask path
(:mod:`training.dask_features`) reads its partitions with the same :func:`file_scan`.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES, DataError
from training.recipe import COLUMNS, TransactionsSpec
from training.spec import normalise_header

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = [
    "LINE_COLUMN",
    "TransactionsError",
    "check_header",
    "connect",
    "file_scan",
    "map_columns",
    "read_error",
    "scan",
    "source_name",
    "source_view",
]

LINE_COLUMN = "line"
MEMORY_LIMIT = "1GB"
_SHARED: list[duckdb.DuckDBPyConnection] = []  # made on first use, never at import
_SHARED_LOCK = threading.Lock()


class TransactionsError(DataError):
    """A transactions log cannot be used at all (unreadable, a required column absent...)."""


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


def scan(source: Path | pa.Table, con: duckdb.DuckDBPyConnection) -> str:
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


def source_view(
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


def connect(source: Path | pa.Table) -> duckdb.DuckDBPyConnection:
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


def read_error(exc: Exception, source: Path | pa.Table) -> TransactionsError:
    """DuckDB's error on reading ``source``, as one line that names the file."""
    lines = str(exc).splitlines()
    reason = lines[0]
    if any("not utf-8 encoded" in line for line in lines):
        reason = f"{reason.split(': ', 1)[-1]}: not UTF-8 text (save the file as UTF-8)"
    return TransactionsError(f"cannot read transactions {source_name(source)}: {reason}")


def source_name(source: Path | pa.Table) -> str:
    return str(source) if isinstance(source, Path) else "(request)"
