"""``segments campaigns check`` and ``segments uplift`` (registered in :mod:`training.cli`).

Heavy imports happen inside the commands, so ``segments --help`` stays fast.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from training.campaigns import CampaignBook
    from training.uplift import UpliftRow

__all__ = ["campaign_errors", "campaigns_app", "load_book", "sample_outcomes", "uplift"]

campaigns_app = typer.Typer(
    help="Campaigns per segment with a deterministic holdout.", no_args_is_help=True
)


@contextmanager
def campaign_errors() -> Iterator[None]:
    """The project's expected errors, and a bad campaign file, as one ``error:`` line."""
    from training.campaigns import CampaignError
    from training.cli_support import fail, user_errors

    with user_errors():
        try:
            yield
        except CampaignError as exc:
            fail(str(exc))


def _salt() -> str:
    from training.campaigns import SALT_VARIABLE

    return os.environ.get(SALT_VARIABLE, "")


@campaigns_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Campaign file (TOML).")],
    models_dir: Annotated[Path, typer.Option(help="Where artifacts are published.")] = Path(
        "models"
    ),
    model_version: Annotated[
        str | None, typer.Option(help="Model version (default: the one named in LATEST).")
    ] = None,
) -> None:
    """Validate a campaign file against the segments of the model in LATEST."""
    from training.artifact import load_artifact
    from training.campaigns import load_campaigns, utc_today
    from training.cli_support import out

    with campaign_errors():
        book = load_campaigns(file, _salt())
        artifact = load_artifact(models_dir, model_version)
        segments = {s.segment_id: s.name for s in artifact.profile.segments}
        book.check_targets(segments, artifact.version)
    today = utc_today()
    out.print(f"{file}: {len(book.campaigns)} campaigns valid for model {artifact.version}")
    for c in book.campaigns:
        state = "active" if c.active(today) else ("ended" if c.end < today else "upcoming")
        out.print(f"  {c.name}: {c.start} to {c.end} ({state}), holdout {c.holdout:.0%}")
        for s in c.segments:
            out.print(f"    segment {s} · {segments[s]}")
    out.print("segment ids are those of this version: check again after a retrain", highlight=False)


def uplift(
    assignments: Annotated[
        Path, typer.Option(help="id, segment_id and the arm (campaigns or arm column).")
    ],
    outcomes: Annotated[Path, typer.Option(help="id and converted (0/1) and/or revenue.")],
    campaign: Annotated[str, typer.Option(help="The campaign to analyse.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the CSV and HTML page.")],
    id_column: Annotated[str, typer.Option(help="The id column in both files.")] = "customer_id",
) -> None:
    """Uplift of a campaign per segment: treatment against holdout, with 95 % intervals."""
    from training.uplift_data import analyse, join_inputs
    from training.uplift_report import LEFT_OUT, write_outputs

    with campaign_errors():
        joined = join_inputs(assignments, outcomes, campaign, id_column)
        rows = analyse(joined)
        page = write_outputs(rows, joined, campaign, out_dir)
    _print_table(rows, joined.counts["analysed"], campaign)
    from training.cli_support import out

    for key, text in LEFT_OUT.items():
        if joined.counts.get(key):
            out.print(f"left out: {joined.counts[key]:,} {text}", highlight=False)
    out.print(f"written: {out_dir / 'uplift.csv'}, {page}")


def _print_table(rows: list[UpliftRow], analysed: int, campaign: str) -> None:
    from rich.table import Table

    from training.cli_support import out
    from training.uplift_report import format_value, row_label

    for metric in dict.fromkeys(r.metric for r in rows):
        unit = "rates in %, differences in percentage points" if metric == "converted" else ""
        table = Table(title=f"{campaign}: {metric}, {analysed:,} customers; {unit}".strip("; "))
        for column in ("segment", "n treat", "n hold", "treat", "hold", "uplift", "95 % CI",
                       "p Holm", "MDE"):  # fmt: skip
            table.add_column(
                column,
                justify="left" if column == "segment" else "right",
                min_width=13 if column == "95 % CI" else None,
            )
        for r in (r for r in rows if r.metric == metric):

            def cell(value: float, *, signed: bool = True, m: str = metric) -> str:
                return format_value(value, m, signed=signed).removesuffix(" pp").removesuffix("%")

            table.add_row(
                r.segment, f"{r.n_treatment:,}", f"{r.n_holdout:,}",
                cell(r.treatment, signed=False), cell(r.holdout, signed=False), cell(r.uplift),
                f"{cell(r.ci_low)}..{cell(r.ci_high)}",
                "-" if math.isnan(r.p_adjusted) else f"{r.p_adjusted:.2g}",
                cell(r.mde).lstrip("+"),
            )  # fmt: skip
        out.print(table)
        for r in (r for r in rows if r.metric == metric):
            out.print(f"  {row_label(r)}: {r.verdict}", highlight=False)


def sample_outcomes(
    outcomes: Path, assignments: Path | None, campaign: str | None, seed: int
) -> None:
    """``sample-data --outcomes``: simulate outcomes for the customers of an assignments file."""
    import pandas as pd

    from training.cli_support import fail, out
    from training.outcomes_sim import TRUE_UPLIFT, simulate_outcomes
    from training.uplift_data import read_assignments

    if assignments is None or campaign is None:
        fail(
            "--outcomes needs --assignments FILE (from segments assign --campaigns) "
            "and --campaign NAME"
        )
    if outcomes.suffix.lower() != ".csv":
        fail(f"--outcomes {outcomes}: use a .csv file name")
    with campaign_errors():
        table, _rows = read_assignments(assignments, campaign, "customer_id")
        ids = table["id"].to_numpy(zero_copy_only=False)
        first = ~pd.Series(ids).duplicated().to_numpy()  # one outcome per customer
        frame = simulate_outcomes(
            ids[first],
            table["segment_id"].to_numpy()[first],
            table["arm"].to_numpy(zero_copy_only=False)[first],
            seed=seed,
        )
        outcomes.parent.mkdir(parents=True, exist_ok=True)
        tmp = outcomes.with_name(f".{outcomes.name}.partial-{os.getpid()}")
        frame.to_csv(tmp, index=False)
        os.replace(tmp, outcomes)
    truths = ", ".join(f"{i}: {u * 100:+.1f} pp" for i, u in enumerate(TRUE_UPLIFT))
    out.print(f"wrote outcomes of {len(frame)} customers to {outcomes}")
    out.print(f"true conversion uplift by segment id (mod 5): {truths}", highlight=False)


def load_book(path: Path | None, on: str | None) -> tuple[CampaignBook | None, date | None]:
    """``assign --campaigns FILE [--on YYYY-MM-DD]``: the campaigns and the day (None: today)."""
    from training.campaigns import load_campaigns
    from training.cli_support import fail

    day = None
    if on is not None:
        try:
            day = datetime.strptime(on, "%Y-%m-%d").date()
        except ValueError:
            fail(f"--on {on!r}: use a date as YYYY-MM-DD")
    if path is None:
        if on is not None:
            fail("--on needs --campaigns FILE")
        return None, None
    with campaign_errors():
        return load_campaigns(path, _salt()), day
