"""keyed_csv writes exactly what pyarrow's CSV writer writes for the whole table, or steps aside."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.batch_csv import keyed_csv

texts = st.text(st.sampled_from('ab,"\r\n \\;é·'), max_size=6)
floats = st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 1e-7, 1e22, 0.1 + 0.2])
answer = st.tuples(st.integers(0, 9), texts, floats, floats, st.booleans(), texts)


def _writer_text(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def _tables(
    ids: list[str], distinct: list[tuple[object, ...]], where: list[int], version: str = "v1"
) -> tuple[pa.Table, pa.Table]:
    names = ["segment_id", "segment_name", "distance", "confidence", "atypical", "imputed"]
    answers = pa.table(dict(zip(names, map(list, zip(*distinct, strict=True)), strict=True)))
    rows = pa.array(where, pa.int64())
    table = pa.table(
        {"customer_id": pa.array(ids, pa.string())}
        | {name: answers[name].take(rows) for name in names}
        | {"model_version": pa.array([version] * len(ids), pa.string())}
    )
    return table, answers


@settings(max_examples=200, deadline=None)
@given(
    distinct=st.lists(answer, min_size=1, max_size=5),
    rows=st.lists(st.tuples(texts, st.integers(0, 4)), min_size=1, max_size=12),
    version=st.sampled_from(["20261201T0000Z-ab", 'v"1', "v,\r2", "v\n3"]),
)
def test_keyed_csv_is_the_writers_text_or_steps_aside(
    distinct: list[tuple[object, ...]], rows: list[tuple[str, int]], version: str
) -> None:
    where = [i % len(distinct) for _, i in rows]
    table, answers = _tables([i for i, _ in rows], distinct, where, version)
    text = keyed_csv(table, answers, np.array(where))
    values = [i for i, _ in rows] + [d[1] for d in distinct] + [d[5] for d in distinct]
    if any("\n" in v for v in [*values, version]):
        assert text is None
    else:
        assert text is not None
        assert text.to_pybytes() == _writer_text(table)


def test_keyed_csv_steps_aside_for_other_tables() -> None:
    distinct = [(1, "a", 0.5, 0.25, False, "")]
    table, answers = _tables(["x", "y"], distinct, [0, 0])
    assert keyed_csv(table.slice(0, 0), answers, np.zeros(0, np.int64)) is None
    two = table.set_column(7, "model_version", pa.array(["v1", "v2"]))
    assert keyed_csv(two, answers, np.zeros(2, np.int64)) is None  # one version per table
    more = table.append_column("campaigns", pa.array(["c=a", ""]))
    assert keyed_csv(more, answers, np.zeros(2, np.int64)) is None
    text = keyed_csv(table, answers, np.zeros(2, np.int64))
    assert text is not None
    assert (
        text.to_pybytes() == b'"x",1,"a",0.5,0.25,false,"","v1"\n"y",1,"a",0.5,0.25,false,"","v1"\n'
    )


@pytest.mark.parametrize("n_rows", [1, 1000])
def test_keyed_csv_takes_each_rows_answer(n_rows: int) -> None:
    rng = np.random.default_rng(n_rows)
    distinct = [(int(k), f"s{k}", float(rng.random()), 0.0, bool(k % 2), "age") for k in range(7)]
    where = rng.integers(0, 7, n_rows)
    table, answers = _tables([f"id{i}" for i in range(n_rows)], distinct, where.tolist())
    text = keyed_csv(table, answers, where)
    assert text is not None
    assert text.to_pybytes() == _writer_text(table)
