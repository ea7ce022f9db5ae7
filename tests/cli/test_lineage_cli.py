"""`segments train --previous / --no-previous`: one-line errors, the lineage line printed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from training.cli import app

runner = CliRunner()


def _train(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["train", "--k", "5", "--k-max", "5", "--no-report", *args])
    return result.exit_code, result.stdout, result.stderr


def test_train_previous_and_no_previous_exclude_each_other(classic_path: Path) -> None:
    code, _, err = _train("--data", str(classic_path), "--previous", "v1", "--no-previous")
    assert (code, err) == (2, "error: --previous and --no-previous exclude each other\n")


def test_train_unknown_previous_fails_before_training(classic_path: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    code, out, err = _train(
        "--data", str(classic_path), "--models-dir", str(models), "--previous", "nope"
    )
    assert (code, out) == (2, "")
    assert err == f"error: --previous nope: no such model version in {models}\n"


def test_train_prints_kept_new_retired(classic_path: Path, tmp_path: Path) -> None:
    models = str(tmp_path / "models")
    assert _train("--data", str(classic_path), "--models-dir", models)[0] == 0
    code, out, _ = _train("--data", str(classic_path), "--models-dir", models)
    assert code == 0
    assert "; kept [0, 1, 2, 3, 4], new [], retired []\n" in out
