"""The batch CLI's columnar fast path reads a chunk exactly as clean() does, or steps aside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.batch_columns import chunk_columns
from training.data import clean
from training.spec import load_spec

SPEC = load_spec("mall")
HEADER = ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]


def _batch(rows: list[list[str]], header: list[str] = HEADER) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    return pa.record_batch([pa.array(c, pa.string()) for c in columns], names=header)


cells = st.one_of(
    st.sampled_from(["", "0", "5", "85.5", "1e2", "100", "101", "-1", " 85", "nan", "inf", "x"]),
    st.integers(0, 200).map(str),
)
rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", " c", "", "d"]),
        st.sampled_from(["Male", " female", "FEMALE", "", "x"]),
        cells,
        cells,
        cells,
    ).map(list),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(rows=rows)
def test_chunk_columns_reads_valid_chunks_as_clean_does(rows: list[list[str]]) -> None:
    fast = chunk_columns(_batch(rows), SPEC)
    result = clean(pd.DataFrame(rows, columns=HEADER), SPEC, reject_duplicates=False)
    if fast is None:
        return  # clean() reads it (a rejected row, or text Arrow does not parse alike)
    columns, absent = fast
    assert len(result.rejected) == 0
    assert absent == ()
    assert columns.ids == result.cleaned["customer_id"].tolist()
    for feature in SPEC.features:
        got, expected = columns.values[feature.name], result.cleaned[feature.name]
        if feature.kind == "numeric":
            np.testing.assert_array_equal(got, expected.to_numpy(dtype=np.float64))
        else:
            assert list(got) == [None if pd.isna(v) else v for v in expected]


def test_chunk_columns_takes_a_valid_chunk_with_an_absent_column() -> None:
    batch = _batch([["a", "Male", "85"]], ["id", "gender", "annual_income"])
    fast = chunk_columns(batch, SPEC)
    assert fast is not None
    columns, absent = fast
    assert absent == ("spending_score", "age")
    assert columns.values["gender"] == ["Male"]


@pytest.mark.parametrize(
    "row",
    [
        [" a", "Male", "30", "50", "50"],  # clean() strips the id
        ["a", "Male", "30", " 50", "50"],  # float() reads it, Arrow does not
        ["a", "Male", "30", "nan", "50"],  # invalid: clean() gives the reason
        ["a", "Male", "30", "50", "101"],
        ["a", "x", "30", "50", "50"],
        ["a", "Male", "30", "", ""],  # no cluster feature
    ],
)
def test_chunk_columns_steps_aside(row: list[str]) -> None:
    assert chunk_columns(_batch([row]), SPEC) is None


def test_chunk_columns_steps_aside_on_a_header_clash() -> None:
    batch = _batch([["a", "1", "2"]], ["CustomerID", "annual_income", "Income"])
    assert chunk_columns(batch, SPEC) is None


plain_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c-1"]),
        st.sampled_from(["Male", " female", "FEMALE", ""]),
        st.sampled_from(["", "30", "41.5"]),
        st.sampled_from(["0", "85.5", "1e2", "137"]),
        st.sampled_from(["", "1", "55", "100"]),
    ).map(list),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(rows=plain_rows)
def test_chunk_columns_takes_every_plain_valid_chunk(rows: list[list[str]]) -> None:
    fast = chunk_columns(_batch(rows), SPEC)
    assert fast is not None
    result = clean(pd.DataFrame(rows, columns=HEADER), SPEC, reject_duplicates=False)
    assert fast[0].ids == result.cleaned["customer_id"].tolist()
    np.testing.assert_array_equal(
        fast[0].values["annual_income"], result.cleaned["annual_income"].to_numpy(np.float64)
    )
    assert fast[0].values["gender"] == [None if pd.isna(v) else v for v in result.cleaned["gender"]]
