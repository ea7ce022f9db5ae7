"""Review findings: hostile transaction logs and requests (each failed before its fix)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from service.config import Settings
from tests.e2e.conftest import ThreadedServer
from training.cli import app

runner = CliRunner()
GOOD = {"date": "2024-06-02", "amount": 64.0}


@pytest.fixture(scope="module")
def rfm_http(rfm_settings: Settings) -> Iterator[httpx.Client]:
    with (
        ThreadedServer(rfm_settings) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


@pytest.mark.parametrize("day", ["9999-12-31", "-5000-01-01", "294247-01-10", "1066-10-14"])
def test_features_rejects_a_date_out_of_range_in_one_line(tmp_path: Path, day: str) -> None:
    log = tmp_path / "tx.csv"
    log.write_text(f"customer_id,date,amount\nA,2024-01-02,10\nB,{day},5\n")
    result = runner.invoke(
        app, ["features", "--transactions", str(log), "--out", str(tmp_path / "f.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "rejected for date: out of range: 1" in result.stdout
    assert "as_of 2024-01-03" in result.stdout


def test_features_tells_a_huge_amount_from_a_non_number(tmp_path: Path) -> None:
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount\nA,2024-01-02,10\nB,2024-01-02,1e30\nC,2024-01-02,x\n")
    result = runner.invoke(
        app, ["features", "--transactions", str(log), "--out", str(tmp_path / "f.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "rejected for amount: out of range: 1 (e.g. '1e30')" in result.stdout
    assert "rejected for amount: not a number: 1 (e.g. 'x')" in result.stdout


def test_features_refuses_a_recipe_column_named_twice(tmp_path: Path) -> None:
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount,Amount\nA,2024-01-02,10,3\n")
    result = runner.invoke(
        app, ["features", "--transactions", str(log), "--out", str(tmp_path / "f.csv")]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: column 'Amount' appears twice in {log}: keep only one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx.csv"]


def test_features_accepts_another_column_named_twice(tmp_path: Path) -> None:
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount,note,note\nA,2024-01-02,10,x,y\n")
    result = runner.invoke(
        app, ["features", "--transactions", str(log), "--out", str(tmp_path / "f.csv")]
    )
    assert result.exit_code == 0, result.output


def test_features_says_a_file_is_empty(tmp_path: Path) -> None:
    log = tmp_path / "tx.csv"
    log.write_text("")
    result = runner.invoke(
        app, ["features", "--transactions", str(log), "--out", str(tmp_path / "f.csv")]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: transactions file {log} is empty: it needs a header line\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx.csv"]


def test_features_says_a_file_is_not_utf8(tmp_path: Path) -> None:
    log = tmp_path / "tx.csv"
    log.write_bytes("customer_id,date,amount\nCaf\xe9,2024-01-02,10\n".encode("latin-1"))
    result = runner.invoke(
        app, ["features", "--transactions", str(log), "--out", str(tmp_path / "f.csv")]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot read transactions {log}: CSV Error on Line: 2: not UTF-8 text "
        "(save the file as UTF-8)\n"
    )


def test_tz_aware_parquet_dates_do_not_depend_on_the_machine_time_zone(tmp_path: Path) -> None:
    log = tmp_path / "tx.parquet"
    stamp = pd.Timestamp("2024-01-02 23:30", tz="America/New_York")  # 2024-01-03 04:30 UTC
    pq.write_table(
        pa.table({"customer_id": ["A"], "date": pa.array([stamp]), "amount": [1.0]}), log
    )
    seen = set()
    for zone in ("UTC", "America/Los_Angeles", "Asia/Tokyo"):
        out = tmp_path / f"{zone.replace('/', '-')}.csv"
        command = [sys.executable, "-m", "training", "features", "--transactions", str(log)]
        run = subprocess.run(
            [*command, "--out", str(out)],
            env=os.environ | {"TZ": zone},
            capture_output=True,
            text=True,
            check=True,
        )
        seen.add(run.stdout.split("as_of ")[1].split(" ")[0])
    assert seen == {"2024-01-04"}


@pytest.mark.slow
def test_a_line_dated_out_of_range_is_a_422_naming_it(rfm_http: httpx.Client) -> None:
    lines = [GOOD, {"date": "9999-12-31", "amount": 5.0}]
    response = rfm_http.post(
        "/assign/transactions", json={"customer_id": "C", "transactions": lines}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "transaction_line",
            "loc": ["body", "transactions", 1, "date"],
            "msg": "date: out of range",
        }
    ]


@pytest.mark.slow
def test_a_huge_amount_is_out_of_range_not_a_non_number(rfm_http: httpx.Client) -> None:
    lines = [GOOD, {"date": "2024-06-03", "amount": 1e20}]
    response = rfm_http.post(
        "/assign/transactions", json={"customer_id": "C", "transactions": lines}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "transaction_line",
            "loc": ["body", "transactions", 1, "amount"],
            "msg": "amount: out of range",
        }
    ]


@pytest.mark.slow
def test_features_beyond_the_model_bounds_are_a_422_not_a_500(rfm_http: httpx.Client) -> None:
    body = {"customer_id": "C", "as_of": "9999-12-31", "transactions": [GOOD]}
    response = rfm_http.post("/assign/transactions", json=body)
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["body", "as_of"]
    assert "recency_days" in issue["msg"]
    assert "9999" not in str(issue)


@pytest.mark.slow
def test_every_line_rejected_names_each_line_and_field(rfm_http: httpx.Client) -> None:
    lines = [{"date": "SECRET-DAY", "amount": 5.0}, {"date": "2024-01-01"}]
    response = rfm_http.post(
        "/assign/transactions", json={"customer_id": "C", "transactions": lines}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "transaction_line",
            "loc": ["body", "transactions", 0, "date"],
            "msg": "date: cannot parse",
        },
        {
            "type": "transaction_line",
            "loc": ["body", "transactions", 1, "amount"],
            "msg": "amount: missing",
        },
    ]


@pytest.mark.slow
def test_the_documented_example_is_accepted(rfm_http: httpx.Client) -> None:
    """The OpenAPI page's example once mixed amount lines with a quantity x price line: 422."""
    operation = rfm_http.get("/openapi.json").json()["paths"]["/assign/transactions"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    for example in examples.values():
        response = rfm_http.post("/assign/transactions", json=example["value"])
        assert response.status_code == 200, response.text
