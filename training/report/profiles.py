"""Profile figures: segment z-scores, every feature by segment, and segment sizes."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import cbook
from matplotlib import patheffects as pe
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from training.report.exploration import grid
from training.report.inputs import ReportInputs
from training.report.style import (
    HEATMAP,
    INK,
    SOFT,
    Plot,
    axis_label,
    hatch,
    legend_height,
    new_figure,
    segment_colours,
    segment_handles,
    segment_label,
    segment_legend,
    text_colour,
)
from training.spec import FeatureSpec

__all__ = ["boxplots", "sizes", "zscores"]

_MEDIAN: dict[str, Any] = {
    "color": "white",
    "linewidth": 2.2,
    "path_effects": [pe.withStroke(linewidth=4.0, foreground=INK)],
}


def _unit(f: FeatureSpec) -> str:
    return f" {f.unit}" if f.unit and not f.unit.startswith("score") else ""


def zscores(inputs: ReportInputs) -> Plot | None:
    features = inputs.numeric_features
    if not features:
        return None
    segments = inputs.profile.segments
    z = np.array([[s.numeric[f.name].z for f in features] for s in segments])
    limit = max(float(np.nanmax(np.abs(z))), 0.5)
    fig = new_figure(2.0 * len(features) + 4.8, 0.62 * len(segments) + 2.2)
    ax = fig.subplots()
    image = ax.imshow(z, cmap=HEATMAP, vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(z):
        f = features[j]
        mean = segments[i].numeric[f.name].mean
        ax.text(
            j,
            i,
            f"{value:+.2f}\n(mean {mean:.1f}{_unit(f)})",
            ha="center",
            va="center",
            color=text_colour(image.cmap(image.norm(value))),
            fontsize=9,
        )
    ax.set_xticks(range(len(features)), [f"{axis_label(f)}\n{f.role}" for f in features])
    ax.set_yticks(range(len(segments)), [segment_label(s) for s in segments])
    ax.set(
        xlabel="feature (cluster: in the distance; profile: described only)",
        ylabel="segment",
        title="How each segment differs from all customers",
    )
    fig.colorbar(
        image,
        ax=ax,
        label="z-score of the segment mean\n(standard deviations from the overall mean)",
    )
    i, j = np.unravel_index(int(np.nanargmax(np.abs(z))), z.shape)
    return Plot(
        name="zscores",
        figure=fig,
        alt=f"Heatmap of segment z-scores for {len(segments)} segments and "
        f"{len(features)} numeric features, each cell labelled with its z-score and mean; "
        f"the largest is {segments[i].name} on {features[j].display} at {z[i, j]:+.2f}.",
        caption="Each cell: (segment mean - overall mean) / overall standard deviation, with "
        "the segment mean in original units. Light cells are above average, dark ones below.",
    )


def _group_slices(labels: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(labels, kind="stable")
    return order, np.searchsorted(labels[order], np.arange(n_clusters + 1))


def _box_panel(ax: Axes, inputs: ReportInputs, f: FeatureSpec, groups: Any) -> None:
    order, bounds = groups
    values = inputs.frame[f.name].to_numpy(dtype=float)[order]
    colours = segment_colours(inputs.n_clusters)
    stats, positions = [], []
    for seg in range(inputs.n_clusters):
        seg_values = values[bounds[seg] : bounds[seg + 1]]
        seg_values = seg_values[~np.isnan(seg_values)]
        if seg_values.size:
            stats.append({**cbook.boxplot_stats(seg_values)[0], "fliers": []})
            positions.append(seg)
    drawn = ax.bxp(
        stats,
        positions=positions,
        patch_artist=True,
        showfliers=False,
        medianprops=_MEDIAN,
        widths=0.6,
    )
    for box, seg in zip(drawn["boxes"], positions, strict=True):
        box.set(facecolor=colours[seg], edgecolor=INK, hatch=hatch(seg))
    ax.set(xlabel="segment", ylabel=axis_label(f), title=f"{f.display} ({f.role})")
    ax.set_xticks(range(inputs.n_clusters), [str(s) for s in range(inputs.n_clusters)])


def _mix_panel(ax: Axes, inputs: ReportInputs, f: FeatureSpec) -> None:
    segments = inputs.profile.segments
    left = np.zeros(len(segments))
    for i, category in enumerate(f.allowed or ()):
        shares = np.array([100 * s.categorical[f.name].get(category, 0.0) for s in segments])
        ax.barh(
            range(len(segments)),
            shares,
            left=left,
            color=SOFT if i % 2 else "white",
            edgecolor=INK,
            hatch=hatch(i + 1),
            label=category,
        )
        left += shares
    ax.set_yticks(range(len(segments)), [str(s.segment_id) for s in segments])
    # The bars end at 100 %; the room beyond holds the legend, clear of every bar.
    ax.set(
        xlabel="share of the segment (%)",
        ylabel="segment",
        xlim=(0, 100 + 9 * max(len(c) for c in f.allowed or ("",)) + 18),
        xticks=range(0, 101, 20),
        title=f"{f.display} mix ({f.role})",
    )
    ax.invert_yaxis()
    ax.legend(loc="center right", fontsize="small", frameon=False)


def boxplots(inputs: ReportInputs) -> Plot:
    features = list(inputs.spec.features)
    nrows, ncols = grid(len(features))
    fig = new_figure(4.4 * ncols + 2.8, 3.6 * nrows + 0.5 + legend_height(inputs.profile.segments))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    groups = _group_slices(inputs.labels, inputs.n_clusters)
    for ax, f in zip(axes, features, strict=False):
        if f.kind == "numeric":
            _box_panel(ax, inputs, f, groups)
        else:
            _mix_panel(ax, inputs, f)
    for ax in axes[len(features) :]:
        fig.delaxes(ax)
    handles: list[Any] = segment_handles(
        inputs.profile.segments, segment_colours(inputs.n_clusters)
    )
    handles.append(Line2D([], [], label="median", **_MEDIAN))
    segment_legend(fig, handles, inputs.profile.segments)
    fig.suptitle("Every feature by segment")
    names = ", ".join(f.display for f in features)
    return Plot(
        name="boxplots",
        figure=fig,
        alt=f"Box plots of each numeric feature by segment and stacked bars of each category "
        f"mix by segment, for {names}, over all {inputs.n_samples:,} customers.",
        caption="Numeric features: the box spans the middle half of the segment (quartiles), "
        "the outlined white line is the median and whiskers reach 1.5 x the box height "
        "(outliers not drawn). Categorical features: the mix within each segment. Computed "
        "on all customers.",
    )


def sizes(inputs: ReportInputs) -> Plot:
    segments = inputs.profile.segments
    colours = segment_colours(inputs.n_clusters)
    fig = new_figure(9.0, 0.5 * len(segments) + 2.0)
    ax = fig.subplots()
    labels = [segment_label(s) for s in segments]
    bars = ax.barh(labels, [s.size for s in segments], color=colours, edgecolor=INK)
    for i, bar in enumerate(bars):
        bar.set_hatch(hatch(i))
    ax.bar_label(bars, labels=[f"{s.size:,} ({s.share:.1%})" for s in segments], padding=4)
    floor = inputs.manifest.selection.min_share
    ax.axvline(
        floor * inputs.profile.n_customers, color=INK, linestyle=":", linewidth=1.5, zorder=0
    )
    ax.legend(
        handles=[
            Line2D([], [], color=INK, linestyle=":", label=f"minimum useful size ({floor:.0%})")
        ],
        loc="lower right",
    )
    ax.set(
        xlabel="customers (count)",
        ylabel="segment",
        title="Segment sizes",
        xlim=(0, max(s.size for s in segments) * 1.25),
    )
    ax.invert_yaxis()
    biggest = max(segments, key=lambda s: s.size)
    smallest = min(segments, key=lambda s: s.size)
    return Plot(
        name="sizes",
        figure=fig,
        alt=f"Horizontal bar chart of segment sizes: the largest is {biggest.name} with "
        f"{biggest.size:,} customers ({biggest.share:.1%}), the smallest {smallest.name} with "
        f"{smallest.size:,} ({smallest.share:.1%}).",
        caption="Customers in each segment; the dotted line is the smallest share the rule "
        "accepts as worth a campaign.",
    )
