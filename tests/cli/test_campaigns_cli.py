"""segments campaigns check, assign --campaigns, sample-data --outcomes and uplift."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from training.campaigns import arm
from training.cli import app
from training.train import TrainResult

runner = CliRunner()
CAMPAIGNS = """
[[campaign]]
name = "spring-vip"
segments = [0, 1, 2, 3, 4]
offer = "20 % off"
holdout = 0.3
start = 2027-03-01
end = 2027-04-30

[[campaign]]
name = "later"
segments = [1]
offer = "x"
start = 2027-06-01
end = 2027-06-30
"""
ASSIGNED = "customer_id,segment_id,segment_name,campaigns\n" + "".join(
    f"A{i},{i % 2},seg {i % 2},spring-vip={'holdout' if i % 3 == 0 else 'treatment'}\n"
    for i in range(30)
)
OUTCOMES = "customer_id,converted,revenue\n" + "".join(
    f"A{i},{i % 4 == 0:d},{(i % 4 == 0) * 12.5}\n" for i in range(30)
)


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "campaigns.toml").write_text(CAMPAIGNS)
    (tmp_path / "assigned.csv").write_text(ASSIGNED)
    (tmp_path / "outcomes.csv").write_text(OUTCOMES)
    return tmp_path


def _model_args(model: TrainResult) -> list[str]:
    return ["--models-dir", str(model.path.parent), "--model-version", model.path.name]


def test_campaigns_check_says_which_version(files: Path, classic_model: TrainResult) -> None:
    code, out, _ = _run(
        "campaigns", "check", str(files / "campaigns.toml"), *_model_args(classic_model)
    )
    version = classic_model.path.name
    assert code == 0
    assert (
        out.splitlines()[0] == f"{files / 'campaigns.toml'}: 2 campaigns valid for model {version}"
    )
    assert "  later: 2027-06-01 to 2027-06-30 (upcoming), holdout 10%" in out.splitlines()


def test_campaigns_check_refuses_an_unknown_segment(
    files: Path, classic_model: TrainResult
) -> None:
    path = files / "campaigns.toml"
    path.write_text(CAMPAIGNS.replace("segments = [1]", "segments = [1, 9]"))
    code, _, err = _run("campaigns", "check", str(path), *_model_args(classic_model))
    assert (code, err) == (
        2,
        f"error: {path}: campaign 'later': segments: 9 not in model {classic_model.path.name} "
        "(its segments: 0, 1, 2, 3, 4)\n",
    )


def test_assign_writes_the_campaign_arms(files: Path, classic_model: TrainResult) -> None:
    customers = files / "customers.csv"
    customers.write_text(
        "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n"
        + "".join(f"C{i},Male,30,{20 + i * 7},{5 + i * 9}\n" for i in range(10))
    )
    output = files / "out.csv"
    code, _, err = _run(
        "assign", "--input", str(customers), "--output", str(output), *_model_args(classic_model),
        "--campaigns", str(files / "campaigns.toml"), "--on", "2027-03-15",
    )  # fmt: skip
    assert (code, err) == (0, "")
    frame = pd.read_csv(output, dtype=str)
    assert list(frame["campaigns"]) == [
        f"spring-vip={arm('spring-vip', f'C{i}', 0.3)}" for i in range(10)
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--on", "15/03/2027"], "error: --on '15/03/2027': use a date as YYYY-MM-DD\n"),
        (["--campaigns", "{tmp}/nope.toml"], "error: {tmp}/nope.toml: campaign file not found\n"),
    ],
)
def test_assign_campaign_options_errors(
    files: Path, classic_model: TrainResult, extra: list[str], message: str
) -> None:
    extra = [e.replace("{tmp}", str(files)) for e in extra]
    if extra[0] == "--on":
        extra = ["--campaigns", str(files / "campaigns.toml"), *extra]
    code, _, err = _run(
        "assign", "--input", str(files / "assigned.csv"), "--output", str(files / "o.csv"),
        *_model_args(classic_model), *extra,
    )  # fmt: skip
    assert (code, err) == (2, message.replace("{tmp}", str(files)))


def test_uplift_writes_table_csv_and_page(files: Path) -> None:
    (files / "outcomes.csv").write_text(OUTCOMES + "B1,1,3.0\nB2,0,0\n")
    out = files / "uplift"
    code, stdout, err = _run(
        "uplift", "--assignments", str(files / "assigned.csv"), "--outcomes",
        str(files / "outcomes.csv"), "--campaign", "spring-vip", "--out", str(out),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "left out: 2 ids in outcomes but not in the campaign's assignments" in stdout
    table = pd.read_csv(out / "uplift.csv")
    assert list(table["segment"]) == ["0", "1", "all", "0", "1", "all"]
    assert list(table["n_treatment"] + table["n_holdout"]) == [15, 15, 30] * 2
    page = (out / "uplift.html").read_text()
    assert '<img src="figures/forest-converted.png" alt="Forest plot of the uplift' in page
    assert "ids in outcomes but not in the campaign&#x27;s assignments: 2" in page
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "forest-converted.png",
        "forest-revenue.png",
    ]


@pytest.mark.parametrize(
    ("change", "campaign", "message"),
    [
        (None, "winter", "error: --campaign 'winter': no customer of {a} is in it (campaigns "
         "found: spring-vip)\n"),
        (("outcomes", "customer_id,bought\nA1,1\n"), "spring-vip",
         "error: --outcomes {o}: missing column converted or revenue (need one)\n"),
        (("assigned", "customer_id,campaigns\nA1,spring-vip=holdout\n"), "spring-vip",
         "error: --assignments {a}: missing column(s) segment_id (found: customer_id, "
         "campaigns)\n"),
        (("outcomes", OUTCOMES + "A3,1,2\nA4,0,0\n"), "spring-vip",
         "error: --outcomes {o}: 2 duplicated ids in customer_id (first: 'A3'): give one row "
         "per customer\n"),
        (("outcomes", OUTCOMES.replace("A5,0,", "A5,maybe,")), "spring-vip",
         "error: --outcomes {o}: converted must be 0/1 or true/false (1 rows are not, e.g. "
         "'maybe')\n"),
        (("outcomes", OUTCOMES.replace("A5,0,0", "A5,0,lots")), "spring-vip",
         "error: --outcomes {o}: revenue must be a finite number on every row\n"),
        (("assigned", ASSIGNED.replace("A3,1,", "A3,x,")), "spring-vip",
         "error: --assignments {a}: segment_id must be whole numbers >= 0\n"),
    ],
)  # fmt: skip
def test_uplift_bad_inputs_get_one_line(
    files: Path, change: tuple[str, str] | None, campaign: str, message: str
) -> None:
    if change is not None:
        (files / f"{change[0]}.csv").write_text(change[1])
    a, o = files / "assigned.csv", files / "outcomes.csv"
    code, _, err = _run(
        "uplift", "--assignments", str(a), "--outcomes", str(o), "--campaign", campaign,
        "--out", str(files / "uplift"),
    )  # fmt: skip
    assert (code, err) == (2, message.format(a=a, o=o))
    assert not (files / "uplift").exists()


def test_uplift_counts_ids_in_both_arms(files: Path) -> None:
    (files / "assigned.csv").write_text(ASSIGNED + "A1,1,seg 1,spring-vip=holdout\n")
    code, stdout, _ = _run(
        "uplift", "--assignments", str(files / "assigned.csv"), "--outcomes",
        str(files / "outcomes.csv"), "--campaign", "spring-vip", "--out", str(files / "u"),
    )  # fmt: skip
    assert code == 0
    assert "left out: 1 ids assigned to both arms" in stdout
    assert pd.read_csv(files / "u" / "uplift.csv")["n_treatment"].iloc[-1] == 19


def test_sample_data_outcomes_simulates_per_customer(files: Path) -> None:
    out = files / "sim.csv"
    code, stdout, _ = _run(
        "sample-data", "--outcomes", str(out), "--assignments", str(files / "assigned.csv"),
        "--campaign", "spring-vip", "--seed", "4",
    )  # fmt: skip
    assert code == 0
    assert stdout.splitlines()[0] == f"wrote outcomes of 30 customers to {out}"
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["customer_id", "converted", "revenue"]
    assert ((frame["revenue"] > 0) == (frame["converted"] == 1)).all()


def test_sample_data_outcomes_needs_assignments(files: Path) -> None:
    code, _, err = _run("sample-data", "--outcomes", str(files / "sim.csv"))
    assert (code, err) == (
        2,
        "error: --outcomes needs --assignments FILE (from segments assign --campaigns) and "
        "--campaign NAME\n",
    )


def test_uplift_reads_parquet_with_an_arm_column(files: Path) -> None:
    frame = pd.read_csv(files / "assigned.csv", dtype=str)
    arms = frame.pop("campaigns").str.removeprefix("spring-vip=")
    long = pd.concat(
        [
            frame.assign(campaign="spring-vip", arm=arms),
            frame.assign(campaign="other", arm="holdout"),
        ]
    )
    long.to_parquet(files / "assigned.parquet", index=False)
    code, _, err = _run(
        "uplift", "--assignments", str(files / "assigned.parquet"), "--outcomes",
        str(files / "outcomes.csv"), "--campaign", "spring-vip", "--out", str(files / "u"),
    )  # fmt: skip
    assert (code, err) == (0, "")
    table = pd.read_csv(files / "u" / "uplift.csv")
    assert list(table["n_treatment"] + table["n_holdout"]) == [15, 15, 30] * 2
    assert list(table["n_holdout"])[:3] == [5, 5, 10]


def test_uplift_out_must_be_a_folder(files: Path) -> None:
    (files / "taken").write_text("")
    code, _, err = _run(
        "uplift", "--assignments", str(files / "assigned.csv"), "--outcomes",
        str(files / "outcomes.csv"), "--campaign", "spring-vip", "--out", str(files / "taken"),
    )  # fmt: skip
    assert (code, err) == (2, f"error: --out {files / 'taken'} is a file: give a folder\n")
