"""The comparison of algorithms as the ``segments train`` command prints it."""

from __future__ import annotations

from rich.table import Table

from training.manifest import Comparison

__all__ = ["comparison_table", "fmt"]


def fmt(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or a dash where a metric does not apply."""
    return "-" if value is None else format(value, spec)


def comparison_table(comparison: Comparison) -> Table:
    """One row per algorithm; metrics exclude noise (the caption says so)."""
    table = Table(
        title=f"other algorithms (sample of {comparison.sample_size:,} customers)",
        caption="noise excluded from silhouette, Davies-B and Calinski-H",
    )
    for column in (
        "algorithm", "clusters", "noise", "silhouette", "Davies-B", "Calinski-H",
        "ARI vs served", "fit s",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "algorithm" else "right")
    for row in comparison.rows:
        table.add_row(
            row.title + (" *" if row.served else ""),
            str(row.n_clusters),
            f"{row.noise_share:.1%}",
            fmt(row.silhouette, ".3f"),
            fmt(row.davies_bouldin, ".3f"),
            fmt(row.calinski_harabasz, ".1f"),
            f"{row.ari_vs_served:.2f}",
            f"{row.fit_seconds:.2f}",
        )
    return table
