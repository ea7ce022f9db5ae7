"""The training commands of ``segments``: train, sample-data, assign, report, migrate, campaigns.

Every expected failure prints one ``error: ...`` line to stderr and exits with code 2;
nothing expected ever shows a traceback. The console script is :mod:`service.cli`, which adds
``serve`` (``training`` never imports ``service``); ``python -m training`` runs these alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import MofNCompleteColumn, TextColumn
from rich.table import Table

from training import cli_transactions
from training.cli_artifacts import migrate, report
from training.cli_campaigns import (
    campaign_errors,
    campaigns_app,
    load_book,
    uplift,
)
from training.cli_dask import Engine, EngineOption, SchedulerOption, check_engine
from training.cli_sample import sample_data
from training.cli_support import (  # re-exported: the command modules' shared helpers
    EXIT_USAGE,
    TerminatedError,
    err,
    fail,
    out,
    progress_bar,
    user_errors,
)

__all__ = ["EXIT_USAGE", "TerminatedError", "app", "err", "fail", "main", "out", "user_errors"]

if TYPE_CHECKING:
    from training.batch import BatchResult

app = typer.Typer(
    help="Customer segmentation: train a model on a customer file, then serve or apply it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@contextmanager
def _sweep_progress(total: int) -> Iterator[tuple[Callable[[str], None], Callable[[int], None]]]:
    """A progress bar shown only while k is swept (errors before it print on a clean line)."""
    progress = progress_bar("choosing k", MofNCompleteColumn(), TextColumn("k={task.fields[k]}"))
    task = progress.add_task("sweep", total=total, k="-")

    def on_stage(stage: str) -> None:
        if stage == "sweep":
            progress.start()
        elif progress.live.is_started:
            progress.stop()

    try:
        yield on_stage, lambda k: progress.update(task, advance=1, k=k)
    finally:
        if progress.live.is_started:
            progress.stop()


app.command()(cli_transactions.features)


@app.command()
def train(
    data: Annotated[
        Path | None,
        typer.Option(help="Customer file (.csv or .parquet); a glob with --engine dask."),
    ] = None,
    spec: Annotated[
        str, typer.Option(help="Bundled spec name (mall, mall-full, rfm) or a TOML file.")
    ] = "mall",
    k: Annotated[str, typer.Option(help="'auto' to choose k, or a number to force it.")] = "auto",
    k_min: Annotated[int, typer.Option(help="Smallest k to consider.")] = 2,
    k_max: Annotated[int, typer.Option(help="Largest k to consider.")] = 10,
    models_dir: Annotated[Path, typer.Option(help="Where artifacts are published.")] = Path(
        "models"
    ),
    names: Annotated[
        Path | None, typer.Option(help="JSON/TOML file overriding segment names.")
    ] = None,
    min_share: Annotated[
        float, typer.Option(help="Smallest segment share worth a campaign.", min=0.0, max=1.0)
    ] = 0.05,
    seed: Annotated[
        int, typer.Option(help="random_state for K-Means and sampling.", min=0, max=2**32 - 1)
    ] = 42,
    report: Annotated[bool, typer.Option(help="Write the HTML report into the artifact.")] = True,
    algorithm: Annotated[
        str, typer.Option(help="Served model: kmeans or gmm (Gaussian mixture).")
    ] = "kmeans",
    covariance: Annotated[
        str, typer.Option(help="Gaussian mixture covariance: full, diag, tied or spherical.")
    ] = "full",
    compare: Annotated[
        bool, typer.Option(help="Compare K-Means, GMM, Ward, DBSCAN and HDBSCAN on a sample.")
    ] = True,
    transactions: Annotated[
        Path | None, typer.Option(help="Transactions log to make the customer table from.")
    ] = None,
    as_of: cli_transactions.AsOf = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
) -> None:
    """Train a segmentation model and publish a versioned artifact."""
    from training.manifest import ALGORITHMS, COVARIANCE_TYPES
    from training.train import TrainOptions
    from training.train import train as run_training

    if k != "auto" and not k.isdigit():
        fail(f"--k {k!r} is invalid: use 'auto' or a whole number >= 2")
    if algorithm not in ALGORITHMS:
        fail(f"--algorithm {algorithm!r} is invalid: use one of {', '.join(ALGORITHMS)}")
    if covariance not in COVARIANCE_TYPES:
        fail(f"--covariance {covariance!r} is invalid: use one of {', '.join(COVARIANCE_TYPES)}")
    if (data is None) == (transactions is None):
        fail("give either --data (a customer file) or --transactions (a transactions log)")
    options = TrainOptions(
        data=data or transactions or Path(),
        transactions=transactions is not None,
        as_of=cli_transactions.parse_as_of(as_of),
        spec=spec,
        k=None if k == "auto" else int(k),
        k_min=k_min,
        k_max=k_max,
        models_dir=models_dir,
        names=names,
        min_share=min_share,
        random_state=seed,
        report=report,
        algorithm=algorithm,  # checked against ALGORITHMS above
        covariance_type=covariance,  # checked above
        compare=compare,
    )
    check_engine(engine, scheduler)
    if engine is Engine.dask:
        from training.cli_dask import train_on_dask

        return _print_result(train_on_dask(options, scheduler))
    with user_errors(), _sweep_progress(len(options.k_range())) as (on_stage, on_k):
        result = run_training(options, on_stage=on_stage, on_k=on_k)
    _print_result(result)


def _print_result(result: object) -> None:
    from training.train import TrainResult

    assert isinstance(result, TrainResult)
    m, cleaning = result.manifest, result.cleaning
    if result.transactions is not None:
        cli_transactions.print_lines(result.transactions)
    out.print(
        f"rows: {cleaning.rows_read} read, {cleaning.rows_kept} kept, "
        f"{len(cleaning.rejected)} rejected ({cleaning.duplicates} duplicate ids)"
    )
    for reason, count in list(cleaning.reason_counts().items())[:5]:
        out.print(f"  rejected for {reason}: {count}")
    imputed = {k: v for k, v in cleaning.missing.items() if v}
    if imputed:
        out.print(
            "missing values (imputed in the pipeline): "
            + ", ".join(f"{k}={v}" for k, v in imputed.items())
        )
    table = Table(title="choosing k")
    bic = m.algorithm == "gmm"
    for column in ("k", "WCSS", "silhouette", "Calinski-H", "Davies-B", "stability", "min share"):
        table.add_column(column, justify="right")
    if bic:
        table.add_column("BIC", justify="right")
    for row in m.selection.table:
        mark = " *" if row.k == m.n_clusters else ""
        table.add_row(
            f"{row.k}{mark}",
            f"{row.wcss:.1f}",
            f"{row.silhouette:.3f}",
            f"{row.calinski_harabasz:.1f}",
            f"{row.davies_bouldin:.3f}",
            f"{row.stability:.2f}",
            f"{row.min_share:.1%}",
            *([f"{row.bic:.1f}" if row.bic is not None else "-"] if bic else []),
        )
    out.print(table)
    out.print(f"chosen {m.selection.reason}")
    if m.comparison is not None:
        from training.cli_comparison import comparison_table

        out.print(comparison_table(m.comparison))
        out.print(m.comparison.verdict)
    out.print("segments:")
    for seg in result.profile.segments:
        out.print(
            f"  {seg.segment_id}  {seg.name:<40} {seg.share:6.1%}  ({seg.size})", highlight=False
        )
    out.print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
    out.print(f"artifact: {result.path}")


@app.command()
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


app.add_typer(campaigns_app, name="campaigns")
app.command()(uplift)
app.command()(report)
app.command("sample-data")(sample_data)
app.command()(migrate)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app()
