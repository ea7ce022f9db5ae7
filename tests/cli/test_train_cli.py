from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from training.cli import app
from training.sample import generate_customers

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "nope.csv"], "error: data file not found: nope.csv\n"),
        (
            ["--data", "{tmp}/customers.xlsx"],
            "error: unsupported file type '.xlsx' for {tmp}/customers.xlsx: use .csv or .parquet\n",
        ),
        (
            ["--data", "{tmp}/broken.parquet"],
            "error: cannot read {tmp}/broken.parquet as parquet: ",
        ),
        (
            ["--data", "{tmp}/no_score.csv"],
            "error: required column 'spending_score' not found; columns found: CustomerID, Genre, "
            "Age, Annual Income (k$)\n",
        ),
        (
            ["--data", "{tmp}/tiny.csv"],
            "error: too few valid rows: 12 of 15 remain after cleaning, need at least 22 for k in "
            "2..10\n",
        ),
        (
            ["--data", str(SAMPLE), "--spec", "nope"],
            "error: spec 'nope' is neither a bundled spec (mall, mall-full, rfm) nor an "
            "existing file\n",
        ),
        (
            ["--data", str(SAMPLE), "--k", "five"],
            "error: --k 'five' is invalid: use 'auto' or a whole number >= 2\n",
        ),
        (["--data", str(SAMPLE), "--k", "1"], "error: --k 1 is invalid: need k >= 2\n"),
        (
            ["--data", str(SAMPLE), "--algorithm", "dbscan"],
            "error: --algorithm 'dbscan' is invalid: use one of kmeans, gmm\n",
        ),
        (
            ["--data", str(SAMPLE), "--algorithm", "gmm", "--covariance", "round"],
            "error: --covariance 'round' is invalid: use one of full, diag, tied, spherical\n",
        ),
        (
            ["--data", "{tmp}/two_ages.csv"],
            "error: columns 'Age' and 'age' both map to 'age': keep only one\n",
        ),
        (
            ["--data", "{tmp}/no_age.csv"],
            "error: column 'age' has no valid value in any of the 30 kept rows\n",
        ),
        (
            ["--data", "{tmp}/same.csv"],
            "error: only 1 distinct customers in the cluster features, need at least 10 for k in "
            "2..10\n",
        ),
        (
            ["--data", str(SAMPLE), "--spec", "{tmp}/latin1.toml"],
            "error: spec {tmp}/latin1.toml: cannot read it as UTF-8 text: ",
        ),
        (
            ["--data", str(SAMPLE), "--models-dir", "{tmp}/customers.xlsx"],
            "error: File exists: {tmp}/customers.xlsx\n",
        ),
    ],
)
def test_train_cli_errors_exit_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "customers.xlsx").write_text("x")
    (tmp_path / "broken.parquet").write_text("not parquet")
    frame = generate_customers(15, seed=1, dirty=False)
    frame.drop(columns=["Spending Score (1-100)"]).to_csv(tmp_path / "no_score.csv", index=False)
    frame.loc[:2, "Age"] = "old"
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    thirty = generate_customers(30, seed=2, dirty=False)
    thirty.assign(age=thirty["Age"]).to_csv(tmp_path / "two_ages.csv", index=False)
    thirty.assign(Age="").to_csv(tmp_path / "no_age.csv", index=False)
    thirty.assign(**{"Annual Income (k$)": 50, "Spending Score (1-100)": 50}).to_csv(
        tmp_path / "same.csv", index=False
    )
    (tmp_path / "latin1.toml").write_bytes('name = "café"'.encode("latin-1"))
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--models-dir" not in args:
        args = ["--models-dir", str(tmp_path / "models"), *args]
    code, out, err = _run("train", *args)
    expected = message.replace("{tmp}", str(tmp_path))
    assert code == 2
    assert err.startswith(expected) if not expected.endswith("\n") else err == expected
    assert "Traceback" not in out + err
    assert not (tmp_path / "models" / "LATEST").exists()


def test_train_cli_prints_table_choice_segments_and_path(tmp_path: Path) -> None:
    code, out, err = _run(
        "train", "--data", str(SAMPLE), "--models-dir", str(tmp_path), "--k-max", "6", "--no-report"
    )
    assert code == 0, err
    version = (tmp_path / "LATEST").read_text().strip()
    assert "rows: 2000 read, 1982 kept, 18 rejected (7 duplicate ids)" in out
    assert "choosing k" in out
    assert "chosen k=5: the best Silhouette" in out
    assert "High income · Low spending" in out
    assert f"artifact: {tmp_path / version}" in out
    rejected = pd.read_csv(tmp_path / version / "rejected.csv")
    assert len(rejected) == 18
    assert rejected["reason"].notna().all()


def test_sample_data_is_deterministic_and_matches_bundled_file(tmp_path: Path) -> None:
    code, _, err = _run("sample-data", "--rows", "2000", "--out", str(tmp_path / "s.csv"))
    assert code == 0, err
    assert (tmp_path / "s.csv").read_bytes() == SAMPLE.read_bytes()


def test_sample_data_parquet(tmp_path: Path) -> None:
    code, _, err = _run("sample-data", "--rows", "50", "--out", str(tmp_path / "s.parquet"))
    assert code == 0, err
    assert pd.read_parquet(tmp_path / "s.parquet").shape == (50, 5)


def test_cli_real_process_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "training", "train", "--data", str(tmp_path / "none.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == f"error: data file not found: {tmp_path / 'none.csv'}\n"
