"""The transactions commands: sample-data --transactions, features, assign --transactions,
and their one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.config import Settings
from service.main import create_app
from tests.transactions.conftest import SAMPLE_TX
from training.cli import app
from training.train import TrainResult

runner = CliRunner()
TOY = "customer_id,date,amount\nA,2024-01-01,10\nA,2024-02-01,5\nB,2024-02-02,7\n,2024-02-03,1\n"


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_sample_data_transactions_writes_a_log(tmp_path: Path) -> None:
    code, out, _ = _run(
        "sample-data", "--transactions", "--customers", "50", "--out", str(tmp_path / "tx.csv")
    )
    assert code == 0
    log = pd.read_csv(tmp_path / "tx.csv", dtype=str)
    assert out == f"wrote {len(log)} lines for 50 customers to {tmp_path / 'tx.csv'}\n"
    assert list(log.columns) == [
        "InvoiceNo",
        "CustomerID",
        "InvoiceDate",
        "Quantity",
        "UnitPrice",
        "Channel",
        "Coupon",
    ]


def test_features_writes_the_table_and_the_rejected_lines(tmp_path: Path) -> None:
    (tmp_path / "tx.csv").write_text(TOY)
    out_path = tmp_path / "customers.csv"
    code, out, err = _run(
        "features",
        "--transactions",
        str(tmp_path / "tx.csv"),
        "--out",
        str(out_path),
        "--as-of",
        "2024-02-02",
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "lines: 4 read, 1 rejected, 1 on or after as_of 2024-02-02 (ignored); 1 customers "
        "(1 without a purchase, left out)",
        "  rejected for customer_id: missing: 1",
        f"rejected lines: {tmp_path / 'customers.rejected.csv'}",
        f"wrote 1 customers to {out_path}",
    ]
    table = pd.read_csv(out_path)
    assert table[["customer_id", "recency_days", "frequency", "monetary"]].values.tolist() == [
        ["A", 1.0, 2.0, 15.0]
    ]
    assert table["rfm_label"].tolist() == ["New"]  # alone: R 5, F 1 among itself
    rejected = pd.read_csv(tmp_path / "customers.rejected.csv")
    assert rejected["line"].tolist() == [4]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["features", "--transactions", "{tmp}/none.csv", "--out", "{tmp}/o.csv"],
            "error: transactions file not found: {tmp}/none.csv\n",
        ),
        (
            ["features", "--transactions", "{tmp}/tx.csv", "--out", "{tmp}/o.csv", "--as-of", "x"],
            "error: --as-of 'x' is not a date: use YYYY-MM-DD\n",
        ),
        (
            ["features", "--transactions", "{tmp}/tx.csv", "--out", "{tmp}/o.xlsx"],
            "error: --out {tmp}/o.xlsx: use a .csv or .parquet file name\n",
        ),
        (
            [
                "features",
                "--transactions",
                "{tmp}/tx.csv",
                "--out",
                "{tmp}/o.csv",
                "--spec",
                "mall",
            ],
            "error: spec 'mall' has no [transactions] section: use --spec rfm or add one\n",
        ),
        (
            [
                "features",
                "--transactions",
                "{tmp}/tx.csv",
                "--out",
                "{tmp}/o.csv",
                "--as-of",
                "2023-12-31",
            ],
            "error: no customer of {tmp}/tx.csv has a purchase before as_of 2023-12-31: 4 "
            "lines read, 1 rejected, 3 on or after as_of (the others, if any, are returns)\n",
        ),
        (
            ["train", "--transactions", "{tmp}/tx.csv", "--data", "{tmp}/tx.csv"],
            "error: give either --data (a customer file) or --transactions (a transactions log)\n",
        ),
        (
            ["assign", "--output", "{tmp}/a.csv"],
            "error: give either --input (a customer file) or --transactions (a transactions log)\n",
        ),
    ],
)
def test_transactions_commands_fail_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "tx.csv").write_text(TOY)
    code, out, err = _run(*(a.format(tmp=tmp_path) for a in args))
    assert (code, out) == (2, "")
    assert err == message.format(tmp=tmp_path)


def test_assign_transactions_refuses_a_customer_table_model(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    (tmp_path / "tx.csv").write_text(TOY)
    code, _, err = _run(
        "assign",
        "--transactions",
        str(tmp_path / "tx.csv"),
        "--output",
        str(tmp_path / "a.csv"),
        "--models-dir",
        str(classic_model.path.parent),
        "--model-version",
        classic_model.path.name,
    )
    assert code == 2
    assert err == (
        f"error: model {classic_model.path.name} was not trained on transactions: use --input "
        "with a customer file\n"
    )
    assert not (tmp_path / "a.csv").exists()


def test_service_refuses_transactions_for_a_customer_table_model(
    classic_settings: Settings,
) -> None:
    with TestClient(create_app(classic_settings)) as client:
        body = {"customer_id": "C-1", "transactions": [{"date": "2024-01-01", "amount": 1.0}]}
        response = client.post("/assign/transactions", json=body)
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"model {classic_settings.model_version} was not trained on transactions: "
        "use POST /assign"
    }


def test_assign_batch_works_with_the_rfm_spec(rfm_settings: Settings) -> None:
    customers = [
        {"customer_id": "a", "recency_days": 3, "frequency": 25, "monetary": 4000.0},
        {"customer_id": "b", "recency_days": 500, "frequency": 1, "monetary": 30.0},
    ]
    with TestClient(create_app(rfm_settings)) as client:
        response = client.post("/assign/batch", json={"customers": customers})
    assert response.status_code == 200
    names = [a["segment_name"] for a in response.json()["assignments"]]
    assert names[0].startswith("Recent · Frequent")
    assert names[1].startswith("Lapsed · Rare")


def test_features_counts_unparseable_dates_with_examples(tmp_path: Path) -> None:
    text = (
        "customer_id,date,amount\nA,2024-01-01,10\nA,31/31/2024,5\nB,yesterday,7\nB,2024-02-02,1\n"
    )
    (tmp_path / "tx.csv").write_text(text)
    code, out, _ = _run(
        "features", "--transactions", str(tmp_path / "tx.csv"), "--out", str(tmp_path / "o.csv")
    )
    assert code == 0
    assert (
        "  rejected for date: cannot parse: 2 (e.g. '31/31/2024', 'yesterday')" in out.splitlines()
    )


def test_features_keeps_an_existing_output_without_overwrite(tmp_path: Path) -> None:
    (tmp_path / "tx.csv").write_text(TOY)
    (tmp_path / "o.csv").write_text("keep me")
    args = [
        "features",
        "--transactions",
        str(tmp_path / "tx.csv"),
        "--out",
        str(tmp_path / "o.csv"),
    ]
    code, _, err = _run(*args)
    assert code == 2
    assert err == f"error: {tmp_path / 'o.csv'} already exists: pass --overwrite to replace\n"
    assert (tmp_path / "o.csv").read_text() == "keep me"
    assert _run(*args, "--overwrite")[0] == 0
    assert (tmp_path / "o.csv").read_text().startswith('"customer_id",')


def test_train_then_assign_transactions_from_the_command_line(tmp_path: Path) -> None:
    models = tmp_path / "models"
    code, out, err = _run(
        "train", "--transactions", str(SAMPLE_TX), "--spec", "rfm", "--k", "7",
        "--no-report", "--no-compare", "--models-dir", str(models),
    )  # fmt: skip
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        "lines: 12871 read, 22 rejected, 0 on or after as_of 2025-01-01 (ignored); 1000 customers",
        "  rejected for customer_id: missing: 8",
        "  rejected for date: cannot parse: 7 (e.g. '2024-13-45 10:00')",
        "  rejected for price: not a number: 7 (e.g. 'n/a')",
    ]
    version = (models / "LATEST").read_text().strip()
    assert lines[-1] == f"artifact: {models / version}"
    output = tmp_path / "assigned.csv"
    code, out, err = _run(
        "assign", "--transactions", str(SAMPLE_TX), "--output", str(output),
        "--models-dir", str(models), "--as-of", "2024-12-01",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines()[:5] == [
        "lines: 12871 read, 22 rejected, 1082 on or after as_of 2024-12-01 (ignored); 920 "
        "customers (80 without a purchase, left out)",
        "  rejected for customer_id: missing: 8",
        "  rejected for date: cannot parse: 7 (e.g. '2024-13-45 10:00')",
        "  rejected for price: not a number: 7 (e.g. 'n/a')",
        f"rejected lines: {tmp_path / 'assigned.rejected.csv'}",
    ]
    assert out.splitlines()[5] == f"920 customers assigned by model {version}: {output}"
    assigned = pd.read_csv(output)
    assert len(assigned) == 920
    assert set(assigned["model_version"]) == {version}
    assert len(pd.read_csv(tmp_path / "assigned.rejected.csv")) == 22
