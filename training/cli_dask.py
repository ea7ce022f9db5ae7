"""``--engine dask`` for ``segments assign`` and ``segments train``.

:mod:`training.cli` keeps the options and the single-process paths; it hands over here when
``--engine dask`` is given. Dask is imported inside these functions only (an optional extra).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from datetime import date

    from training.batch import BatchResult
    from training.campaigns import CampaignBook
    from training.features import FeatureResult
    from training.train import TrainOptions, TrainResult

__all__ = ["Engine", "assign_on_dask", "features_on_dask", "train_on_dask"]


class Engine(StrEnum):
    """Where a command runs: this process, or a Dask cluster."""

    local = "local"
    dask = "dask"


EngineOption = Annotated[
    Engine, typer.Option(help="local: this process; dask: a Dask cluster (the dask extra).")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        help="Dask scheduler address (tcp://host:8786); default: a local cluster sized to "
        "this machine."
    ),
]


def check_engine(engine: Engine, scheduler: str | None) -> None:
    from training.cli_support import fail

    if scheduler is not None and engine is not Engine.dask:
        fail("--scheduler needs --engine dask")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        fail(f"--scheduler {scheduler!r} is invalid: give an address such as tcp://host:8786")


def _quiet_dask() -> None:
    # The scheduler's and workers' INFO lines drown the command's output; warnings stay.
    # After the import: importing distributed sets its loggers' levels from its config.
    from training.dask_engine import require_dask

    require_dask()
    logging.getLogger("distributed").setLevel(logging.WARNING)
    # A shuffle's start and end are logged as warnings: they are its normal course.
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)


def _dashboard(link: str) -> None:
    from training.cli_support import err

    err.print(f"dask dashboard: {link}", markup=False, highlight=False)


def _partition_progress(what: str) -> Progress:
    from training.cli_support import err

    return Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("partitions"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # no bar (nor its trailing newline) in logs and pipes
    )


def assign_on_dask(
    pattern: str,
    output: Path,
    models_dir: Path,
    model_version: str | None,
    scheduler: str | None,
    campaigns: CampaignBook | None = None,
    day: date | None = None,
) -> BatchResult:
    """Run ``segments assign --engine dask``; errors become one ``error:`` line."""
    from training.cli_campaigns import campaign_errors
    from training.cli_support import fail, user_errors
    from training.dask_assign import assign_dataset
    from training.dask_engine import AtomicDataset, EngineError, connect, expand_inputs

    progress = _partition_progress("assigning")
    task = progress.add_task("assign", total=None)

    def on_progress(done: int, total: int) -> None:
        progress.start()
        progress.update(task, completed=done, total=total)

    try:
        with user_errors():  # the cheap checks before starting a cluster
            expand_inputs(pattern)
            AtomicDataset(output)
        _quiet_dask()
        with campaign_errors(), connect(scheduler, on_dashboard=_dashboard) as client:
            try:
                return assign_dataset(
                    pattern,
                    output,
                    models_dir,
                    model_version,
                    client,
                    on_progress=on_progress,
                    campaigns=campaigns,
                    day=day,
                )
            finally:
                progress.stop()
    except EngineError as exc:
        fail(str(exc))


def train_on_dask(options: TrainOptions, scheduler: str | None) -> TrainResult:
    """Run ``segments train --engine dask``: the final K-Means fit runs on the cluster."""
    from training.cli import _sweep_progress, fail, out, user_errors
    from training.dask_engine import EngineError, connect, expand_inputs
    from training.dask_train import dask_fit, dask_load
    from training.spec import load_spec
    from training.train import train

    try:
        if options.algorithm != "kmeans":
            fail("--engine dask fits K-Means only: use --algorithm kmeans")
        with user_errors():  # the cheap checks before starting a cluster
            expand_inputs(str(options.data))
            load_spec(options.spec)
            options.k_range()
        _quiet_dask()
        with (
            user_errors(),
            connect(scheduler, on_dashboard=_dashboard) as client,
            _sweep_progress(len(options.k_range())) as (on_stage, on_k),
        ):
            out.print("final fit on the Dask cluster (k-means|| init)")
            return train(
                options,
                on_stage=on_stage,
                on_k=on_k,
                load=lambda options, spec: dask_load(options, spec, client),
                fit=lambda pipeline, frame, X: dask_fit(pipeline, frame, X, client),
            )
    except EngineError as exc:
        fail(str(exc))


def features_on_dask(
    pattern: str, output: Path, spec_name: str, as_of: date | None, scheduler: str | None
) -> tuple[FeatureResult, int]:
    """Run ``segments features --engine dask``: the recipe per customer partition, the table
    written as a dataset. Returns how the log was read and the customers written."""
    from training.behaviour import scored_for_training, transactions_spec
    from training.cli_support import fail, out, user_errors
    from training.dask_engine import AtomicDataset, EngineError, connect, expand_inputs
    from training.dask_features import dask_features, with_source_files, write_dataset
    from training.spec import load_spec

    try:
        with user_errors():  # the cheap checks before starting a cluster
            paths = expand_inputs(pattern)
            dataset = AtomicDataset(output)
            spec = load_spec(spec_name)
            transactions = transactions_spec(spec)
        _quiet_dask()
        with user_errors(), connect(scheduler, on_dashboard=_dashboard) as client:
            out.print("features on the Dask cluster (lines shuffled by customer id)")
            result = dask_features(pattern, transactions, client, id_name=spec.id.name, as_of=as_of)
            table, _used, _recipe = scored_for_training(result, spec, pattern)
            with dataset:
                write_dataset(table, with_source_files(result.rejected, paths), dataset)
        return result, len(table)
    except EngineError as exc:
        fail(str(exc))
