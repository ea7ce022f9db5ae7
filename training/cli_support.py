"""What every ``segments`` command shares: the consoles, ``fail``, expected errors, the bar.

Light on purpose (typer and rich only at import): ``segments --help`` answers in well under
a second because the project's modules, pandas and sklearn are imported when a command runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

__all__ = [
    "EXIT_USAGE",
    "TerminatedError",
    "err",
    "fail",
    "out",
    "progress_bar",
    "user_errors",
]

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)
EXIT_USAGE = 2


class TerminatedError(KeyboardInterrupt):
    """SIGTERM during a command that cleans up as for Ctrl-C."""


def fail(message: str) -> NoReturn:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's expected errors into one clear line and exit code 2."""
    from training.artifact_store import ArtifactError
    from training.data import DataError
    from training.profiling import NamesError  # imports sklearn: only when a command runs
    from training.spec import SpecError
    from training.train import TrainingError

    try:
        yield
    except (SpecError, DataError, TrainingError, ArtifactError, NamesError) as exc:
        fail(str(exc))
    except OSError as exc:  # a folder where a file should be, no permission, disk full...
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))


def progress_bar(label: str, *columns: ProgressColumn) -> Progress:
    """A transient bar on stderr: ``label``, the bar, ``columns``, the elapsed time.

    Disabled off a terminal, so logs and pipes get neither the bar nor its trailing newline.
    Callers start it on the first unit of work: errors before it print on a clean line.
    """
    return Progress(
        TextColumn(label),
        BarColumn(),
        *columns,
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
