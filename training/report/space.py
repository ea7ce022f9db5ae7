"""Segments in space: PCA (2-D and 3-D) of the cluster space, and a t-SNE map."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

from training.report.inputs import ReportInputs
from training.report.style import (
    INK,
    Plot,
    axis_label,
    legend_height,
    marker,
    new_figure,
    segment_colours,
    segment_label,
    segment_legend,
)

__all__ = ["PCA_SAMPLE", "TSNE_ITER", "TSNE_SAMPLE", "pca_2d", "pca_3d", "tsne"]

PCA_SAMPLE = 5_000
PCA_3D_SAMPLE = 2_000  # fewer points: a 3-D cloud turns to mush sooner
# t-SNE is the slowest figure by far (Barnes-Hut, ~O(n log n) per iteration); measured here,
# 2,000 rows x 500 iterations fit the 30 s budget at 1,000,000 customers with room.
TSNE_SAMPLE = 2_000
TSNE_ITER = 500


def _pca(inputs: ReportInputs, n_components: int) -> tuple[PCA, int]:
    """PCA fitted on every row (cheap: n x d with small d); returns it and its width."""
    width = min(n_components, inputs.X.shape[1])
    return PCA(n_components=width, random_state=inputs.random_state).fit(inputs.X), width


def _project(pca: PCA, width: int, X: np.ndarray, n_components: int) -> np.ndarray:
    out = np.zeros((len(X), n_components))
    out[:, :width] = pca.transform(X)
    return out


def _pc_label(pca: PCA, i: int) -> str:
    if i >= len(pca.explained_variance_ratio_):
        return f"PC{i + 1} (none: the cluster space has fewer dimensions)"
    return f"PC{i + 1} ({pca.explained_variance_ratio_[i]:.0%} of variance, standardised units)"


def _scatter(ax: Any, points: np.ndarray, labels: np.ndarray, inputs: ReportInputs) -> None:
    colours = segment_colours(inputs.n_clusters)
    # 3-D axes fade far points (depthshade), which makes light segments vanish: keep them.
    extra = {"depthshade": False, "s": 18, "alpha": 0.7} if points.shape[1] == 3 else {}
    for i, seg in enumerate(inputs.profile.segments):  # label order; ids can be sparse
        mask = labels == i
        coords = [points[mask, i] for i in range(points.shape[1])]
        style = {"s": 12, "alpha": 0.65, **extra}
        ax.scatter(
            *coords,
            color=colours[i],
            marker=marker(i),
            linewidths=0,
            label=segment_label(seg),
            **style,
        )


def _centroids(ax: Any, centers: np.ndarray, inputs: ReportInputs) -> None:
    colours = segment_colours(inputs.n_clusters)
    for seg in range(inputs.n_clusters):
        coords = [centers[seg : seg + 1, i] for i in range(centers.shape[1])]
        ax.scatter(
            *coords,
            s=260,
            color=colours[seg],
            marker=marker(seg),
            edgecolors=INK,
            linewidths=2.0,
            zorder=5,
        )


def _legend(fig: Figure, ax: Axes, inputs: ReportInputs, *, centroids: bool) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if centroids:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                markersize=12,
                markerfacecolor="white",
                markeredgecolor=INK,
                markeredgewidth=2,
                linestyle="",
                label="centroid (large, outlined)",
            )
        )
    legend = segment_legend(fig, handles, inputs.profile.segments, markerscale=1.5)
    for handle in legend.legend_handles:
        if handle is not None:
            handle.set_alpha(1.0)


def pca_2d(inputs: ReportInputs) -> Plot:
    rows = inputs.sample(PCA_SAMPLE)
    pca, width = _pca(inputs, 2)
    points = _project(pca, width, inputs.X[rows], 2)
    fig = new_figure(9.5, 6.0 + legend_height(inputs.profile.segments))
    ax = fig.subplots()
    _scatter(ax, points, inputs.labels[rows], inputs)
    _centroids(ax, _project(pca, width, inputs.centers, 2), inputs)
    ax.set(
        xlabel=_pc_label(pca, 0),
        ylabel=_pc_label(pca, 1),
        title="Segments on the first two principal components",
    )
    _legend(fig, ax, inputs, centroids=True)
    explained = float(pca.explained_variance_ratio_.sum())
    return Plot(
        name="pca-2d",
        figure=fig,
        alt=f"Scatter of {inputs.sample_note(rows)} on the first two principal components of "
        f"the cluster space ({explained:.0%} of its variance), one colour and marker shape per "
        f"segment, with the {inputs.n_clusters} centroids drawn large and outlined.",
        caption=f"The cluster space (scaled and encoded features) seen along its two main "
        f"directions, which hold {explained:.0%} of the variance; {inputs.sample_note(rows)}.",
    )


def _third_axis(inputs: ReportInputs, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """A profile feature in original units when the cluster space is only 2-D."""
    profile = [f for f in inputs.numeric_features if f.role != "cluster"]
    if not profile:
        return np.zeros(len(rows)), np.zeros(inputs.n_clusters), "(no third dimension)"
    f = profile[0]
    values = inputs.frame[f.name].to_numpy(dtype=float)[rows]
    means = np.array([s.numeric[f.name].mean for s in inputs.profile.segments])
    return values, means, f"{axis_label(f)}, profile only"


def pca_3d(inputs: ReportInputs) -> Plot:
    rows = inputs.sample(PCA_3D_SAMPLE)
    pca, width = _pca(inputs, 3)
    points = _project(pca, width, inputs.X[rows], 3)
    centers = _project(pca, width, inputs.centers, 3)
    zlabel = _pc_label(pca, 2)
    if width < 3:
        points[:, 2], centers[:, 2], zlabel = _third_axis(inputs, rows)
    keep = ~np.isnan(points[:, 2])
    fig = new_figure(9.5, 7.0 + legend_height(inputs.profile.segments))
    ax = fig.add_subplot(projection="3d")
    _scatter(ax, points[keep], inputs.labels[rows][keep], inputs)
    _centroids(ax, centers, inputs)
    ax.set(
        xlabel=_pc_label(pca, 0).replace(", ", ",\n"),
        ylabel=_pc_label(pca, 1).replace(", ", ",\n"),
        zlabel=zlabel,
    )
    ax.set_title("Segments in three dimensions")
    ax.view_init(elev=22, azim=-58)
    _legend(fig, ax, inputs, centroids=True)
    third = "the third principal component" if width >= 3 else zlabel
    return Plot(
        name="pca-3d",
        figure=fig,
        alt=f"3-D scatter of {inputs.sample_note(rows)}: the first two principal components "
        f"and {third} as the vertical axis, one colour and marker shape per segment, with "
        "centroids drawn large and outlined.",
        caption="A 3-D view: the first two principal components and "
        + (
            "the third."
            if width >= 3
            else f"{third} upwards, because the cluster space has only {width} "
            "dimensions (that feature does not move the distance)."
        )
        + f" {inputs.sample_note(rows).capitalize()}.",
    )


def tsne(inputs: ReportInputs) -> Plot:
    rows = inputs.sample(TSNE_SAMPLE)
    perplexity = min(30.0, max(5.0, (len(rows) - 1) / 3))
    model = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca" if inputs.X.shape[1] >= 2 else "random",  # PCA init needs 2 columns
        learning_rate="auto",
        max_iter=TSNE_ITER,
        angle=0.8,
        random_state=inputs.random_state,
    )
    # One OpenMP thread: with the cores busy (a training next door, a test run), sklearn's
    # Barnes-Hut loop spins at every barrier; measured 10x slower with 2 threads than with 1.
    with threadpool_limits(limits=1, user_api="openmp"):
        points = model.fit_transform(inputs.X[rows])
    fig = new_figure(9.5, 6.0 + legend_height(inputs.profile.segments))
    ax = fig.subplots()
    _scatter(ax, points, inputs.labels[rows], inputs)
    ax.set(
        xlabel="t-SNE 1 (no unit: only neighbourhoods matter)",
        ylabel="t-SNE 2 (no unit)",
        title="t-SNE map of the cluster space",
    )
    _legend(fig, ax, inputs, centroids=False)
    return Plot(
        name="tsne",
        figure=fig,
        alt=f"t-SNE map of {inputs.sample_note(rows)}, one colour and marker shape per "
        "segment; customers close in the cluster space stay close on the map.",
        caption=f"t-SNE keeps neighbours together but not distances or sizes: read which "
        f"segments touch, not how far apart they are. {inputs.sample_note(rows).capitalize()}"
        f" (perplexity {perplexity:.0f}, {TSNE_ITER} iterations).",
    )
