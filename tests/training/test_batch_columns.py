"""The batch CLI's columnar path reads a chunk exactly as clean() does (rows kept, values and
reasons), or steps aside; and a whole dirty file gives what clean() gives its Parquet twin."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.batch import assign_file
from training.batch_columns import WHITESPACE, chunk_columns
from training.data import clean
from training.sample import generate_customers
from training.scoring import Assignments
from training.spec import SegmentationSpec, load_spec
from training.train import TrainResult

SPEC = load_spec("mall")
HEADER = ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]


def _batch(rows: list[list[str]], header: list[str] = HEADER) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    return pa.record_batch([pa.array(c, pa.string()) for c in columns], names=header)


cells = st.one_of(
    st.sampled_from(
        ["", "0", "5", "85.5", "1e2", "100", "101", "-1", " 85", "nan", "inf", "x", "1_0",
         "+7", "1e999", "-0", "\u200985\u3000", " ", "0x10", "Infinity", ".5", "5."]
    ),
    st.integers(0, 200).map(str),
)  # fmt: skip
rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", " c", "", "d", "\u3000e\x1f", "\x85", "x" * 129, "é" * 128]),
        st.sampled_from(["Male", " female", "FEMALE", "", "x", "\xa0Male"]),
        cells,
        cells,
        cells,
    ).map(list),
    min_size=1,
    max_size=8,
)


def _cleaned_rows(
    rows: list[list[str]], spec: SegmentationSpec = SPEC
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """clean() of the rows: what it kept, per row whether it kept it, and its reasons."""
    result = clean(pd.DataFrame(rows, columns=HEADER), spec, reject_duplicates=False)
    kept = np.ones(len(rows), dtype=bool)
    kept[result.rejected["source_row"].to_numpy(dtype=np.int64) - 1] = False
    return result.cleaned, kept, result.rejected["reason"].tolist()


@pytest.mark.parametrize("spec", [SPEC, load_spec("mall-full")], ids=["mall", "mall-full"])
@settings(max_examples=200, deadline=None)
@given(rows=rows)
def test_chunk_columns_keeps_the_rows_clean_keeps_and_reads_them_alike(
    spec: SegmentationSpec, rows: list[list[str]]
) -> None:
    fast = chunk_columns(_batch(rows), spec)
    assert fast is not None
    cleaned, kept, reasons = _cleaned_rows(rows, spec)
    assert fast.valid.tolist() == kept.tolist()
    assert fast.reasons.tolist() == reasons
    mine = np.flatnonzero(fast.valid)
    assert fast.ids.take(pa.array(mine)).to_pylist() == cleaned["customer_id"].tolist()
    assert set(fast.values) == {f.name for f in spec.cluster_features}  # the scorer's
    for feature in spec.cluster_features:
        got = fast.values[feature.name][mine]
        expected = cleaned[feature.name]
        if feature.kind == "numeric":
            np.testing.assert_array_equal(got, expected.to_numpy(np.float64))
        else:
            assert got.tolist() == [None if pd.isna(v) else v for v in expected]


def test_chunk_columns_takes_a_valid_chunk_with_an_absent_column() -> None:
    batch = _batch([["a", "Male", "85"]], ["id", "gender", "annual_income"])
    fast = chunk_columns(batch, SPEC)
    assert fast is not None
    assert fast.valid.tolist() == [True]
    assert fast.absent == ("spending_score", "age")
    assert fast.values["annual_income"].tolist() == [85]
    assert np.isnan(fast.values["spending_score"]).all()


def test_chunk_columns_reads_what_clean_reads_and_leaves_it_the_rest() -> None:
    rows = [
        ["ok", "Male", "30", "50", "50"],
        [" a\u3000", "Male", "30", "50", "50"],  # clean() strips the id
        ["a", " male ", "30", " 50", "1_0"],  # float() reads them, Arrow's cast does not
        ["a", "Male", "30", "nan", "50"],  # invalid: clean() gives the reason
        ["a", "Male", "30", "1e999", "50"],
        ["a", "Male", "30", "50", "101"],
        ["a", "x", "30", "50", "50"],
        ["a", "Male", "30", "", ""],  # no cluster feature
        ["", "Male", "30", "50", "50"],
        ["\u2003", "Male", "30", "50", "50"],  # blank once stripped
    ]
    fast = chunk_columns(_batch(rows), SPEC)
    assert fast is not None
    assert fast.valid.tolist() == [True] * 3 + [False] * 7
    assert fast.ids.to_pylist()[:3] == ["ok", "a", "a"]
    np.testing.assert_array_equal(fast.values["spending_score"][:3], [50, 50, 10])


def test_chunk_columns_steps_aside_on_a_header_clash() -> None:
    batch = _batch([["a", "1", "2"]], ["CustomerID", "annual_income", "Income"])
    assert chunk_columns(batch, SPEC) is None


def test_assign_file_fast_and_clean_rows_keep_file_order(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    rows = [
        ["A1", "Male", "19", "15", "39"],
        ["A2", "Male", "30", " 50", "50"],  # clean() reads it, the fast path does not
        ["A3", "x", "20", "16", "6"],  # rejected
        ["A4", "female", "21", "", "81"],
        ["A5", "Female", "22", "1_000", "40"],  # float() reads "1_000"
        ["A6", "Male", "23", "120", "95"],
    ]
    frame = pd.DataFrame(rows, columns=HEADER)
    frame.to_csv(tmp_path / "in.csv", index=False)
    frame.to_parquet(tmp_path / "in.parquet", index=False)  # Parquet goes through clean()
    models, version = classic_model.path.parent, classic_model.path.name
    assign_file(tmp_path / "in.csv", tmp_path / "csv.csv", models, version)
    assign_file(tmp_path / "in.parquet", tmp_path / "parquet.csv", models, version)
    from_csv = pd.read_csv(tmp_path / "csv.csv", dtype=str)
    assert from_csv["customer_id"].tolist() == ["A1", "A2", "A4", "A5", "A6"]
    pd.testing.assert_frame_equal(from_csv, pd.read_csv(tmp_path / "parquet.csv", dtype=str))


def test_whitespace_is_what_str_strip_strips() -> None:
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}


def _dirty_csv(path: Path, n_rows: int) -> Path:
    """A generated dirty file, with cells clean() reads and Arrow's cast does not; its
    customers come four times over (other ids), as a real file repeats cells."""
    one = generate_customers(n_rows // 4, seed=11, dirty=True).astype(object)
    copies = [one.assign(CustomerID=one["CustomerID"].astype(str) + f"-{i}") for i in range(4)]
    frame = pd.concat(copies, ignore_index=True)
    odd = {"CustomerID": " 00042\u3000", "Age": "4_0", "Annual Income (k$)": " 85",
           "Spending Score (1-100)": "nan", "Genre": "\u00a0MALE"}  # fmt: skip
    for i, (column, value) in enumerate(odd.items()):
        frame.loc[frame.index[i * 97 % n_rows :: 1000], column] = value
    frame.to_csv(path, index=False)
    return path


def test_assign_file_reads_a_dirty_csv_as_clean_reads_its_parquet_twin(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    source = _dirty_csv(tmp_path / "in.csv", 6000)
    twin = tmp_path / "in.parquet"  # the same text; Parquet goes through clean()
    pd.read_csv(source, dtype=str, keep_default_na=False).to_parquet(twin, index=False)
    models, version = classic_model.path.parent, classic_model.path.name
    results = [
        assign_file(path, tmp_path / f"{path.suffix[1:]}.csv", models, version, chunk_rows=700)
        for path in (source, twin)
    ]
    assert results[0] == dataclasses.replace(results[1], output=results[0].output,
                                             rejected=results[0].rejected)  # fmt: skip
    assert results[0].rows_rejected > 30  # the generator's and ours
    for name in ("csv.csv", "parquet.csv", "csv.rejected.csv", "parquet.rejected.csv"):
        assert (tmp_path / name).stat().st_size > 0
    for suffix in (".csv", ".rejected.csv"):
        a, b = (pd.read_csv(tmp_path / f"{kind}{suffix}", dtype=str, keep_default_na=False)
                for kind in ("csv", "parquet"))  # fmt: skip
        pd.testing.assert_frame_equal(a, b)
    reasons = pd.read_csv(tmp_path / "csv.rejected.csv", dtype=str)["reason"]
    assert reasons.str.contains("spending_score: nan is not a finite number").any()


def test_arrow_imputed_text_joins_each_row_as_its_record() -> None:
    rng = np.random.default_rng(4)
    for n_fields in (0, 1, 3, 21):
        imputed = {f"f{i}": rng.random(50) < 0.3 for i in range(n_fields)}
        zeros = np.zeros(50)
        answers = Assignments(zeros.astype(np.int64), zeros, zeros, zeros > 0, imputed)
        expected = [";".join(fields) for fields in answers.imputed_lists()]
        assert answers.arrow_columns(["a"])["imputed"].to_pylist() == expected
