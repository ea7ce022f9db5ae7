"""`segments assign --engine dask` gives the single-process CLI's answers, row for row."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client
from typer.testing import CliRunner

from training.cli import app
from training.dask_assign import assign_dataset
from training.dask_engine import AtomicDataset, Piece, expand_inputs, plan_pieces
from training.data import DataError
from training.sample import generate_customers
from training.train import TrainResult

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 dirty customer files (missing, invalid, repeated values): 2 Parquet, 1 CSV."""
    folder = tmp_path_factory.mktemp("dask-inputs")
    for i in range(3):
        frame = generate_customers(1500, seed=10 + i, dirty=True)
        if i == 2:
            frame.to_csv(folder / f"customers-{i}.csv", index=False)
        else:
            # Row groups of 400 rows: partitions cut inside a file keep their row numbers.
            frame.astype("string").to_parquet(
                folder / f"customers-{i}.parquet", index=False, row_group_size=400
            )
    return folder


CAMPAIGNS = """
[[campaign]]
name = "spring-vip"
segments = [1, 3]
offer = "20 % off"
holdout = 0.25
start = 2027-03-01
end = 2027-04-30
"""


def _single(
    inputs: Path, tmp: Path, models: Path, *options: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every input file through the single-process `segments assign`, concatenated."""
    assigned, rejected = [], []
    for path in sorted(inputs.iterdir()):
        out = tmp / f"{path.stem}.parquet"
        result = runner.invoke(
            app,
            [
                "assign",
                "--input",
                str(path),
                "--output",
                str(out),
                "--models-dir",
                str(models),
                *options,
            ],
        )
        assert result.exit_code == 0, result.stderr
        assigned.append(pd.read_parquet(out))
        reject = pd.read_csv(tmp / f"{path.stem}.rejected.csv", dtype="string")
        reject.insert(0, "source_file", path.name)
        rejected.append(reject)
    return pd.concat(assigned, ignore_index=True), pd.concat(rejected, ignore_index=True)


def test_plan_pieces_cuts_parquet_at_row_groups_with_row_numbers(inputs: Path) -> None:
    pieces = plan_pieces([inputs / "customers-0.parquet", inputs / "customers-2.csv"], 700)
    path = str(inputs / "customers-0.parquet")
    assert pieces == [
        Piece(path, 1, (0, 1)),
        Piece(path, 801, (2, 3)),
        Piece(str(inputs / "customers-2.csv"), 1),
    ]


def test_assign_dask_cli_equals_single_process_row_for_row(
    inputs: Path, tmp_path: Path, blobs_local: TrainResult, client: Client
) -> None:
    models = blobs_local.path.parent
    output = tmp_path / "out"
    (tmp_path / "campaigns.toml").write_text(CAMPAIGNS)
    options = ["--campaigns", str(tmp_path / "campaigns.toml"), "--on", "2027-03-15"]
    result = runner.invoke(
        app,
        [
            "assign",
            "--input",
            f"{inputs}/customers-*",
            "--output",
            str(output),
            "--models-dir",
            str(models),
            "--engine",
            "dask",
            "--scheduler",
            str(client.scheduler.address),
            *options,
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("dask dashboard: http://")
    expected, expected_rejected = _single(inputs, tmp_path, models, *options)
    got = pd.read_parquet(output / "assignments")
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["campaigns"]) == {"", "spring-vip=treatment", "spring-vip=holdout"}
    rejected = pd.read_parquet(output / "rejected")
    assert len(rejected) == len(expected_rejected) > 0
    assert rejected["source_row"].tolist() == expected_rejected["source_row"].astype(int).tolist()
    assert rejected["reason"].tolist() == expected_rejected["reason"].tolist()
    assert rejected["source_file"].tolist() == expected_rejected["source_file"].tolist()
    assert sorted(p.name for p in (output / "assignments").iterdir()) == [
        f"part-0000{i}.parquet"
        for i in range(3)  # one partition per (small) file
    ]
    assert f"{len(got)} of 4500 customers assigned by model" in result.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_assign_dask_retries_after_a_worker_is_killed(
    inputs: Path, tmp_path: Path, blobs_local: TrainResult, client: Client
) -> None:
    models = blobs_local.path.parent
    pids = client.run(os.getpid)
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if not killed:  # after the first partition, with the others still to come
            killed.append(next(iter(pids.values())))
            os.kill(killed[0], signal.SIGKILL)

    result = assign_dataset(
        f"{inputs}/customers-*",
        tmp_path / "out",
        models,
        None,
        client,
        rows_per_partition=100,
        on_progress=kill_one,
    )
    assert killed
    expected, _ = _single(inputs, tmp_path, models)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "assignments"), expected)
    assert result.rows_read == 4500
    assert len(list((tmp_path / "out" / "assignments").iterdir())) == 9  # 2 x 4 row groups, CSV
    client.wait_for_workers(2, timeout=60)


def test_assign_dask_unreadable_file_fails_with_no_output(
    inputs: Path, tmp_path: Path, blobs_local: TrainResult, client: Client
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for path in inputs.iterdir():
        (source / path.name).write_bytes(path.read_bytes())
    (source / "customers-3.csv").write_bytes(b"CustomerID,Genre\n\xff\xfe,1\n")
    result = runner.invoke(
        app,
        [
            "assign",
            "--input",
            f"{source}/customers-*",
            "--output",
            str(tmp_path / "out"),
            "--models-dir",
            str(blobs_local.path.parent),
            "--engine",
            "dask",
            "--scheduler",
            str(client.scheduler.address),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(
        f"error: cannot read {source}/customers-3.csv: "
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no output, no temp folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{tmp}/none-*.csv"], "error: no input file matches '{tmp}/none-*.csv'\n"),
        (["--output", "{tmp}"], "error: --output {tmp} already exists: give a new folder"),
        (
            ["--engine", "local", "--scheduler", "tcp://x:1"],
            "error: --scheduler needs --engine dask\n",
        ),
        (["--scheduler", "x:1"], "error: --scheduler 'x:1' is invalid: give an address such as"),
    ],
)
def test_assign_dask_bad_options_exit_2(
    args: list[str], message: str, inputs: Path, tmp_path: Path, blobs_local: TrainResult
) -> None:
    base = {"--input": f"{inputs}/*", "--output": str(tmp_path / "out"), "--engine": "dask"}
    (tmp_path / "x").touch()
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value.format(tmp=tmp_path)
    argv = ["assign", "--models-dir", str(blobs_local.path.parent)]
    argv += [item for pair in base.items() for item in pair]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stderr.startswith(message.format(tmp=tmp_path))


def test_assign_dask_refuses_overwrite(inputs: Path, tmp_path: Path) -> None:
    argv = ["assign", "--input", f"{inputs}/*", "--output", str(tmp_path / "out")]
    result = runner.invoke(app, [*argv, "--engine", "dask", "--overwrite"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --overwrite is for a single output file: --engine dask writes a new folder\n"
    )
    assert list(tmp_path.iterdir()) == []


def _fail_inside(dataset: AtomicDataset) -> None:
    with dataset:
        (dataset.tmp / "part-00000.parquet").write_bytes(b"x")
        raise DataError("boom")


def test_atomic_dataset_removes_its_temp_folder_on_failure(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="boom"):
        _fail_inside(AtomicDataset(tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_assign_dask_without_scheduler_starts_a_local_cluster(
    inputs: Path, tmp_path: Path, blobs_local: TrainResult
) -> None:
    segments = Path(sys.executable).with_name("segments")
    done = subprocess.run(
        [
            str(segments),
            "assign",
            "--input",
            f"{inputs}/customers-*.parquet",
            "--output",
            str(tmp_path / "out"),
            "--models-dir",
            str(blobs_local.path.parent),
            "--engine",
            "dask",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The dashboard's link first; the cluster's INFO logging is kept quiet (its warnings
    # stay, e.g. a worker slow to stop on a loaded machine).
    lines = done.stderr.splitlines()
    assert re.fullmatch(r"dask dashboard: http://127\.0\.0\.1:\d+/status", lines[0])
    assert [line for line in lines if line.startswith(("INFO", "Traceback"))] == []
    assigned = pd.read_parquet(tmp_path / "out" / "assignments")
    rejected = pd.read_parquet(tmp_path / "out" / "rejected")
    assert len(assigned) + len(rejected) == 3000
    assert done.stdout.startswith(f"{len(assigned)} of 3000 customers assigned by model ")


def test_expand_inputs_takes_a_glob_or_a_dataset_folder(tmp_path: Path) -> None:
    for name in ("b.parquet", "a.csv", "_SUCCESS", "notes.json"):
        (tmp_path / name).touch()
    assert expand_inputs(str(tmp_path)) == [tmp_path / "a.csv", tmp_path / "b.parquet"]
    assert expand_inputs(f"{tmp_path}/*.parquet") == [tmp_path / "b.parquet"]
    with pytest.raises(
        DataError, match=r"^unsupported input file type '\.json' for .*notes\.json: use \.csv"
    ):
        expand_inputs(f"{tmp_path}/n*")


def test_assign_dask_without_an_assigned_row_fails_in_one_line(
    inputs: Path, tmp_path: Path, blobs_local: TrainResult, client: Client
) -> None:
    """Found in review: no partition with an assigned row was a KeyError traceback."""
    header = (inputs / "customers-2.csv").read_text().splitlines()[0]
    (tmp_path / "empty.csv").write_text(header + "\n")
    argv = ["assign", "--input", str(tmp_path / "empty.csv"), "--output", str(tmp_path / "out")]
    result = runner.invoke(
        app,
        [
            *argv,
            "--models-dir",
            str(blobs_local.path.parent),
            "--engine",
            "dask",
            "--scheduler",
            str(client.scheduler.address),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"error: {tmp_path / 'empty.csv'}: no rows to assign"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv"]
