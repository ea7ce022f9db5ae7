"""RFM and behaviour figures, drawn when the model was trained on a transactions log.

A recency x frequency grid coloured by mean spend, a snake plot of standardised R/F/M per
segment, the RFM-label mix of every segment, the distribution of orders per customer, and
the monthly spend of each segment (seasonality, from the manifest's recipe). Each drawer
returns None for a spec without recency, frequency and monetary features.
"""

from __future__ import annotations

import numpy as np

from training.report.inputs import ReportInputs
from training.report.style import (
    HEATMAP,
    INK,
    Plot,
    hatch,
    legend_height,
    marker,
    new_figure,
    segment_colours,
    segment_label,
    segment_legend,
    text_colour,
)
from training.rfm import RFM_COLUMNS, RFM_LABELS, rfm_scores

__all__ = ["applies", "label_mix", "monthly", "orders", "rf_grid", "snake"]


def applies(inputs: ReportInputs) -> bool:
    names = {f.name for f in inputs.numeric_features}
    return inputs.manifest.recipe is not None and set(RFM_COLUMNS) <= names


def rf_grid(inputs: ReportInputs) -> Plot | None:
    if not applies(inputs) or inputs.manifest.recipe is None:
        return None
    scored = rfm_scores(inputs.frame, inputs.manifest.recipe.rfm_edges)
    row = 5 - scored["r_score"].to_numpy()  # R 5 at the top
    col = scored["f_score"].to_numpy() - 1
    count = np.zeros((5, 5), dtype=int)
    total = np.zeros((5, 5))
    np.add.at(count, (row, col), 1)
    np.add.at(total, (row, col), scored["monetary"].to_numpy(np.float64))
    spend = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    fig = new_figure(8.0, 6.0)
    ax = fig.subplots()
    image = ax.imshow(spend, cmap=HEATMAP, aspect="auto")
    for (i, j), value in np.ndenumerate(spend):
        if count[i, j]:
            colour = text_colour(image.cmap(image.norm(value)))
            ax.text(
                j,
                i,
                f"{value:,.0f}\n{count[i, j]:,} cust.",
                ha="center",
                va="center",
                color=colour,
                fontsize=9,
            )
    ax.set_xticks(range(5), [str(f) for f in range(1, 6)])
    ax.set_yticks(range(5), [str(r) for r in range(5, 0, -1)])
    ax.set(
        xlabel="F score (1 = fewest orders, 5 = most)",
        ylabel="R score (5 = bought most recently)",
        title="Recency x frequency, coloured by mean spend",
    )
    fig.colorbar(image, ax=ax, label="mean net spend per customer (currency)")
    best = np.unravel_index(int(np.nanargmax(spend)), spend.shape)
    return Plot(
        name="rfm-grid",
        figure=fig,
        alt=f"5 by 5 heatmap of R score against F score, each cell labelled with mean spend "
        f"and customers; the highest mean spend, {np.nanmax(spend):,.0f}, is at R "
        f"{5 - best[0]}, F {best[1] + 1}.",
        caption="Quintile scores against the training customers. Each cell: mean net spend "
        "(currency) and the number of customers; empty cells have no customer.",
    )


def snake(inputs: ReportInputs) -> Plot | None:
    if not applies(inputs):
        return None
    segments = inputs.profile.segments
    values = np.log1p(inputs.frame[list(RFM_COLUMNS)].to_numpy(np.float64))
    z = (values - values.mean(axis=0)) / values.std(axis=0)
    colours = segment_colours(inputs.n_clusters)
    fig = new_figure(9.0, 5.0 + legend_height(segments))
    ax = fig.subplots()
    for i, seg in enumerate(segments):  # label order; ids can be sparse
        mean = z[inputs.labels == i].mean(axis=0)
        ax.plot(
            range(3),
            mean,
            marker=marker(i),
            color=colours[i],
            markeredgecolor=INK,
            linewidth=2,
            markersize=9,
            label=segment_label(seg),
        )
    ax.axhline(0, color=INK, linewidth=1, linestyle=":")
    ax.set_xticks(range(3), ["recency (days)", "frequency (orders)", "monetary (currency)"])
    ax.set(
        ylabel="mean standardised log1p value\n(0 = all customers)",
        title="Snake plot: recency, frequency and spend per segment",
    )
    handles, _ = ax.get_legend_handles_labels()
    segment_legend(fig, handles, segments)
    return Plot(
        name="rfm-snake",
        figure=fig,
        alt=f"Line chart of the mean standardised recency, frequency and monetary value of "
        f"each of the {len(segments)} segments, one line and marker shape per segment.",
        caption="Each feature after log1p (as the model sees it), standardised over all "
        "customers. High recency means long since the last order: lower is better there.",
    )


def label_mix(inputs: ReportInputs) -> Plot | None:
    if not applies(inputs) or "rfm_label" not in inputs.frame:
        return None
    segments = inputs.profile.segments
    colours = segment_colours(len(RFM_LABELS))
    fig = new_figure(10.0, 0.55 * len(segments) + 3.2)
    ax = fig.subplots()
    left = np.zeros(len(segments))
    for i, label in enumerate(RFM_LABELS):
        share = np.array([s.categorical["rfm_label"].get(label, 0.0) for s in segments])
        ax.barh(
            [segment_label(s) for s in segments],
            share,
            left=left,
            color=colours[i],
            edgecolor=INK,
            hatch=hatch(i),
            label=label,
        )
        left += share
    ax.invert_yaxis()
    ax.set(
        xlabel="share of the segment's customers",
        ylabel="segment",
        xlim=(0, 1),
        title="RFM labels in each segment",
    )
    fig.legend(loc="outside lower center", ncols=4, title="RFM label", fontsize="small")
    top = max(segments, key=lambda s: s.categorical["rfm_label"].get("Champions", 0.0))
    return Plot(
        name="rfm-labels",
        figure=fig,
        alt=f"Stacked bar chart of the standard RFM labels in each of the {len(segments)} "
        f"segments; most Champions are in {top.name}.",
        caption="The classic RFM label map (from R and F quintile scores, Lost for the lowest "
        "R, F and M) shown per segment, so campaigns can speak both languages.",
    )


def orders(inputs: ReportInputs) -> Plot | None:
    if not applies(inputs):
        return None
    frequency = inputs.frame["frequency"].to_numpy(np.float64)
    cap = 30
    counts = np.bincount(np.minimum(frequency, cap).astype(int), minlength=cap + 1)[1:]
    fig = new_figure(9.0, 4.5)
    ax = fig.subplots()
    ax.bar(range(1, cap + 1), counts, color=segment_colours(2)[0], edgecolor=INK)
    ax.set_xticks([1, 5, 10, 15, 20, 25, 30], ["1", "5", "10", "15", "20", "25", f"{cap}+"])
    ax.set(
        xlabel="orders per customer (count)",
        ylabel="customers (count)",
        title="How many orders customers placed",
    )
    one = counts[0] / max(len(frequency), 1)
    return Plot(
        name="rfm-orders",
        figure=fig,
        alt=f"Bar chart of the number of orders per customer; {one:.0%} of customers ordered "
        f"once, the median customer {np.median(frequency):.0f} times.",
        caption=f"All {len(frequency):,} customers; {cap} or more orders are in the last bar.",
    )


def monthly(inputs: ReportInputs) -> Plot | None:
    recipe = inputs.manifest.recipe
    if not applies(inputs) or recipe is None or not recipe.monthly_spend:
        return None
    segments = inputs.profile.segments
    months = sorted({m for spend in recipe.monthly_spend.values() for m in spend})
    colours = segment_colours(inputs.n_clusters)
    fig = new_figure(11.0, 5.0 + legend_height(segments))
    ax = fig.subplots()
    for i, seg in enumerate(segments):  # label order; ids can be sparse
        spend = recipe.monthly_spend.get(str(seg.segment_id), {})  # keyed by stable id
        ax.plot(
            range(len(months)),
            [spend.get(m, 0.0) for m in months],
            marker=marker(i),
            color=colours[i],
            markeredgecolor=INK,
            markevery=max(len(months) // 12, 1),
            linewidth=1.8,
            label=segment_label(seg),
        )
    step = max(len(months) // 12, 1)
    ax.set_xticks(range(0, len(months), step), months[::step], rotation=45, ha="right")
    ax.set(
        xlabel="month",
        ylabel="net purchase spend (currency)",
        title="Monthly spend per segment (seasonality)",
    )
    handles, _ = ax.get_legend_handles_labels()
    segment_legend(fig, handles, segments)
    totals = {m: sum(s.get(m, 0.0) for s in recipe.monthly_spend.values()) for m in months}
    peak = max(totals, key=lambda m: totals[m])
    return Plot(
        name="rfm-monthly",
        figure=fig,
        alt=f"Line chart of monthly purchase spend for each of the {len(segments)} segments "
        f"from {months[0]} to {months[-1]}, one line and marker per segment; the busiest "
        f"month overall is {peak}.",
        caption="Purchases (returns not subtracted) per calendar month before the reference "
        "date, summed over each segment's customers.",
    )
