"""The "Other algorithms" section: the comparison's small scatters, table and verdict.

One small scatter per algorithm, all on the same 2-D view (the first two principal
components of the comparison sample), noise in light grey; the table of the manifest's
comparison; a paragraph saying in plain words which shapes each algorithm found.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from sklearn.decomposition import PCA

from training.comparison import TITLES, ComparisonResult, compare
from training.manifest import Comparison, ComparisonRow
from training.report.inputs import ReportInputs
from training.report.style import SOFT, Plot, marker, new_figure

__all__ = ["SHAPES", "comparison_of", "describe", "others_scatter", "table_rows"]

SHAPES: dict[str, str] = {
    "kmeans": "cuts the space into convex cells around centroids: it assumes round segments "
    "of similar spread",
    "gmm": "lets every segment be an ellipse with its own spread (with covariance 'full' "
    "also its own stretch and tilt) and gives each customer a probability per segment",
    "ward": "merges customers bottom-up, always joining the two groups whose merger adds "
    "the least variance: compact groups, as K-Means finds, but built without centroids",
    "dbscan": "grows clusters of any shape through dense neighbourhoods, one density for "
    "all, and leaves customers in sparse places as noise",
    "hdbscan": "grows clusters of any shape like DBSCAN but lets each have its own density, "
    "and leaves customers in sparse places as noise",
}
HEAD = [
    "algorithm", "parameters", "clusters", "noise", "Silhouette", "Davies-Bouldin",
    "Calinski-Harabasz", "ARI vs served", "fit (s)",
]  # fmt: skip


def comparison_of(inputs: ReportInputs) -> ComparisonResult | None:
    """The run's comparison, or (for a regenerated report) the same one recomputed."""
    if inputs.comparison is not None or inputs.manifest.comparison is None:
        return inputs.comparison
    m = inputs.manifest
    return compare(
        inputs.X,
        inputs.labels,
        k=m.n_clusters,
        served=m.algorithm,
        covariance_type=m.covariance_type or "full",
        random_state=m.random_state,
    )


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table_rows(comparison: Comparison) -> tuple[list[list[str]], int | None]:
    """The table's rows (as text) and the index of the served algorithm's row."""
    rows = [
        [
            r.title + (" (served)" if r.served else ""),
            r.parameters,
            str(r.n_clusters),
            f"{r.noise_share:.1%}",
            _fmt(r.silhouette, ".3f"),
            _fmt(r.davies_bouldin, ".3f"),
            _fmt(r.calinski_harabasz, ",.1f"),
            f"{r.ari_vs_served:.2f}",
            f"{r.fit_seconds:.2f}",
        ]
        for r in comparison.rows
    ]
    served = next((i for i, r in enumerate(comparison.rows) if r.served), None)
    return rows, served


def _agreement(ari: float) -> str:
    if ari >= 0.9:
        return "practically the served segments"
    if ari >= 0.6:
        return "the served segments with moved borders"
    return "a different story from the served segments"


def _sentence(row: ComparisonRow) -> str:
    noise = f", {row.noise_share:.0%} of customers left as noise" if row.noise_share else ""
    quality = f"Silhouette {row.silhouette:.3f}" if row.silhouette is not None else "no Silhouette"
    return (
        f"{row.title} {SHAPES[row.algorithm]}; here it found {row.n_clusters} "
        f"cluster{'s' if row.n_clusters != 1 else ''}{noise} ({quality}), "
        f"{_agreement(row.ari_vs_served)} (ARI {row.ari_vs_served:.2f})."
    )


def describe(comparison: Comparison) -> list[str]:
    """Plain-words paragraphs: one sentence per algorithm, then the verdict."""
    return [" ".join(_sentence(r) for r in comparison.rows), comparison.verdict]


def others_scatter(inputs: ReportInputs) -> Plot | None:
    """One small scatter per algorithm on the same two principal components."""
    result = comparison_of(inputs)
    if result is None:
        return None
    X = inputs.X[result.rows]
    width = min(2, X.shape[1])
    points = np.zeros((len(X), 2))
    points[:, :width] = PCA(n_components=width, random_state=inputs.random_state).fit_transform(X)
    fig = new_figure(13.0, 3.4)
    axes = fig.subplots(1, len(result.labels), sharex=True, sharey=True, squeeze=False)[0]
    palette = colormaps["tab10"](np.arange(10))
    for ax, (name, labels) in zip(axes, result.labels.items(), strict=True):
        noise = labels < 0
        ax.scatter(*points[noise].T, s=3, color=SOFT, alpha=0.5, linewidths=0)
        for i, cluster in enumerate(np.unique(labels[~noise])):
            mask = labels == cluster
            ax.scatter(*points[mask].T, s=4, color=palette[i % len(palette)],
                       marker=marker(i), alpha=0.7, linewidths=0)  # fmt: skip
        found = len(np.unique(labels[~noise]))
        ax.set_title(f"{TITLES[name]}\n{found} clusters, {noise.mean():.0%} noise", fontsize=10)
        ax.set_xlabel("PC1", fontsize=9)
    axes[0].set_ylabel("PC2", fontsize=9)
    note = (
        f"a fixed-seed sample of {len(X):,} of {inputs.n_samples:,} customers"
        if len(X) < inputs.n_samples
        else f"all {len(X):,} customers"
    )
    return Plot(
        name="others",
        figure=fig,
        alt=f"{len(result.labels)} small scatters of {note} on the same first two principal "
        "components, coloured by each algorithm's clusters; noise in light grey.",
        caption="Each algorithm's clusters on the same view of the cluster space (the first "
        f"two principal components of the sample); noise in light grey. {note.capitalize()}. "
        "Colours are per panel: cluster numbers of different algorithms do not correspond.",
    )
