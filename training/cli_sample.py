"""``segments sample-data``: a synthetic customer file or transactions log, or outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from training import cli_transactions
from training.cli_campaigns import sample_outcomes
from training.cli_support import fail, out, user_errors

__all__ = ["sample_data"]


def sample_data(
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Where to write the CSV or Parquet file.")
    ] = None,
    rows: Annotated[int, typer.Option(help="Number of customers.", min=1)] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same file.", min=0)] = 0,
    clean: Annotated[
        bool, typer.Option("--clean", help="Leave out missing and invalid values.")
    ] = False,
    outcomes: Annotated[
        Path | None, typer.Option(help="Simulate campaign outcomes (CSV) for --assignments.")
    ] = None,
    assignments: Annotated[
        Path | None, typer.Option(help="With --outcomes: a segments assign --campaigns file.")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="With --outcomes: the campaign.")] = None,
    transactions: Annotated[
        bool, typer.Option("--transactions", help="A transactions log instead of customers.")
    ] = False,
    customers: Annotated[
        int | None, typer.Option(help="Customers in the log (same as --rows).", min=1)
    ] = None,
) -> None:
    """Write a synthetic mall-customers file or transactions log (CSV or Parquet), or outcomes."""
    from training.data import CSV_SUFFIXES, PARQUET_SUFFIXES
    from training.sample import generate_customers

    if outcomes is not None:
        sample_outcomes(outcomes, assignments, campaign, seed)
    if out_path is None:
        if outcomes is None:
            fail("--out is required (or --outcomes)")
        return

    suffix = out_path.suffix.lower()
    if suffix not in PARQUET_SUFFIXES | CSV_SUFFIXES:
        fail(f"--out {out_path}: use a .csv or .parquet file name")
    if transactions:
        return cli_transactions.sample_transactions(out_path, customers or rows, seed, clean)
    frame = generate_customers(rows, seed=seed, dirty=not clean)
    with user_errors():
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if suffix in PARQUET_SUFFIXES:
            frame.astype("string").to_parquet(out_path, index=False)
        else:
            frame.to_csv(out_path, index=False)
    out.print(f"wrote {rows} customers to {out_path}")
