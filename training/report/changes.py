"""The "Changes since <previous version>" section: migration heatmap, kept / new / retired.

Drawn from the manifest's lineage alone (:mod:`training.lineage`), so a regenerated report
says the same as the one drawn at training time.
"""

from __future__ import annotations

from html import escape

import numpy as np

from training.manifest import Lineage
from training.report.inputs import ReportInputs
from training.report.style import HEATMAP, Plot, new_figure, text_colour

__all__ = ["migration", "section", "title"]


def title(inputs: ReportInputs) -> str:
    previous = inputs.manifest.lineage.previous_version
    return f"Changes since {previous}" if previous else "Changes since the previous model"


def migration(inputs: ReportInputs) -> Plot | None:
    """Heatmap of the customers in both trainings: previous segment x new segment."""
    lineage = inputs.manifest.lineage
    moved = lineage.migration
    if moved is None:
        return None
    counts = np.asarray(moved.counts, dtype=np.float64)
    rows = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    fig = new_figure(1.1 * len(moved.ids) + 4.5, 0.6 * len(moved.previous_ids) + 2.4)
    ax = fig.subplots()
    image = ax.imshow(rows, cmap=HEATMAP, vmin=0.0, vmax=1.0, aspect="auto")
    for (i, j), count in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            f"{int(count):,}\n{rows[i, j]:.0%}",
            ha="center",
            va="center",
            color=text_colour(image.cmap(image.norm(rows[i, j]))),
            fontsize=9,
        )
    ax.set_xticks(range(len(moved.ids)), [str(i) for i in moved.ids])
    ax.set_yticks(range(len(moved.previous_ids)), [str(i) for i in moved.previous_ids])
    ax.set(
        xlabel="segment id in this model",
        ylabel=f"segment id in {lineage.previous_version}",
        title="Where the customers of both trainings went",
    )
    fig.colorbar(image, ax=ax, label="share of the previous segment's customers")
    return Plot(
        name="migration",
        figure=fig,
        alt=f"Heatmap of {moved.shared_customers:,} customers present in both trainings, "
        f"previous segment by new segment; {moved.changed_share:.1%} changed segment id.",
        caption="Each cell: customers who were in the row's segment and are now in the "
        "column's, and their share of the row. A kept segment is bright on its own id.",
    )


def _rows(lineage: Lineage) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    for seg in sorted(lineage.segments, key=lambda s: s.segment_id):
        before = f"{seg.size_before:,}" if seg.size_before is not None else "-"
        distance = f"{seg.distance:.2f} SD" if seg.distance is not None else "-"
        rows.append((str(seg.segment_id), seg.status, before, f"{seg.size_after:,}", distance))
    for sid in lineage.retired:
        size = lineage.previous_sizes.get(str(sid))
        rows.append((str(sid), "retired", f"{size:,}" if size is not None else "-", "-", "-"))
    return rows


def _paragraph(lineage: Lineage) -> str:
    parts = [lineage.reason[:1].upper() + lineage.reason[1:] + "."]
    kept, new, retired = lineage.kept, lineage.new, lineage.retired
    parts.append(
        f"{len(kept)} segment(s) kept their id, {len(new)} are new"
        + (f" (ids {', '.join(map(str, new))}, never used before)" if new else "")
        + f" and {len(retired)} retired"
        + (f" (ids {', '.join(map(str, retired))}, never reused)" if retired else "")
        + "."
    )
    moved = lineage.migration
    if moved is not None:
        parts.append(
            f"Of the {moved.shared_customers:,} customers in both trainings, "
            f"{moved.changed_share:.1%} changed segment id; the agreement between the old and "
            f"new segmentations (adjusted Rand index) is {moved.ari:.2f} (1 = identical)."
        )
    else:
        parts.append("No customer id is in both trainings, so no migration can be shown.")
    return " ".join(parts)


def section(inputs: ReportInputs, figure_html: str) -> str:
    """The section's HTML; ``figure_html`` is the page's rendering of the heatmap."""
    lineage = inputs.manifest.lineage
    if lineage.previous_version is None:
        return f'<p class="note">{escape(lineage.reason)}: no previous model to compare.</p>'
    head = ("segment id", "status", "customers before", "customers after", "centre moved")
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in _rows(lineage)
    )
    table = f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
    return f"<p>{escape(_paragraph(lineage))}</p>{table}{figure_html}"
