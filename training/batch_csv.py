"""A chunk's answers as CSV text, each distinct answer written once.

Customers with the same cluster cells get the same answer (:func:`training.batch._score`
scores each distinct one once); formatting the answer columns (floats above all) is then
most of the cost of writing them. :func:`keyed_csv` has pyarrow's CSV writer write each
distinct answer once and every id once, and joins each row's line from those lines: the
very bytes :func:`pyarrow.csv.write_csv` writes for the whole table (no quoting or number
formatting of our own). It steps aside (None) when a value holds a line break (then a
line of the writer's is not a row).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["Distinct", "keyed_csv"]

VERSION = "model_version"
_NO_HEADER = pacsv.WriteOptions(include_header=False)


class Distinct(NamedTuple):
    """A chunk's distinct answers (the columns after the id, before the version) and the
    answer of each row, of shape (n_rows,)."""

    answers: pa.Table
    where: np.ndarray


def _lines(table: pa.Table) -> pa.Array:
    """The writer's line of each row, without its line break."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, _NO_HEADER)
    text = sink.getvalue()
    offsets = pa.array([0, text.size], pa.int64()).buffers()[1]
    whole = pa.LargeStringArray.from_buffers(1, offsets, text)
    lines = pc.split_pattern(whole, "\n").flatten()
    return lines.slice(0, len(lines) - 1)  # after the last line break: nothing


def keyed_csv(table: pa.Table, answers: pa.Table, where: np.ndarray) -> pa.Buffer | None:
    """``table`` (id, answer columns, one model version) as the writer's CSV rows, no header.

    ``answers``: the distinct answers (the columns of ``table`` between the id and the
    version); ``where``: each row's answer, of shape (n_rows,). None when it does not apply.
    """
    names = table.column_names
    if table.num_rows == 0 or names[1:] != [*answers.column_names, VERSION]:
        return None
    version = table[VERSION]
    if not pc.all(pc.equal(version, version[0]), skip_nulls=False).as_py():
        return None
    parts = table.select([0]), answers, table.select([VERSION]).slice(0, 1)
    ids, lines, last = (_lines(part) for part in parts)
    if (len(ids), len(lines), len(last)) != (table.num_rows, answers.num_rows, 1):
        return None  # a value with a line break: the writer quoted it across lines
    tail = pa.scalar(last[0].as_py() + "\n", pa.large_string())
    comma = pa.scalar(",", pa.large_string())
    rows = pc.binary_join_element_wise(ids, lines.take(pa.array(where)), tail, comma)
    offsets = np.frombuffer(rows.buffers()[1], np.int64, len(rows) + 1, rows.offset * 8)
    return rows.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
