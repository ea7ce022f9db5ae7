"""``segments report`` and ``segments migrate``: new versions made from a published one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from training.cli_support import out, user_errors

__all__ = ["migrate", "report"]

ModelsDir = Annotated[Path, typer.Option(help="Where artifacts are published.")]


def report(
    model_version: Annotated[str, typer.Option(help="Version whose report to draw.")],
    models_dir: ModelsDir = Path("models"),
) -> None:
    """Draw the HTML report of a published model, published as a new version beside it."""
    from training.artifact import REPORT, latest_names
    from training.report import regenerate_report

    with user_errors():
        folder = regenerate_report(models_dir, model_version)
    moved = latest_names(models_dir, folder.name)
    out.print(f"report: {folder / REPORT}")
    out.print(
        f"new version {folder.name}: same model as {model_version}, with the report"
        + ("; LATEST now names it" if moved else "; LATEST unchanged")
    )


def migrate(
    model_version: Annotated[str, typer.Option(help="Format-1 version to re-save.")],
    models_dir: ModelsDir = Path("models"),
) -> None:
    """Re-save a verified format-1 model (a pickle) as format 2 (skops), as a new version."""
    from training.artifact import latest_names
    from training.artifact_migrate import migrate_artifact

    with user_errors():
        folder = migrate_artifact(models_dir, model_version)
    moved = latest_names(models_dir, folder.name)
    out.print(
        f"new version {folder.name}: {model_version} re-saved as format 2"
        + ("; LATEST now names it" if moved else "; LATEST unchanged")
    )
