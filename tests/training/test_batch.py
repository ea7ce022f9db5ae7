"""Batch assignment of a file: chunks, rejected rows with reasons, formats, atomic output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from training.artifact import ArtifactError
from training.batch import BatchResult, assign_file, rejected_path
from training.data import DataError
from training.sample import generate_customers
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


def _big_csv(path: Path, ragged_at: list[int] = []) -> tuple[Path, int]:  # noqa: B006
    """A generated file of 2.8 MB (three chunks of 1 MB at least), with ragged rows at those
    row numbers."""
    lines = generate_customers(120_000, seed=2, dirty=True).to_csv(index=False).splitlines()
    body = lines[1:]
    for row in sorted(ragged_at):
        body.insert(row - 1, f"R{row},Male,30")
    path.write_text("\n".join([lines[0], *body]) + "\n")
    return path, len(body)


def test_assign_file_numbers_ragged_rows_across_chunks(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    ragged_at = [1, 2, 40_000, 40_001, 52_345, 99_999, 120_007]  # the last: the file's last
    source, n_rows = _big_csv(tmp_path / "ragged.csv", ragged_at)
    plain, _ = _big_csv(tmp_path / "plain.csv")
    seen: list[tuple[int, int]] = []
    result = _assign(
        classic_model, source, tmp_path / "r.csv", chunk_rows=1000,
        on_progress=lambda *p: seen.append(p),
    )  # fmt: skip
    expected = _assign(classic_model, plain, tmp_path / "p.csv")
    assert len(seen) >= 3  # chunks
    assert (result.rows_read, result.rows_assigned) == (n_rows, expected.rows_assigned)
    assert result.rows_rejected == expected.rows_rejected + len(ragged_at)
    assert (tmp_path / "r.csv").read_bytes() == (tmp_path / "p.csv").read_bytes()
    rejected = pd.read_csv(tmp_path / "r.rejected.csv", dtype=str, keep_default_na=False)
    rows = rejected["source_row"].astype(int)
    assert rows.is_monotonic_increasing
    assert rows.is_unique
    ragged = rejected["reason"] == "row has 3 fields, expected 5"
    assert rows[ragged].tolist() == ragged_at
    others = pd.read_csv(tmp_path / "p.rejected.csv", dtype=str, keep_default_na=False)
    file_rows = np.delete(np.arange(1, n_rows + 1), np.array(ragged_at) - 1)  # plain -> ragged
    assert rows[~ragged].tolist() == file_rows[others["source_row"].astype(int) - 1].tolist()
    pd.testing.assert_frame_equal(
        rejected[~ragged].drop(columns="source_row").reset_index(drop=True),
        others.drop(columns="source_row"),
    )


def test_assign_file_unreadable_late_block_leaves_nothing(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    source, _ = _big_csv(tmp_path / "in.csv")
    with source.open("ab") as handle:
        handle.write(b"\xff\xfe,Male,30,50,50\n")  # not UTF-8, in the last block
    with pytest.raises(DataError, match=rf"^cannot read {source}: .*UTF8"):
        _assign(classic_model, source, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
