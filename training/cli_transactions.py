"""The transactions side of the ``segments`` command: ``features``, and the helpers behind
``sample-data --transactions``, ``train --transactions`` and ``assign --transactions``.

Heavy imports (DuckDB, pandas) happen inside the functions: ``segments --help`` stays fast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from training.cli_dask import Engine, EngineOption, SchedulerOption, check_engine

if TYPE_CHECKING:
    from training.features import FeatureResult

__all__ = ["assign", "features", "parse_as_of", "print_lines", "sample_transactions"]

AsOf = Annotated[
    str | None,
    typer.Option(help="Reference date YYYY-MM-DD (default: the day after the last line)."),
]


def parse_as_of(text: str | None) -> date | None:
    from training.cli_support import fail

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is not a date: use YYYY-MM-DD")


def print_lines(result: FeatureResult, rejected: Path | None = None) -> None:
    """How the log was read: lines, rejections by reason (with examples), as_of."""
    from training.cli_support import out

    out.print(
        f"lines: {result.lines_read} read, {result.lines_rejected} rejected, "
        f"{result.lines_after_as_of} on or after as_of {result.as_of} (ignored); "
        f"{len(result.features)} customers"
        + (
            f" ({result.customers_without_purchase} without a purchase, left out)"
            if result.customers_without_purchase
            else ""
        )
    )
    for reason, count in result.reason_counts().items():
        examples = result.examples.get(reason, [])
        shown = f" (e.g. {', '.join(repr(e) for e in dict.fromkeys(examples))})" if examples else ""
        out.print(f"  rejected for {reason}: {count}{shown}", highlight=False)
    if rejected is not None:
        out.print(f"rejected lines: {rejected}")


def features(
    transactions: Annotated[
        Path,
        typer.Option(help="Transactions log (.csv or .parquet); a glob with --engine dask."),
    ],
    out_path: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Customer table to write (.csv or .parquet); a new folder with --engine dask.",
        ),
    ],
    as_of: AsOf = None,
    spec: Annotated[
        str, typer.Option(help="Spec whose transactions section maps the columns (bundled: rfm).")
    ] = "rfm",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output and rejected file.")
    ] = False,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
) -> None:
    """Compute one row of features per customer (RFM, behaviour) from a transactions log."""
    from training.batch_transactions import write_features
    from training.cli_support import fail, out, user_errors

    reference = parse_as_of(as_of)
    check_engine(engine, scheduler)
    if engine is Engine.dask:
        from training.cli_dask import features_on_dask

        if overwrite:
            fail("--overwrite is for a single output file: --engine dask writes a new folder")
        lines, customers = features_on_dask(str(transactions), out_path, spec, reference, scheduler)
        print_lines(lines)
        out.print(f"wrote {customers} customers to {out_path}")
        return
    with user_errors():
        result = write_features(transactions, out_path, spec, reference, overwrite=overwrite)
    print_lines(result.lines, result.rejected)
    out.print(f"wrote {len(result.table)} customers to {out_path}")


def sample_transactions(out_path: Path, customers: int, seed: int, clean: bool) -> None:
    """Write a synthetic transactions log (``sample-data --transactions``)."""
    from training.batch_transactions import write_table
    from training.cli_support import out, user_errors
    from training.sample_transactions import generate_transactions

    frame, _personas = generate_transactions(customers, seed=seed, dirty=not clean)
    with user_errors():
        write_table(frame, out_path)
    out.print(f"wrote {len(frame)} lines for {customers} customers to {out_path}")


def assign(
    transactions: Path,
    output: Path,
    models_dir: Path,
    model_version: str | None,
    as_of: str | None,
    overwrite: bool = False,
) -> None:
    """``segments assign --transactions``: features with the model's recipe, then assign."""
    from training.batch_transactions import assign_transactions
    from training.cli_support import out, user_errors

    reference = parse_as_of(as_of)
    with user_errors():
        result = assign_transactions(
            transactions, output, models_dir, model_version, reference, overwrite=overwrite
        )
    print_lines(result.lines, result.rejected)
    out.print(f"{len(result.table)} customers assigned by model {result.model_version}: {output}")
    for name, count in result.table["segment_name"].value_counts(sort=False).items():
        out.print(f"  {name:<40} {count}", highlight=False)
