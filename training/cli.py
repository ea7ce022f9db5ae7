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
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, TextColumn
from rich.table import Table

from training import cli_dashboard, cli_transactions
from training.cli_artifacts import migrate, report
from training.cli_assign import assign
from training.cli_campaigns import (
    campaigns_app,
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
    previous: Annotated[
        str | None, typer.Option(help="Keep segment ids of this version (default: LATEST).")
    ] = None,
    no_previous: Annotated[
        bool, typer.Option("--no-previous", help="Fresh segment ids 0..k-1, no matching.")
    ] = False,
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
        previous=previous,
        no_previous=no_previous,
    )
    if previous and no_previous:
        fail("--previous and --no-previous exclude each other")
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
    for seg in sorted(result.profile.segments, key=lambda s: s.segment_id):
        out.print(
            f"  {seg.segment_id}  {seg.name:<40} {seg.share:6.1%}  ({seg.size})", highlight=False
        )
    lineage = m.lineage
    out.print(
        f"segment ids: {lineage.reason}; kept {lineage.kept}, new {lineage.new}, "
        f"retired {lineage.retired}"
    )
    out.print("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
    out.print(f"artifact: {result.path}")


app.add_typer(campaigns_app, name="campaigns")
app.command()(assign)
app.command()(uplift)
app.command()(report)
app.command("sample-data")(sample_data)
app.command()(migrate)
app.command("dashboard")(cli_dashboard.dashboard)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app()
