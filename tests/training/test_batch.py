"""Batch assignment of a file: chunks, rejected rows with reasons, formats, atomic output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from training.artifact import ArtifactError
from training.batch import BatchResult, assign_file, rejected_path
from training.data import DataError
from training.train import TrainResult

HEADER = "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n"
ROWS = [
    "A1,Male,19,15,39",
    "A2,female,21,15,81",
    "A3,x,20,16,6",  # unknown gender
    " ,Female,23,16,77",  # no id
    "A5,Female,31,,",  # no cluster feature
    "A1,Male,35,120,95",  # repeated id: assigned like any row
    "A7,Male,40,abc,50",  # not a number
    "A8,Female,45,,70",  # income imputed
    "A9,Male,130,70,40",  # age above the maximum
]
COLUMNS = [
    "customer_id",
    "segment_id",
    "segment_name",
    "distance",
    "confidence",
    "atypical",
    "imputed",
    "model_version",
]


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    return path


def _assign(model: TrainResult, source: Path, output: Path, **kwargs: Any) -> BatchResult:
    return assign_file(source, output, model.path.parent, model.path.name, **kwargs)


@pytest.mark.parametrize("chunk_rows", [2, 100_000])
def test_assign_file_rejects_with_reasons_and_global_rows(
    classic_model: TrainResult, customers: Path, tmp_path: Path, chunk_rows: int
) -> None:
    output = tmp_path / "out.csv"
    result = _assign(classic_model, customers, output, chunk_rows=chunk_rows)
    assigned = pd.read_csv(output, dtype={"customer_id": str})
    assert list(assigned.columns) == COLUMNS
    assert list(assigned["customer_id"]) == ["A1", "A2", "A1", "A8"]
    assert list(assigned["imputed"].fillna("")) == ["", "", "", "annual_income"]
    rejected = pd.read_csv(rejected_path(output), dtype=str, keep_default_na=False)
    assert list(rejected["source_row"]) == ["3", "4", "5", "7", "9"]
    assert list(rejected["CustomerID"]) == ["A3", " ", "A5", "A7", "A9"]
    assert list(rejected["reason"]) == [
        "gender: x is not one of Female, Male",
        "customer_id: missing",
        "no cluster feature present: annual_income, spending_score",
        "annual_income: abc is not a number",
        "age: 130 is above the maximum 120",
    ]
    assert (result.rows_read, result.rows_assigned, result.rows_rejected) == (9, 4, 5)


def test_assign_file_parquet_in_and_out_same_answers(
    classic_model: TrainResult, customers: Path, tmp_path: Path
) -> None:
    source = tmp_path / "customers.parquet"
    pd.read_csv(customers, dtype=str, keep_default_na=False).to_parquet(source)
    _assign(classic_model, customers, tmp_path / "a.csv")
    _assign(classic_model, source, tmp_path / "b.parquet")
    from_csv = pd.read_csv(tmp_path / "a.csv", dtype={"customer_id": str}).fillna({"imputed": ""})
    from_parquet = pd.read_parquet(tmp_path / "b.parquet")
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)


def test_assign_file_reports_progress(
    classic_model: TrainResult, customers: Path, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    _assign(
        classic_model, customers, tmp_path / "o.csv", on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (customers.stat().st_size, customers.stat().st_size)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "data file not found: {dir}/missing.csv"),
        ("c.json", "{}",
         "unsupported input file type '.json' for {dir}/c.json: use .csv or .parquet"),
        ("empty.csv", HEADER, "{dir}/empty.csv: no rows to assign"),
        ("noid.csv", "Age,Annual Income (k$)\n3,4\n",
         "required column 'customer_id' not found; columns found: Age, Annual Income (k$)"),
    ],
)  # fmt: skip
def test_assign_file_input_errors(
    classic_model: TrainResult, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_text(content)
    output = tmp_path / "out.csv"
    with pytest.raises(DataError) as excinfo:
        _assign(classic_model, source, output)
    assert str(excinfo.value) == message.format(dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {name} & {p.name for p in tmp_path.iterdir()}
    )


def test_assign_file_output_type(
    classic_model: TrainResult, customers: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match=r"unsupported output file type '\.xlsx'"):
        _assign(classic_model, customers, tmp_path / "out.xlsx")


def test_assign_file_unknown_model(customers: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="LATEST not found: no model has been published yet"):
        assign_file(customers, tmp_path / "out.csv", tmp_path)
