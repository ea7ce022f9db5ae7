"""`segments train --algorithm gmm`: the BIC column, the rule, and the comparison printed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import SAMPLE
from training.artifact import load_artifact
from training.cli import app

runner = CliRunner()


def test_train_cli_gmm_prints_bic_and_the_comparison(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["train", "--data", str(SAMPLE), "--models-dir", str(tmp_path), "--algorithm", "gmm",
         "--covariance", "diag", "--k-max", "5", "--no-report"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "BIC" in out
    assert "chosen k=" in out
    assert ": the lowest BIC (" in out
    assert "other algorithms (sample of 1,982 customers)" in out
    assert "noise excluded from silhouette, Davies-B and Calinski-H" in out
    manifest = load_artifact(tmp_path).manifest
    assert (manifest.algorithm, manifest.covariance_type) == ("gmm", "diag")
    assert manifest.n_init == 3
    assert manifest.log_likelihood_p01 is not None
    assert manifest.comparison is not None
    assert manifest.comparison.verdict in out.replace("\n", " ")
    assert all(row.bic is not None for row in manifest.selection.table)


def test_train_cli_no_compare_records_no_comparison(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["train", "--data", str(SAMPLE), "--models-dir", str(tmp_path), "--k-max", "4",
         "--no-report", "--no-compare"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "other algorithms" not in result.stdout
    manifest = load_artifact(tmp_path).manifest
    assert (manifest.algorithm, manifest.covariance_type, manifest.comparison) == (
        "kmeans",
        None,
        None,
    )
