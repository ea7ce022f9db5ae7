from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.data import DataError, clean, load_table
from training.spec import load_spec

HEADER = "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n"


def _frame(body: str) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(HEADER + body), dtype="string", keep_default_na=False, na_values=[""]
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2,Male,abc,15,81", "age: abc is not a number"),
        ("2,Male,20,15,250", "spending_score: 250 is above the maximum 100"),
        ("2,Male,20,15,0", "spending_score: 0 is below the minimum 1"),
        ("2,Male,-3,15,40", "age: -3 is below the minimum 0"),
        ("2,Male,20,inf,40", "annual_income: inf is not a finite number"),
        ("2,Male,20,NaN,40", "annual_income: NaN is not a finite number"),
        ("2,Male,nan,15,40", "age: nan is not a finite number"),
        ("2,x,20,15,40", "gender: x is not one of Female, Male"),
        (",Male,20,15,40", "customer_id: missing"),
        ("2,Male,20,,", "no cluster feature present: annual_income, spending_score"),
        ("1,Male,20,15,40", "customer_id: duplicate of source row 1"),
        ("X" * 129 + ",Male,20,15,40", "customer_id: longer than 128 characters"),
        (
            "2,x,20,15,250",
            "spending_score: 250 is above the maximum 100; gender: x is not one of Female, Male",
        ),
    ],
)
def test_clean_rejects_with_reason(row: str, reason: str) -> None:
    result = clean(_frame("1,Female,30,40,50\n" + row + "\n"), load_spec("mall"))
    assert result.rows_read == 2
    assert result.rows_kept == 1
    assert result.rejected["reason"].tolist() == [reason]
    assert result.rejected["source_row"].tolist() == [2]


def test_clean_keeps_missing_values_and_counts_them() -> None:
    result = clean(_frame("1,Female,,40,\n2,,30,,50\n3, male ,30,20,10\n"), load_spec("mall"))
    assert result.rows_kept == 3
    assert result.missing == {"annual_income": 1, "spending_score": 1, "age": 1, "gender": 1}
    assert result.cleaned["gender"].tolist()[2] == "Male"
    assert np.isnan(result.cleaned["annual_income"][1])


def test_clean_reports_duplicates_keeping_the_first() -> None:
    result = clean(
        _frame("7,Female,30,40,50\n7,Male,31,41,51\n7,Male,32,42,52\n"), load_spec("mall")
    )
    assert result.duplicates == 2
    assert result.cleaned["age"].tolist() == [30.0]
    assert result.reason_counts() == {"customer_id": 2}


def test_clean_missing_column_lists_columns_found() -> None:
    frame = pd.DataFrame(
        {"CustomerID": ["1"], "Genre": ["Male"], "Age": ["3"], "Annual Income (k$)": ["4"]},
        dtype="string",
    )
    with pytest.raises(
        DataError,
        match=r"^required column 'spending_score' not found; columns "
        r"found: CustomerID, Genre, Age, Annual Income \(k\$\)$",
    ):
        clean(frame, load_spec("mall"))


def test_load_table_csv_and_parquet_agree(tmp_path: Path) -> None:
    frame = _frame("1,Female,30,40,50\n2,Male,,41,51\n")
    frame.to_csv(tmp_path / "c.csv", index=False)
    frame.to_parquet(tmp_path / "c.parquet", index=False)
    spec = load_spec("mall")
    from_csv = clean(load_table(tmp_path / "c.csv"), spec).cleaned
    from_parquet = clean(load_table(tmp_path / "c.parquet"), spec).cleaned
    pd.testing.assert_frame_equal(from_csv, from_parquet)


def test_load_table_parquet_with_numeric_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "gender": ["Male", None],
            "age": [30, 40],
            "annual_income": [15.0, np.nan],
            "spending_score": [40, 60],
        }
    )
    frame.to_parquet(tmp_path / "n.parquet", index=False)
    result = clean(load_table(tmp_path / "n.parquet"), load_spec("mall"))
    assert result.rows_kept == 2
    assert result.missing == {"annual_income": 1, "spending_score": 0, "age": 0, "gender": 1}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.csv", None, r"^data file not found: .*absent\.csv$"),
        ("bad.parquet", b"not parquet at all", r"^cannot read .*bad\.parquet as parquet: "),
        ("data.xlsx", b"x", r"^unsupported file type '\.xlsx' for .*: use \.csv or \.parquet$"),
    ],
)
def test_load_table_errors(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_table(path)
