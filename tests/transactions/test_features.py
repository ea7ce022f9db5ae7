"""The recipe against hand-computed logs: every feature, every rejection reason, every error."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from training.features import FeatureResult, TransactionsError, compute_features
from training.recipe import TransactionsSpec

SPEC = TransactionsSpec()
TOY = """order_id,customer_id,date,amount,channel,coupon
O1,A,2024-01-06,100.00,online,
O1,A,2024-01-06 15:30,20.00,online,
O2,A,2024-03-15,50.00,store,SPRING
CO2,A,2024-03-20,-10.00,store,
O3,A,2024-11-02,80.00,store,
O4,B,2024-06-10,40.00,store,
O5,C,2024-12-20,30.00,online,
O6,D,2024-05-01,-25.00,store,
"""
# By hand, as of 2024-12-01 (2024 is a leap year: Jan 6 is day 6, Mar 15 day 75,
# Jun 10 day 162, Nov 2 day 307, Dec 1 day 336; Jan 6 and Nov 2 are Saturdays).
EXPECTED = {
    "A": {
        "recency_days": 29.0,
        "frequency": 3.0,
        "monetary": 240.0,  # 120 + 50 + 80 bought, 10 returned (cancelled order CO2)
        "avg_order_value": 80.0,
        "tenure_days": 330.0,
        "mean_days_between_orders": 150.5,  # (307 - 6) / 2
        "active_months": 3.0,
        "return_rate": 0.04,  # 10 / 250
        "peak_quarter_share": 0.68,  # Q1: 170 of 250
        "q4_share": 0.32,
        "weekend_share": 2 / 3,
        "online_share": 0.48,  # 120 of 250
        "coupon_share": 1 / 3,
    },
    "B": {
        "recency_days": 174.0,
        "frequency": 1.0,
        "monetary": 40.0,
        "avg_order_value": 40.0,
        "tenure_days": 174.0,
        "mean_days_between_orders": math.nan,  # one order: no gap
        "active_months": 1.0,
        "return_rate": 0.0,
        "peak_quarter_share": 1.0,
        "q4_share": 0.0,
        "weekend_share": 0.0,
        "online_share": 0.0,
        "coupon_share": 0.0,
    },
}


def _run(
    tmp_path: Path, text: str, as_of: date | None = None, name: str = "tx.csv"
) -> FeatureResult:
    path = tmp_path / name
    path.write_text(text)
    return compute_features(path, SPEC, as_of=as_of)


def test_compute_features_matches_the_hand_computed_toy_log(tmp_path: Path) -> None:
    result = _run(tmp_path, TOY, as_of=date(2024, 12, 1))
    got = result.features.set_index("customer_id")
    assert list(got.index) == ["A", "B"]
    assert list(got.columns) == list(EXPECTED["A"])
    for customer, expected in EXPECTED.items():
        assert_allclose(got.loc[customer].to_numpy(float), list(expected.values()), rtol=1e-12)
    assert result.lines_read == 8
    assert result.lines_after_as_of == 1  # C's only line: ignored and said so
    assert result.customers_without_purchase == 2  # C (after as_of) and D (a return only)
    assert result.lines_rejected == 0


def test_compute_features_defaults_as_of_to_the_day_after_the_last_line(tmp_path: Path) -> None:
    result = _run(tmp_path, TOY)
    assert result.as_of == date(2024, 12, 21)
    assert result.lines_after_as_of == 0
    assert result.features["customer_id"].tolist() == ["A", "B", "C"]
    assert result.features.set_index("customer_id").loc["C", "recency_days"] == 1.0


def test_compute_features_gives_the_same_values_from_parquet(tmp_path: Path) -> None:
    csv = _run(tmp_path, TOY, as_of=date(2024, 12, 1))
    frame = pd.read_csv(tmp_path / "tx.csv", dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "tx.parquet", index=False)
    parquet = compute_features(tmp_path / "tx.parquet", SPEC, as_of=date(2024, 12, 1))
    pd.testing.assert_frame_equal(csv.features, parquet.features)


def test_compute_features_multiplies_quantity_by_price(tmp_path: Path) -> None:
    text = "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n1,A,12/1/2010 8:26,6,2.55\n"
    text += "C2,A,12/2/2010 9:00,-2,2.55\n"
    got = _run(tmp_path, text).features.iloc[0]
    assert got["monetary"] == pytest.approx(6 * 2.55 - 2 * 2.55)
    assert got["return_rate"] == pytest.approx(1 / 3)
    assert got["recency_days"] == 2.0  # as_of 2010-12-03 (the day after the return)


def test_compute_features_rejects_each_bad_line_with_its_reason(tmp_path: Path) -> None:
    text = (
        "customer_id,date,amount\n"
        ",2024-01-01,5\n"
        "E,,5\n"
        "E,2024-02-30,5\n"
        "E,2024-01-01,\n"
        "E,2024-01-01,abc\n"
        "E,2024-01-02,7\n"
    )
    result = _run(tmp_path, text)
    assert result.rejected["line"].tolist() == [1, 2, 3, 4, 5]
    assert result.rejected["reason"].tolist() == [
        "customer_id: missing",
        "date: missing",
        "date: cannot parse",
        "amount: missing",
        "amount: not a number",
    ]
    assert result.examples["date: cannot parse"] == ["2024-02-30"]
    assert result.features["monetary"].tolist() == [7.0]


def test_compute_features_rejects_bad_quantity_and_price(tmp_path: Path) -> None:
    text = "customer_id,date,quantity,price\nA,2024-01-01,x,1\nA,2024-01-01,1,\nA,2024-01-01,2,3\n"
    result = _run(tmp_path, text)
    assert result.reason_counts() == {"quantity: not a number": 1, "price: missing": 1}
    assert result.features["monetary"].tolist() == [6.0]


def test_compute_features_names_an_absent_required_column(tmp_path: Path) -> None:
    with pytest.raises(TransactionsError) as caught:
        _run(tmp_path, "customer_id,amount\nA,5\n")
    assert str(caught.value) == (
        "required transactions column 'date' not found (looked for date, InvoiceDate, "
        "order_date, timestamp, datetime); columns found: customer_id, amount"
    )


def test_compute_features_needs_an_amount_or_quantity_and_price(tmp_path: Path) -> None:
    with pytest.raises(TransactionsError, match=r"'amount' not found, nor both 'quantity' and "):
        _run(tmp_path, "customer_id,date,quantity\nA,2024-01-01,5\n")


def test_compute_features_refuses_a_log_without_a_usable_line(tmp_path: Path) -> None:
    with pytest.raises(TransactionsError) as caught:
        _run(tmp_path, "customer_id,date,amount\nA,nope,5\nB,never,6\n")
    assert str(caught.value) == (
        f"no usable transaction line in {tmp_path / 'tx.csv'}: 2 lines read, all rejected "
        "(date: cannot parse: 2)"
    )


def test_compute_features_refuses_two_headers_for_one_column(tmp_path: Path) -> None:
    with pytest.raises(
        TransactionsError, match=r"columns 'amount' and 'total' both map to 'amount'"
    ):
        _run(tmp_path, "customer_id,date,amount,total\nA,2024-01-01,5,5\n")


def test_compute_features_refuses_a_missing_file_and_an_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(TransactionsError, match=r"^transactions file not found: .*nope\.csv$"):
        compute_features(tmp_path / "nope.csv", SPEC)
    (tmp_path / "tx.json").write_text("{}")
    with pytest.raises(TransactionsError, match=r"unsupported file type '\.json'"):
        compute_features(tmp_path / "tx.json", SPEC)


def test_spec_transform_needs_a_numeric_cluster_feature_from_zero() -> None:
    from training.spec import SpecError, parse_spec

    base = {
        "name": "x",
        "id": {"name": "customer_id"},
        "features": [{"name": "a", "kind": "numeric", "role": "cluster", "min": -1, "max": 9}],
    }
    base["features"][0]["transform"] = "log1p"
    with pytest.raises(
        SpecError, match=r"features\[0\]: Value error, transform 'log1p' needs min >= 0"
    ):
        parse_spec(base)
    base["features"][0].update(role="profile", min=0)
    with pytest.raises(SpecError, match=r"'transform' applies to numeric cluster features only"):
        parse_spec(base)
