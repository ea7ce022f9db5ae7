"""Features from transactions on the cluster: the single-machine recipe's values, exactly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from training.artifact import load_artifact, read_cleaned
from training.cli import app
from training.dask_features import FILE_LINES, dask_features
from training.features import FeatureResult, NoUsableLinesError, compute_features
from training.sample_transactions import generate_transactions
from training.spec import load_spec

runner = CliRunner()
TX = load_spec("rfm").transactions
assert TX is not None


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dirty log of 400 customers: one CSV, the same lines as one Parquet file in row
    groups of 500, and as two Parquet files (split inside a customer's lines)."""
    folder = tmp_path_factory.mktemp("dask-tx")
    frame, _ = generate_transactions(400, seed=5, dirty=True)
    frame.to_csv(folder / "tx.csv", index=False)
    frame.to_parquet(folder / "tx.parquet", index=False, row_group_size=500)
    (folder / "split").mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "split" / "a.parquet", index=False, row_group_size=500)
    frame.iloc[half:].to_parquet(folder / "split" / "b.parquet", index=False, row_group_size=500)
    return folder


def _assert_same(got: FeatureResult, want: FeatureResult) -> None:
    pd.testing.assert_frame_equal(got.features, want.features, check_exact=True)
    pd.testing.assert_frame_equal(got.rejected, want.rejected, check_exact=True)
    assert (got.as_of, got.mapping, got.examples) == (want.as_of, want.mapping, want.examples)
    assert (got.lines_read, got.lines_after_as_of, got.customers_without_purchase) == (
        want.lines_read,
        want.lines_after_as_of,
        want.customers_without_purchase,
    )


@pytest.mark.parametrize("as_of", [None, date(2024, 9, 1)])
def test_dask_features_equal_the_single_machine_recipe(
    log: Path, client: Client, as_of: date | None
) -> None:
    want = compute_features(log / "tx.parquet", TX, as_of=as_of, monthly=True)
    got = dask_features(
        str(log / "tx.parquet"), TX, client, as_of=as_of, monthly=True, rows_per_partition=500
    )
    assert len(want.features) > 300  # a real log
    assert len(want.rejected) > 0  # and a dirty one
    assert (want.lines_after_as_of > 0) == (as_of is not None)
    _assert_same(got, want)
    assert got.monthly is not None
    assert want.monthly is not None
    months = want.monthly.sort_values(["customer_id", "month"], ignore_index=True)
    pd.testing.assert_frame_equal(got.monthly, months, check_exact=True)


def test_dask_features_of_split_files_equal_the_whole_log(log: Path, client: Client) -> None:
    want = compute_features(log / "tx.parquet", TX)
    got = dask_features(f"{log}/split/*.parquet", TX, client, rows_per_partition=500)
    pd.testing.assert_frame_equal(got.features, want.features, check_exact=True)
    half = len(pd.read_parquet(log / "split" / "a.parquet"))
    # A rejected line of the second file: file 1 x FILE_LINES + its line in that file.
    lines = [n if n <= half else FILE_LINES + n - half for n in want.rejected["line"]]
    assert got.rejected["line"].tolist() == lines
    assert (got.lines_read, got.as_of) == (want.lines_read, want.as_of)


def test_dask_features_without_a_usable_line_is_one_error(tmp_path: Path, client: Client) -> None:
    (tmp_path / "tx.csv").write_text("customer_id,date,amount\n,2024-01-01,1\nA,never,2\n")
    with pytest.raises(NoUsableLinesError, match=r"no usable transaction line in .*: 2 lines"):
        dask_features(str(tmp_path / "tx.csv"), TX, client)


def test_features_dask_cli_writes_the_single_commands_table(
    log: Path, tmp_path: Path, cluster: LocalCluster
) -> None:
    single = runner.invoke(
        app,
        ["features", "--transactions", str(log / "tx.csv"), "--out", str(tmp_path / "f.parquet")],
    )
    assert single.exit_code == 0, single.stderr
    argv = ["features", "--transactions", str(log / "tx.csv"), "--out", str(tmp_path / "out")]
    result = runner.invoke(
        app, [*argv, "--engine", "dask", "--scheduler", cluster.scheduler_address]
    )
    assert result.exit_code == 0, result.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "out" / "features"), pd.read_parquet(tmp_path / "f.parquet")
    )
    rejected = pd.read_parquet(tmp_path / "out" / "rejected")
    want = pd.read_csv(tmp_path / "f.rejected.csv", dtype="string")
    assert set(rejected["source_file"]) == {"tx.csv"}
    assert rejected["line"].tolist() == want["line"].astype(int).tolist()
    assert (
        result.stdout.splitlines()[1:]
        == single.stdout.replace(f"rejected lines: {tmp_path / 'f.rejected.csv'}\n", "")
        .replace(str(tmp_path / "f.parquet"), str(tmp_path / "out"))
        .splitlines()
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.parquet", "f.rejected.csv", "out"]


def test_train_transactions_dask_makes_the_single_machine_table(
    log: Path, tmp_path: Path, cluster: LocalCluster
) -> None:
    base = ["train", "--transactions", str(log / "tx.parquet"), "--spec", "rfm", "--k", "4"]
    base += ["--no-report", "--no-compare"]
    single = runner.invoke(app, [*base, "--models-dir", str(tmp_path / "single")])
    assert single.exit_code == 0, single.stderr
    dask = runner.invoke(
        app,
        [
            *base,
            *("--models-dir", str(tmp_path / "dask"), "--engine", "dask"),
            *("--scheduler", cluster.scheduler_address),
        ],
    )
    assert dask.exit_code == 0, dask.stderr
    got, want = load_artifact(tmp_path / "dask"), load_artifact(tmp_path / "single")
    assert got.manifest.recipe is not None
    assert want.manifest.recipe is not None
    # as_of, SQL, mapping, RFM edges, line counts; monthly spend is per segment, and segment
    # ids are the fit's own: compare the months' totals.
    recipe, expected_recipe = got.manifest.recipe, want.manifest.recipe
    assert recipe.model_dump(exclude={"monthly_spend"}) == expected_recipe.model_dump(
        exclude={"monthly_spend"}
    )
    assert _by_month(recipe.monthly_spend) == pytest.approx(
        _by_month(expected_recipe.monthly_spend)
    )
    features = [f.name for f in want.spec.features]
    cleaned, expected = read_cleaned(got), read_cleaned(want)
    pd.testing.assert_frame_equal(cleaned[features], expected[features], check_exact=True)
    assert got.manifest.final_fit.engine == "dask"


def _by_month(spend: dict[str, dict[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for months in spend.values():
        for month, value in months.items():
            totals[month] = totals.get(month, 0.0) + value
    return totals


def test_features_dask_unreadable_file_fails_with_no_output(
    log: Path, tmp_path: Path, cluster: LocalCluster
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    frame = pd.read_parquet(log / "split" / "a.parquet")
    frame.to_parquet(source / "a.parquet", index=False)
    frame.drop(columns="UnitPrice").to_parquet(source / "b.parquet", index=False)
    argv = ["features", "--transactions", f"{source}/*.parquet", "--out", str(tmp_path / "out")]
    result = runner.invoke(
        app, [*argv, "--engine", "dask", "--scheduler", cluster.scheduler_address]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f'error: cannot read {source}/b.parquet: Field "UnitPrice" does not exist in schema'
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no output, no temp folder


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["features", "--transactions", "{log}/tx.csv", "--out", "{tmp}/out", "--overwrite"],
            "error: --overwrite is for a single output file: --engine dask writes a new folder\n",
        ),
        (
            ["assign", "--transactions", "{log}/tx.csv", "--output", "{tmp}/out.parquet"],
            "error: --engine dask assigns customer files (--input): make them with features\n",
        ),
    ],
)
def test_dask_transactions_bad_options_exit_2(
    argv: list[str], message: str, log: Path, tmp_path: Path
) -> None:
    args = [a.format(log=log, tmp=tmp_path) for a in argv]
    result = runner.invoke(app, [*args, "--engine", "dask"])
    assert result.exit_code == 2
    assert result.stderr == message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "customer_id,date,amount\nCaf\xe9,2024-01-02,10\n".encode("latin-1"),
            "cannot read transactions {log}: CSV Error on Line: 2: not UTF-8 text "
            "(save the file as UTF-8)",
        ),
        (
            b"customer_id,date,amount,amount\nA,2024-01-02,1,2\n",
            "column 'amount' appears twice in {log}: keep only one",
        ),
    ],
)
def test_features_dask_unreadable_csv_fails_in_one_line(
    content: bytes, message: str, tmp_path: Path, cluster: LocalCluster
) -> None:
    log = tmp_path / "tx.csv"
    log.write_bytes(content)
    argv = ["features", "--transactions", str(log), "--out", str(tmp_path / "out")]
    result = runner.invoke(
        app, [*argv, "--engine", "dask", "--scheduler", cluster.scheduler_address]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "error: " + message.format(log=log)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tx.csv"]


def test_dask_features_read_zoned_timestamps_in_utc(tmp_path: Path, client: Client) -> None:
    """A zoned timestamp's day is its UTC day, on the workers as in one process."""
    stamp = pd.Timestamp("2024-01-02 23:30", tz="America/New_York")  # 2024-01-03 04:30 UTC
    frame = pd.DataFrame({"customer_id": ["A"], "date": [stamp], "amount": [1.0]})
    frame.to_parquet(tmp_path / "tx.parquet", index=False)
    client.run(lambda: __import__("os").environ.update(TZ="America/Los_Angeles"))
    client.run(lambda: __import__("time").tzset())
    try:
        got = dask_features(str(tmp_path / "tx.parquet"), TX, client)
    finally:
        client.run(lambda: __import__("os").environ.update(TZ="UTC"))
        client.run(lambda: __import__("time").tzset())
    assert got.as_of == date(2024, 1, 4)
