"""Figures about k: the elbow, every metric against k, and the chosen k's silhouettes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from sklearn.metrics import silhouette_samples

from training.artifact import Selection, SelectionRow
from training.report.inputs import ReportInputs
from training.report.style import (
    INK,
    Plot,
    hatch,
    legend_height,
    new_figure,
    segment_colours,
    segment_handles,
    segment_legend,
)

__all__ = ["SILHOUETTE_SAMPLE", "elbow", "eligible", "metrics", "silhouette"]

SILHOUETTE_SAMPLE = 5_000  # silhouette is O(n²) in memory and time
_CHOSEN: dict[str, Any] = {"color": INK, "linestyle": "--", "linewidth": 1.4}


def eligible(selection: Selection, row: SelectionRow) -> bool:
    """Whether ``row`` passes the rule's size and stability floors."""
    return row.min_share >= selection.min_share and row.stability >= selection.min_stability


def elbow(inputs: ReportInputs) -> Plot:
    selection = inputs.manifest.selection
    ks = [r.k for r in selection.table]
    wcss = [r.wcss for r in selection.table]
    fig = new_figure(7.5, 4.6)
    ax = fig.subplots()
    ax.plot(ks, wcss, color=INK, marker="o", label="WCSS for each k")
    ax.axvline(selection.chosen_k, label=f"chosen k = {selection.chosen_k}", **_CHOSEN)
    knee = selection.knee_k
    if knee is not None and knee in ks:
        ax.scatter(
            [knee],
            [wcss[ks.index(knee)]],
            s=320,
            facecolors="none",
            edgecolors=INK,
            linewidths=2.2,
            zorder=3,
            label=f"knee (kneed) at k = {knee}",
        )
    ax.set(
        xlabel="number of segments k",
        ylabel="WCSS (sum of squared distances\nto centroids, standardised units²)",
        title="Elbow: within-segment spread (WCSS) against k",
        xticks=ks,
    )
    ax.legend()
    knee_text = f"the knee is at k={knee}" if knee is not None else "no clear knee was found"
    return Plot(
        name="elbow",
        figure=fig,
        alt=f"Line chart of WCSS against k from {ks[0]} to {ks[-1]}, falling from "
        f"{wcss[0]:,.0f} to {wcss[-1]:,.0f}; {knee_text}; the chosen k is {selection.chosen_k}.",
        caption="WCSS always falls as k grows; the knee (circled) is where adding a segment "
        "stops paying off. The dashed line marks the chosen k." + _sweep_note(inputs),
    )


def _sweep_note(inputs: ReportInputs) -> str:
    from training.selection import SWEEP_SAMPLE

    if inputs.n_samples <= SWEEP_SAMPLE:
        return ""
    return f" Computed on a fixed-seed sample of {SWEEP_SAMPLE:,} customers."


_METRICS: list[tuple[str, str, Callable[[SelectionRow], float], str]] = [
    ("Silhouette", "silhouette (-1 to 1; higher is better)", lambda r: r.silhouette, "max"),
    (
        "Calinski-Harabasz",
        "Calinski-Harabasz (ratio; higher is better)",
        lambda r: r.calinski_harabasz,
        "max",
    ),
    (
        "Davies-Bouldin",
        "Davies-Bouldin (ratio; lower is better)",
        lambda r: r.davies_bouldin,
        "min",
    ),
    ("Stability", "stability (mean ARI, 0 to 1)", lambda r: r.stability, "floor"),
    ("Smallest segment", "smallest segment (% of customers)", lambda r: 100 * r.min_share, "floor"),
]


def metrics(inputs: ReportInputs) -> Plot:
    selection = inputs.manifest.selection
    table = selection.table
    ks = [r.k for r in table]
    ok = np.array([eligible(selection, r) for r in table])
    fig = new_figure(12.5, 6.8)
    axes = fig.subplots(2, 3).ravel()
    floors = {"Stability": selection.min_stability, "Smallest segment": 100 * selection.min_share}
    for ax, (title, ylabel, value, _) in zip(axes, _METRICS, strict=False):
        y = np.array([value(r) for r in table])
        ax.plot(ks, y, color=INK, linewidth=1.2)
        ax.scatter(np.array(ks)[ok], y[ok], color=INK, marker="o", s=36, zorder=3)
        ax.scatter(
            np.array(ks)[~ok],
            y[~ok],
            facecolors="white",
            edgecolors=INK,
            marker="o",
            s=36,
            zorder=3,
        )
        ax.axvline(selection.chosen_k, **_CHOSEN)
        if title in floors:
            ax.axhline(floors[title], color=INK, linestyle=":", linewidth=1.4)
        ax.set(title=title, xlabel="number of segments k", ylabel=ylabel, xticks=ks)
    _legend_panel(axes[-1], selection)
    fig.suptitle("Every selection metric against k")
    return Plot(
        name="metrics",
        figure=fig,
        alt="Five line charts against k: " + _metric_summary(table) + f" The chosen k is "
        f"{selection.chosen_k}; hollow points mark k that fail the size or stability floor.",
        caption="Silhouette, Calinski-Harabasz and Davies-Bouldin rank the eligible k; "
        "stability and the smallest segment's share decide which k are eligible (dotted "
        "lines: the floors). Filled points are eligible, hollow ones are not; the dashed line "
        "is the chosen k." + _sweep_note(inputs),
    )


def _metric_summary(table: list[SelectionRow]) -> str:
    parts = []
    for title, _, value, goal in _METRICS[:3]:
        values = [value(r) for r in table]
        i = int(np.argmax(values) if goal == "max" else np.argmin(values))
        parts.append(f"{title} is best at k={table[i].k} ({values[i]:.3g})")
    return "; ".join(parts) + "."


def _legend_panel(ax: Axes, selection: Selection) -> None:
    ax.axis("off")
    handles = [
        Line2D([], [], color=INK, marker="o", linestyle="", label="eligible k"),
        Line2D(
            [],
            [],
            color=INK,
            marker="o",
            markerfacecolor="white",
            linestyle="",
            label="not eligible (below a floor)",
        ),
        Line2D([], [], label=f"chosen k = {selection.chosen_k}", **_CHOSEN),
        Line2D(
            [],
            [],
            color=INK,
            linestyle=":",
            label="floor: stability "
            f"{selection.min_stability:.2f}, share {selection.min_share:.0%}",
        ),
    ]
    ax.legend(handles=handles, loc="center", frameon=False, title="How to read")


def silhouette(inputs: ReportInputs) -> Plot | None:
    rows = inputs.sample(SILHOUETTE_SAMPLE)
    labels = inputs.labels[rows]
    if len(np.unique(labels)) < 2:
        return None
    values = silhouette_samples(inputs.X[rows], labels)
    colours = segment_colours(inputs.n_clusters)
    fig = new_figure(9.5, 6.0 + legend_height(inputs.profile.segments))
    ax = fig.subplots()
    gap = max(len(rows) // 60, 2)
    bottom = 0
    for seg in range(inputs.n_clusters):
        seg_values = np.sort(values[labels == seg])
        y = np.arange(bottom, bottom + len(seg_values))
        ax.fill_betweenx(
            y, 0, seg_values, facecolor=colours[seg], edgecolor=INK, hatch=hatch(seg), linewidth=0.0
        )
        ax.text(-0.02, bottom + len(seg_values) / 2, str(seg), ha="right", va="center")
        bottom += len(seg_values) + gap
    average = float(values.mean())
    ax.axvline(average, color=INK, linestyle="--", linewidth=1.6)
    ax.set(
        xlabel="silhouette coefficient (-1 to 1, unitless)",
        ylabel="customers, sorted within each segment",
        title=f"Silhouette of each customer (k = {inputs.n_clusters})",
        yticks=[],
        xlim=(min(-0.1, float(values.min()) - 0.05), 1.0),
    )
    handles: list[Any] = segment_handles(inputs.profile.segments, colours)
    handles.append(Line2D([], [], color=INK, linestyle="--", label=f"average {average:.2f}"))
    segment_legend(fig, handles, inputs.profile.segments)
    worst = min(range(inputs.n_clusters), key=lambda s: float(values[labels == s].mean()))
    negative = float((values < 0).mean())
    return Plot(
        name="silhouette",
        figure=fig,
        alt=f"Silhouette plot for k={inputs.n_clusters} on {inputs.sample_note(rows)}: the "
        f"average is {average:.2f}; segment {worst} has the lowest mean silhouette; "
        f"{negative:.1%} of customers have a negative value.",
        caption=f"Each bar is one customer ({inputs.sample_note(rows)}): how much closer it "
        "is to its own segment than to the next one (1 = well inside, 0 = on a border, "
        "below 0 = probably in the wrong segment). The dashed line is the average.",
    )
