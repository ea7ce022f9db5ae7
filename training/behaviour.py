"""From a transactions log to the customer table a spec describes, for every path.

Training calls :func:`table_for_training` (features + quintile edges from these customers);
``segments assign --transactions`` and ``POST /assign/transactions`` call
:func:`table_for_model` with the artifact's recorded edges and mapping rules. Both go
through :func:`training.features.compute_features`, so the values cannot drift apart.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from training.features import FeatureResult, TransactionsError, compute_features
from training.manifest import Recipe
from training.recipe import ALWAYS, OPTIONAL, TransactionsSpec
from training.rfm import LABEL_COLUMN, SCORE_COLUMNS, rfm_edges, rfm_scores
from training.spec import SegmentationSpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "monthly_by_segment",
    "recipe_record",
    "scored_for_training",
    "spec_for_log",
    "table_for_model",
    "table_for_training",
]

DERIVED = (*SCORE_COLUMNS, LABEL_COLUMN)


def transactions_spec(spec: SegmentationSpec) -> TransactionsSpec:
    if spec.transactions is None:
        raise TransactionsError(
            f"spec {spec.name!r} has no [transactions] section: use --spec rfm or add one"
        )
    return spec.transactions


def spec_for_log(spec: SegmentationSpec, mapping: dict[str, str]) -> SegmentationSpec:
    """The spec without the profile features this log cannot give (no channel column...).

    Raises
    ------
    TransactionsError
        When a feature of the spec is not made by the recipe, or a cluster feature needs a
        column the log lacks.
    """
    made = {*ALWAYS, *OPTIONAL, *DERIVED}
    unknown = [f.name for f in spec.features if f.name not in made]
    if unknown:
        raise TransactionsError(
            f"spec feature {unknown[0]!r} is not made by the transactions recipe "
            f"(it makes: {', '.join(sorted(made))})"
        )
    absent = {name for name, column in OPTIONAL.items() if column not in mapping}
    needed = [f.name for f in spec.cluster_features if f.name in absent]
    if needed:
        raise TransactionsError(
            f"cluster feature {needed[0]!r} needs a {OPTIONAL[needed[0]]!r} column in the log"
        )
    kept = tuple(f for f in spec.features if f.name not in absent)
    return spec.model_copy(update={"features": kept})


def table_for_training(
    source: Path, spec: SegmentationSpec, as_of: date | None
) -> tuple[pd.DataFrame, SegmentationSpec, FeatureResult, Recipe]:
    """Features of every customer of ``source``, RFM scored against themselves."""
    tx = transactions_spec(spec)
    result = compute_features(source, tx, id_name=spec.id.name, as_of=as_of, monthly=True)
    frame, used, recipe = scored_for_training(result, spec, str(source))
    return frame, used, result, recipe


def scored_for_training(
    result: FeatureResult, spec: SegmentationSpec, source: str
) -> tuple[pd.DataFrame, SegmentationSpec, Recipe]:
    """A log's features, RFM scored against themselves; the spec they allow; the recipe.

    Raises
    ------
    TransactionsError
        When no customer of the log ``source`` has a purchase before as_of.
    """
    if result.features.empty:
        raise TransactionsError(
            f"no customer of {source} has a purchase before as_of {result.as_of}: "
            f"{result.lines_read} lines read, {result.lines_rejected} rejected, "
            f"{result.lines_after_as_of} on or after as_of (the others, if any, are returns)"
        )
    used = spec_for_log(spec, result.mapping)
    edges = rfm_edges(result.features)
    return rfm_scores(result.features, edges), used, recipe_record(result, edges)


def table_for_model(
    source: Path | pa.Table, spec: SegmentationSpec, recipe: Recipe, as_of: date | None
) -> tuple[pd.DataFrame, FeatureResult]:
    """Features of ``source``'s customers, RFM scored against the training customers."""
    result = compute_features(source, transactions_spec(spec), id_name=spec.id.name, as_of=as_of)
    return rfm_scores(result.features, recipe.rfm_edges), result


def recipe_record(result: FeatureResult, edges: dict[str, list[float]]) -> Recipe:
    return Recipe(
        **result.recipe(),
        rfm_edges=edges,
        lines_read=result.lines_read,
        lines_rejected=result.lines_rejected,
        lines_after_as_of=result.lines_after_as_of,
        customers_without_purchase=result.customers_without_purchase,
        rejection_reasons=result.reason_counts(),
    )


def monthly_by_segment(
    monthly: pd.DataFrame, ids: pd.Series, labels: np.ndarray
) -> dict[str, dict[str, float]]:
    """Net spend per segment and month, from per-customer months and the trained labels."""
    import pandas as pd

    segment = pd.Series(labels, index=pd.Index(ids.astype(str), name="id"), name="segment")
    joined = monthly.assign(segment=monthly.iloc[:, 0].astype(str).map(segment)).dropna()
    table = joined.groupby(["segment", "month"], as_index=False)["spend"].sum()
    out: dict[str, dict[str, float]] = {}
    for seg, month, spend in table[["segment", "month", "spend"]].itertuples(index=False):
        out.setdefault(str(int(seg)), {})[str(month)] = float(spend)
    return out
