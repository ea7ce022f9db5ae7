"""No training/serving skew: features, train, assign and POST /assign/transactions give
the same values for the same customer.

The Hypothesis property runs every path that takes a log of any size on generated logs
(the recipe on CSV and Parquet, ``segments features``, ``segments assign --transactions``
and the route); training needs enough customers for a model, so its path is checked on
the bundled sample, against the other three.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.config import Settings
from service.main import create_app
from tests.transactions.conftest import SAMPLE_TX
from training.artifact import load_artifact, read_cleaned
from training.batch_transactions import assign_transactions, write_features
from training.features import TransactionsError, compute_features
from training.recipe import ALWAYS, OPTIONAL, TransactionsSpec
from training.train import TrainResult

RECIPE_FEATURES = [*ALWAYS, *OPTIONAL]
START = date(2023, 1, 1)


@pytest.fixture(scope="module")
def rfm_client(rfm_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(rfm_settings)) as client:
        yield client


lines = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C", "D"]),
        st.integers(0, 729),  # day
        st.integers(-5_000, 90_000).map(lambda cents: f"{cents / 100:.2f}"),
        st.sampled_from(["", "O1", "O2", "CO1", "O3"]),
        st.sampled_from(["online", "store"]),
        st.sampled_from(["", "SAVE10"]),
    ),
    min_size=1,
    max_size=25,
)


def _service_features(
    client: TestClient, customer: str, rows: pd.DataFrame, as_of: date
) -> dict[str, object] | None:
    body = {
        "customer_id": customer,
        "as_of": as_of.isoformat(),
        "transactions": [
            {"date": r.date, "amount": float(r.amount), "channel": r.channel}
            | ({"order_id": r.order_id} if r.order_id else {})
            | ({"coupon": r.coupon} if r.coupon else {})
            for r in rows.itertuples()
        ],
    }
    response = client.post("/assign/transactions", json=body)
    if response.status_code == 422:
        assert response.json()["detail"][0]["type"] == "no_usable_line"
        return None
    assert response.status_code == 200, response.text
    features: dict[str, object] = response.json()["features"]
    return features


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines)
def test_features_assign_and_service_give_identical_features(
    rfm_model: TrainResult,
    rfm_client: TestClient,
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, ...]],
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    log = pd.DataFrame(
        [(c, (START + timedelta(days=d)).isoformat(), a, o, ch, cp) for c, d, a, o, ch, cp in rows],
        columns=["customer_id", "date", "amount", "order_id", "channel", "coupon"],
    )
    log.to_csv(folder / "tx.csv", index=False)
    log.to_parquet(folder / "tx.parquet", index=False)
    as_of = START + timedelta(days=600)  # some generated lines fall after it
    csv = compute_features(folder / "tx.csv", TransactionsSpec(), as_of=as_of).features
    parquet = compute_features(folder / "tx.parquet", TransactionsSpec(), as_of=as_of).features
    pd.testing.assert_frame_equal(csv, parquet)
    assigned = assign_transactions(
        folder / "tx.parquet", folder / "a.csv", rfm_model.path.parent, rfm_model.path.name, as_of
    ).table
    pd.testing.assert_frame_equal(assigned[csv.columns], csv)
    if csv.empty:  # only returns, or lines after as_of: nothing to describe
        with pytest.raises(TransactionsError, match=r"^no customer of .* has a purchase before"):
            write_features(folder / "tx.csv", folder / "f.csv", "rfm", as_of)
    else:
        table = write_features(folder / "tx.csv", folder / "f.csv", "rfm", as_of).table
        pd.testing.assert_frame_equal(table[csv.columns], csv)
    by_id = csv.set_index("customer_id")
    for customer, group in log.groupby("customer_id"):
        served = _service_features(rfm_client, str(customer), group, as_of)
        if served is None:
            assert customer not in by_id.index
            continue
        expected = by_id.loc[customer, RECIPE_FEATURES].to_numpy(np.float64)
        got = np.array([np.nan if served[n] is None else served[n] for n in RECIPE_FEATURES], float)
        np.testing.assert_array_equal(got, expected)


def test_features_train_assign_and_service_agree_on_the_sample(
    rfm_model: TrainResult, rfm_client: TestClient, tmp_path: Path
) -> None:
    artifact = load_artifact(rfm_model.path.parent, rfm_model.path.name)
    as_of = date.fromisoformat(artifact.manifest.recipe.as_of)  # type: ignore[union-attr]
    features = write_features(SAMPLE_TX, tmp_path / "f.parquet", "rfm", as_of=None).table
    assigned = assign_transactions(
        SAMPLE_TX, tmp_path / "a.csv", rfm_model.path.parent, rfm_model.path.name
    ).table
    trained = read_cleaned(artifact)
    columns = [f.name for f in rfm_model.spec.features if f.kind == "numeric"]
    for frame in (assigned, trained):
        pd.testing.assert_frame_equal(
            frame[["customer_id", *columns]].reset_index(drop=True),
            features[["customer_id", *columns]].reset_index(drop=True),
            check_dtype=False,
        )
    assert (trained["rfm_label"].to_numpy() == features["rfm_label"].to_numpy()).all()
    assert (trained["segment"].to_numpy() == assigned["segment_id"].to_numpy()).all()
    log = pd.read_csv(SAMPLE_TX, dtype=str, keep_default_na=False)
    for customer in ("C0000001", "C0000002", "C0000500"):
        rows = log[log["CustomerID"] == customer]
        body = {
            "customer_id": customer,
            "as_of": as_of.isoformat(),
            "transactions": [
                {
                    "date": r.InvoiceDate,
                    "quantity": float(r.Quantity),
                    "price": float(r.UnitPrice),
                    "order_id": r.InvoiceNo,
                    "channel": r.Channel,
                }
                | ({"coupon": r.Coupon} if r.Coupon else {})
                for r in rows.itertuples()
            ],
        }
        response = rfm_client.post("/assign/transactions", json=body)
        assert response.status_code == 200, response.text
        served = response.json()
        row = assigned.set_index("customer_id").loc[customer]
        assert served["segment_id"] == row["segment_id"]
        assert served["features"]["rfm_label"] == row["rfm_label"]
        for name in columns:
            expected = row[name]
            got = served["features"][name]
            assert (got is None and np.isnan(expected)) or got == expected, name
