"""Exploration figures: what the cleaned data looks like before any segment is drawn."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from training.report.inputs import ReportInputs
from training.report.style import (
    HEATMAP,
    INK,
    SOFT,
    Plot,
    axis_label,
    hatch,
    new_figure,
    text_colour,
)
from training.spec import FeatureSpec

__all__ = ["SCATTER_SAMPLE", "category_mix", "cluster_scatter", "correlation", "histograms"]

SCATTER_SAMPLE = 5_000
MAX_BINS = 40
MAX_PAIRS = 6


def _bins(values: np.ndarray) -> np.ndarray | int:
    """Whole-number bins for whole-number data (no comb pattern), else ``MAX_BINS``."""
    low, high = float(values.min()), float(values.max())
    if not np.all(values == np.round(values)):
        return MAX_BINS
    width = max(1, math.ceil((high - low + 1) / MAX_BINS))
    return np.arange(low - 0.5, high + width + 0.5, width)


def grid(n: int) -> tuple[int, int]:
    """Rows and columns for ``n`` panels: at most 3 across, 2 x 2 rather than 3 + 1."""
    cols = 2 if n in (2, 4) else min(3, n)
    return math.ceil(n / cols), cols


def histograms(inputs: ReportInputs) -> Plot | None:
    features = inputs.numeric_features
    if not features:
        return None
    nrows, ncols = grid(len(features))
    fig = new_figure(4.2 * ncols, 3.1 * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    notes = []
    for ax, f in zip(axes, features, strict=False):
        values = inputs.frame[f.name].dropna().to_numpy(dtype=float)
        ax.set(xlabel=axis_label(f), ylabel="customers (count)", title=f"{f.display} ({f.role})")
        if values.size == 0:
            ax.text(0.5, 0.5, "no values", ha="center", transform=ax.transAxes)
            continue
        counts, edges = np.histogram(values, bins=_bins(values))
        ax.stairs(counts, edges, fill=True, facecolor=SOFT, edgecolor=INK, linewidth=0.6)
        median = float(np.median(values))
        ax.axvline(median, color=INK, linestyle="--", linewidth=1.5, label=f"median {median:g}")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper right", fontsize="small")
        notes.append(
            f"{f.display}: median {median:g}, range {values.min():g} to {values.max():g}"
            + (f" {f.unit}" if f.unit else "")
        )
    for ax in axes[len(features) :]:
        fig.delaxes(ax)
    fig.suptitle("Distribution of each numeric feature")
    return Plot(
        name="histograms",
        figure=fig,
        alt=f"Histograms of {len(features)} numeric features over all "
        f"{inputs.n_samples:,} customers; " + "; ".join(notes) + ".",
        caption="One histogram per numeric feature over all customers (missing values left "
        "out); the dashed line is the median.",
    )


def category_mix(inputs: ReportInputs) -> Plot | None:
    features = inputs.categorical_features
    if not features:
        return None
    fig = new_figure(5.0 * len(features), 0.55 * max(len(f.allowed or ()) for f in features) + 1.8)
    axes = fig.subplots(1, len(features), squeeze=False).ravel()
    notes = []
    for ax, f in zip(axes, features, strict=True):
        notes.append(_category_panel(ax, inputs, f))
    fig.suptitle("Category mix")
    return Plot(
        name="categories",
        figure=fig,
        alt="Horizontal bar charts of the share of customers in each category: "
        + "; ".join(notes)
        + ".",
        caption="Share of customers in each category (missing values left out).",
    )


def _category_panel(ax: Axes, inputs: ReportInputs, f: FeatureSpec) -> str:
    allowed = list(f.allowed or ())
    counts = inputs.frame[f.name].value_counts().reindex(allowed, fill_value=0)
    total = max(int(counts.sum()), 1)
    shares = counts.to_numpy() / total * 100
    bars = ax.barh(allowed, shares, color=SOFT, edgecolor=INK)
    for i, bar in enumerate(bars):
        bar.set_hatch(hatch(i + 1))
    ax.bar_label(
        bars, labels=[f"{s:.0f}% ({c:,})" for s, c in zip(shares, counts, strict=True)], padding=3
    )
    missing = int(inputs.frame[f.name].isna().sum())
    ax.set(
        xlabel="share of customers (%)",
        ylabel=f.display,
        title=f"{f.display} ({f.role}; {missing:,} missing)",
        xlim=(0, max(shares.max(), 1) * 1.3),
    )
    ax.invert_yaxis()
    return f"{f.display} " + ", ".join(
        f"{a} {s:.0f}%" for a, s in zip(allowed, shares, strict=True)
    )


def correlation(inputs: ReportInputs) -> Plot | None:
    features = inputs.numeric_features
    if len(features) < 2:
        return None
    corr = inputs.frame[[f.name for f in features]].corr().to_numpy()
    size = 1.1 * len(features) + 2.6
    fig = new_figure(size + 1.2, size)
    ax = fig.subplots()
    image = ax.imshow(corr, cmap=HEATMAP, vmin=-1, vmax=1)
    for (i, j), value in np.ndenumerate(corr):
        colour = text_colour(image.cmap(image.norm(value)))
        ax.text(j, i, f"{value:+.2f}", ha="center", va="center", color=colour, fontsize=11)
    labels = [axis_label(f) for f in features]
    ax.set_xticks(range(len(features)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(features)), labels)
    ax.set(xlabel="feature", ylabel="feature", title="Correlation between numeric features")
    fig.colorbar(image, ax=ax, label="Pearson correlation (-1 to +1, unitless)")
    pairs = [(abs(corr[i, j]), i, j) for i, j in combinations(range(len(features)), 2)]
    _, i, j = max(pairs)
    return Plot(
        name="correlation",
        figure=fig,
        alt=f"Heatmap of Pearson correlations between {len(features)} numeric features; the "
        f"strongest is {features[i].display} with {features[j].display} at {corr[i, j]:+.2f}.",
        caption="Pearson correlation of every pair of numeric features, each cell labelled "
        "with its value (pairs with a missing value left out).",
    )


def _scatter_pairs(inputs: ReportInputs) -> list[tuple[FeatureSpec, FeatureSpec]]:
    cluster = [f for f in inputs.numeric_features if f.role == "cluster"]
    others = [f for f in inputs.numeric_features if f.role != "cluster"]
    pairs = list(combinations(cluster, 2))[:MAX_PAIRS]
    if not pairs and cluster and others:
        pairs = [(cluster[0], others[0])]
    return pairs


def cluster_scatter(inputs: ReportInputs) -> Plot | None:
    pairs = _scatter_pairs(inputs)
    if not pairs:
        return None
    rows = inputs.sample(SCATTER_SAMPLE)
    frame = inputs.frame.iloc[rows]
    nrows, ncols = grid(len(pairs))
    fig = new_figure(4.6 * ncols, 4.0 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (fx, fy) in zip(axes, pairs, strict=False):
        ax.scatter(frame[fx.name], frame[fy.name], s=9, color=INK, alpha=0.35, linewidths=0)
        ax.set(xlabel=axis_label(fx), ylabel=axis_label(fy), title=f"{fx.display} vs {fy.display}")
    for ax in axes[len(pairs) :]:
        fig.delaxes(ax)
    fig.suptitle("Cluster features, before segmentation")
    names = ", ".join(f"{fx.display} against {fy.display}" for fx, fy in pairs)
    return Plot(
        name="scatter",
        figure=fig,
        alt=f"Scatter plot of {names} for {inputs.sample_note(rows)}, one grey dot per "
        "customer, no segments shown.",
        caption=f"The features the distance uses, for {inputs.sample_note(rows)}; darker "
        "areas hold more customers.",
    )
