"""Writing a report into an artifact folder, and regenerating one for a published model."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from training.artifact import FIGURES, REPORT, copy_files, latest_names, load_artifact, publish
from training.report import behaviour, changes, choosing, exploration, others, profiles, space
from training.report.inputs import ReportInputs
from training.report.page import render_page
from training.report.style import Chart, Plot, save

__all__ = ["DRAWERS", "regenerate_report", "write_report"]

logger = logging.getLogger(__name__)

# In page order. Each returns None when it does not apply to the spec (no categorical
# feature, a single numeric one...); the page then says why instead of showing a figure.
DRAWERS: tuple[Callable[[ReportInputs], Plot | None], ...] = (
    behaviour.rf_grid,
    behaviour.snake,
    behaviour.label_mix,
    behaviour.orders,
    behaviour.monthly,
    exploration.histograms,
    exploration.category_mix,
    exploration.correlation,
    exploration.cluster_scatter,
    choosing.elbow,
    choosing.metrics,
    choosing.silhouette,
    space.pca_2d,
    space.pca_3d,
    space.tsne,
    profiles.zscores,
    profiles.boxplots,
    profiles.sizes,
    others.others_scatter,
    changes.migration,
)


def write_report(
    folder: Path,
    inputs: ReportInputs,
    *,
    timings: dict[str, float] | None = None,
) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into ``folder``; return the page's path.

    ``inputs`` come from a fresh fit or a published artifact. ``timings`` collects seconds
    per figure.
    """
    (folder / FIGURES).mkdir(parents=True, exist_ok=True)
    charts: dict[str, Chart | None] = {}
    for draw in DRAWERS:
        start = time.perf_counter()
        plot = draw(inputs)
        if plot is not None:
            charts[plot.name] = save(plot, folder)
            plot.figure.clear()
        seconds = time.perf_counter() - start
        logger.debug("report figure %s: %.2fs", draw.__name__, seconds)
        if timings is not None:
            timings[draw.__name__] = seconds
    page = folder / REPORT
    page.write_text(render_page(inputs, charts, datetime.now(UTC)), encoding="utf-8")
    return page


def _is_report_file(name: str) -> bool:
    return name == REPORT or name.startswith(f"{FIGURES}/")


def regenerate_report(models_dir: Path, version: str) -> Path:
    """Draw the report of a published model and publish it as a new version.

    A published folder is never changed: its manifest's checksums are what readers verify,
    and no rename can swap ``report.html``, ``figures/`` and ``manifest.json`` together, so
    a reader could catch them half updated. Instead every other file is copied byte for
    byte (checked against the source's sha256) into a new version with the new report.
    ``LATEST`` moves to it only if it named the source version, so regenerating an old
    model's report never rolls the service back.

    Returns
    -------
    Path
        The new version's folder.
    """
    source = load_artifact(models_dir, version)
    inputs = ReportInputs.from_artifact(source)
    manifest = source.manifest.model_copy(deep=True)
    manifest.created_at = datetime.now(UTC)
    manifest.has_report = True
    manifest.files = {}
    kept = [name for name in source.manifest.files if not _is_report_file(name)]

    def write_files(folder: Path) -> None:
        copy_files(source, folder, kept)
        write_report(folder, inputs)

    is_latest = latest_names(models_dir, source.version)
    return publish(models_dir, manifest, write_files, update_latest=is_latest)
