"""Segment ids across retrains of a model trained on transactions (log1p features)."""

from __future__ import annotations

from pathlib import Path

from tests.report.conftest import parse_page
from tests.transactions.conftest import SAMPLE_TX
from training.artifact import REPORT
from training.train import TrainOptions, train


def test_retrain_on_transactions_keeps_ids_and_reports_sparse_ones(tmp_path: Path) -> None:
    options = TrainOptions(
        data=SAMPLE_TX,
        spec="rfm",
        transactions=True,
        models_dir=tmp_path,
        k=5,
        k_max=5,
        report=False,
        compare=False,
    )
    train(options)
    fewer = train(TrainOptions(**(vars(options) | {"k": 4})))  # one id retired
    again = train(TrainOptions(**(vars(options) | {"report": True})))  # a new id: 5
    lineage = again.manifest.lineage
    assert lineage.matched is True
    assert (len(lineage.kept), lineage.new, lineage.retired) == (4, [5], [])
    assert lineage.migration is not None
    assert lineage.migration.shared_customers == fewer.manifest.data.rows_kept
    recipe = again.manifest.recipe
    assert recipe is not None
    assert set(recipe.monthly_spend) == {str(i) for i in lineage.segment_ids}
    page = parse_page((again.path / REPORT).read_text(encoding="utf-8"))
    assert {"behaviour", "changes"} <= set(page.sections)
