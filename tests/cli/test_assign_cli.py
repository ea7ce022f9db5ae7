"""`segments assign` never writes its input, asks before replacing, leaves no partial files,
rejects ragged rows with a reason, and follows the API's rules for NaN and absent columns."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.config import Settings
from service.main import create_app
from training.cli import app
from training.train import TrainResult

runner = CliRunner()
SEGMENTS = Path(sys.executable).with_name("segments")
HEADER = "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n"
BODY = "A1,Male,19,15,39\nA2,Female,21,15,81\n"


def _assign(model: TrainResult, source: Path, output: Path, *more: str) -> tuple[int, str, str]:
    args = ["assign", "--input", str(source), "--output", str(output)]
    args += ["--models-dir", str(model.path.parent), "--model-version", model.path.name, *more]
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_assign_refuses_to_write_its_input(classic_model: TrainResult, tmp_path: Path) -> None:
    source = _write(tmp_path / "x.csv", HEADER + BODY)
    code, _, stderr = _assign(classic_model, source, tmp_path / "." / "x.csv")
    assert (code, stderr) == (2, f"error: --output {tmp_path}/x.csv is the input file: "
                                   "choose another --output\n")  # fmt: skip
    assert source.read_text() == HEADER + BODY


def test_assign_refuses_rejected_file_over_its_input(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    source = _write(tmp_path / "x.rejected.csv", HEADER + BODY)
    code, _, stderr = _assign(classic_model, source, tmp_path / "x.csv")
    assert code == 2
    assert stderr == (
        f"error: --output {tmp_path}/x.csv would write its rejected rows to "
        f"{tmp_path}/x.rejected.csv, the input file: choose another --output\n"
    )
    assert source.read_text() == HEADER + BODY
    assert not (tmp_path / "x.csv").exists()


def test_assign_existing_output_needs_overwrite(classic_model: TrainResult, tmp_path: Path) -> None:
    source = _write(tmp_path / "in.csv", HEADER + BODY)
    output = _write(tmp_path / "out.csv", "keep me\n")
    code, _, stderr = _assign(classic_model, source, output)
    assert (code, stderr) == (2, f"error: {output} already exists: pass --overwrite to replace\n")
    assert output.read_text() == "keep me\n"
    code, stdout, _ = _assign(classic_model, source, output, "--overwrite")
    assert code == 0
    assert stdout.startswith("2 of 2 customers assigned")
    assert output.read_text().startswith('"customer_id","segment_id"')


def test_assign_sweeps_stale_partial_files(classic_model: TrainResult, tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = [
        _write(tmp_path / f".out.csv.partial-{gone.pid}", "x" * 1000),
        _write(tmp_path / f".out.rejected.csv.partial-{gone.pid}", "x"),
    ]
    source = _write(tmp_path / "in.csv", HEADER + BODY)
    assert _assign(classic_model, source, tmp_path / "out.csv")[0] == 0
    assert [path.exists() for path in stale] == [False, False]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.csv",
        "out.csv",
        "out.rejected.csv",
    ]


def test_assign_ragged_rows_rejected_with_reason(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    rows = ["A1,Male,19,15,39", "A2,Female,21", "A3,Male,30,70,40,extra", "A4,Male,35,120,95"]
    source = _write(tmp_path / "in.csv", HEADER + "\n".join(rows) + "\n")
    code, stdout, _ = _assign(classic_model, source, tmp_path / "out.csv")
    assert code == 0
    assert stdout.startswith("2 of 4 customers assigned")
    assigned = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert list(assigned["customer_id"]) == ["A1", "A4"]
    rejected = pd.read_csv(tmp_path / "out.rejected.csv", dtype=str)
    assert list(rejected["source_row"]) == ["2", "3"]
    assert list(rejected["reason"]) == [
        "row has 3 fields, expected 5",
        "row has 6 fields, expected 5",
    ]


def test_assign_nan_is_invalid_in_the_file_as_in_the_api(
    classic_model: TrainResult, classic_settings: Settings, tmp_path: Path
) -> None:
    source = _write(tmp_path / "in.csv", HEADER + "A1,Male,19,NaN,39\nA2,Male,19,,39\n")
    assert _assign(classic_model, source, tmp_path / "out.csv")[0] == 0
    rejected = pd.read_csv(tmp_path / "out.rejected.csv", dtype=str)
    assert list(rejected["reason"]) == ["annual_income: NaN is not a finite number"]
    assigned = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert list(assigned["imputed"]) == ["annual_income"]  # empty: missing, imputed
    with TestClient(create_app(classic_settings)) as client:
        nan = client.post(
            "/assign",
            content='{"customer_id": "A1", "annual_income": NaN, "spending_score": 39}',
            headers={"content-type": "application/json"},
        )
        missing = client.post("/assign", json={"customer_id": "A2", "spending_score": 39})
    assert nan.status_code == 422
    assert nan.json()["detail"][0]["msg"] == "Input should be a finite number"
    assert missing.json()["imputed"] == ["annual_income"]
    assert int(assigned["segment_id"][0]) == missing.json()["segment_id"]


def test_assign_absent_column_is_missing_in_every_row_as_in_the_api(
    classic_model: TrainResult, classic_settings: Settings, tmp_path: Path
) -> None:
    source = _write(tmp_path / "in.csv", "CustomerID,Annual Income (k$)\nA1,85\nA2,20\n")
    code, stdout, _ = _assign(classic_model, source, tmp_path / "out.csv")
    assert code == 0
    assert "columns not in the file, missing in every row: spending_score, age, gender" in stdout
    assigned = pd.read_csv(tmp_path / "out.csv", dtype=str)
    with TestClient(create_app(classic_settings)) as client:
        api = [
            client.post("/assign", json={"customer_id": i, "annual_income": x}).json()
            for i, x in (("A1", 85), ("A2", 20))
        ]
    assert list(assigned["imputed"]) == ["spending_score", "spending_score"]
    assert [int(s) for s in assigned["segment_id"]] == [a["segment_id"] for a in api]


def test_assign_names_every_missing_required_column(
    classic_model: TrainResult, tmp_path: Path
) -> None:
    source = _write(tmp_path / "in.csv", "Age,Genre\n30,Male\n")
    code, _, stderr = _assign(classic_model, source, tmp_path / "out.csv")
    assert code == 2
    assert stderr == (
        "error: required column 'customer_id' not found and no cluster feature column (one of "
        "annual_income, spending_score is needed); columns found: Age, Genre\n"
    )


def test_train_names_every_missing_column(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.csv", "Age,Genre\n30,Male\n")
    result = runner.invoke(app, ["train", "--data", str(source), "--models-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: required columns 'customer_id', 'annual_income', 'spending_score' not found; "
        "columns found: Age, Genre\n"
    )


@pytest.mark.slow
def test_assign_sigterm_removes_partial_files(classic_model: TrainResult, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 600_000
    frame = pd.DataFrame(
        {
            "CustomerID": np.arange(n),
            "Genre": rng.choice(["Male", "Female"], n),
            "Age": rng.integers(18, 70, n),
            "Annual Income (k$)": rng.integers(15, 140, n),
            "Spending Score (1-100)": rng.integers(1, 100, n),
        }
    )
    source = tmp_path / "big.csv"
    frame.to_csv(source, index=False)
    output = tmp_path / "out" / "assigned.csv"
    output.parent.mkdir()
    process = subprocess.Popen(
        [str(SEGMENTS), "assign", "--input", str(source), "--output", str(output),
         "--models-dir", str(classic_model.path.parent), "--model-version",
         classic_model.path.name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(output.parent.glob(".assigned.csv.partial-*")):
        assert process.poll() is None, "finished before a partial file was seen"
        assert time.monotonic() < deadline, "no partial file within 60 s"
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert stderr == "error: interrupted: no output written\n"
    assert list(output.parent.iterdir()) == []
