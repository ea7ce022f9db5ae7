"""``segments assign``: every customer of a file to a segment (locally or on Dask)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import TextColumn

from training import cli_transactions
from training.cli_campaigns import campaign_errors, load_book
from training.cli_dask import Engine, EngineOption, SchedulerOption, check_engine
from training.cli_support import TerminatedError, err, fail, out, progress_bar

if TYPE_CHECKING:
    from training.batch import BatchResult

__all__ = ["assign"]


def assign(
    output_path: Annotated[
        Path,
        typer.Option(
            "--output",
            help="Assignments file to write (.csv or .parquet); a new folder with --engine dask.",
        ),
    ],
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input", help="Customer file (.csv or .parquet); a glob with --engine dask."
        ),
    ] = None,
    model_version: Annotated[
        str | None, typer.Option(help="Model version (default: the one named in LATEST).")
    ] = None,
    models_dir: Annotated[Path, typer.Option(help="Where artifacts are published.")] = Path(
        "models"
    ),
    campaigns: Annotated[
        Path | None, typer.Option(help="Campaign file: adds a campaigns column (name=arm;...).")
    ] = None,
    on: Annotated[
        str | None, typer.Option(help="Day for the campaigns (YYYY-MM-DD; default today, UTC).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output and rejected file.")
    ] = False,
    transactions: Annotated[
        Path | None, typer.Option(help="Transactions log (model trained with --transactions).")
    ] = None,
    as_of: cli_transactions.AsOf = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
) -> None:
    """Assign every customer of a file to a segment: same answers as POST /assign."""
    import signal

    from training.batch import assign_file

    if (input_path is None) == (transactions is None):
        fail("give either --input (a customer file) or --transactions (a transactions log)")
    check_engine(engine, scheduler)
    if transactions is not None:
        if engine is Engine.dask:
            fail("--engine dask assigns customer files (--input): make them with features")
        return cli_transactions.assign(
            transactions, output_path, models_dir, model_version, as_of, overwrite
        )
    assert input_path is not None  # exactly one of the two was given
    book, day = load_book(campaigns, on)
    if engine is Engine.dask:
        from training.cli_dask import assign_on_dask

        if overwrite:
            fail("--overwrite is for a single output file: --engine dask writes a new folder")
        return _print_assigned(
            assign_on_dask(
                str(input_path), output_path, models_dir, model_version, scheduler, book, day
            )
        )

    def terminated(signum: int, _frame: object) -> None:
        raise TerminatedError  # unwinds through the writers: partial files are removed

    progress = progress_bar("assigning", TextColumn("{task.percentage:>3.0f}%"))
    task = progress.add_task("assign", total=None)

    def on_progress(done: int, total: int) -> None:
        progress.start()  # on the first chunk: errors before it print on a clean line
        progress.update(task, completed=done, total=total)

    signal.signal(signal.SIGTERM, terminated)
    with campaign_errors():
        try:
            result = assign_file(
                input_path,
                output_path,
                models_dir,
                model_version,
                on_progress=on_progress,
                campaigns=book,
                day=day,
                overwrite=overwrite,
            )
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM
            err.print("error: interrupted: no output written", markup=False)
            raise typer.Exit(143 if isinstance(exc, TerminatedError) else 130) from None
        finally:
            progress.stop()
    _print_assigned(result)


def _print_assigned(result: BatchResult) -> None:
    if result.absent:
        out.print(f"columns not in the file, missing in every row: {', '.join(result.absent)}")
    out.print(
        f"{result.rows_assigned} of {result.rows_read} customers assigned by model "
        f"{result.model_version} ({result.atypical} atypical, {result.imputed} with imputed "
        f"values): {result.output}"
    )
    for name, count in result.segments.items():
        out.print(f"  {name:<40} {count}", highlight=False)
    out.print(f"rejected: {result.rows_rejected} rows: {result.rejected}")
