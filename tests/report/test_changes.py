"""The report's "Changes since <previous version>" section (training/report/changes.py)."""

from __future__ import annotations

from pathlib import Path

from tests.report.conftest import parse_page
from training.artifact import REPORT
from training.report import regenerate_report
from training.train import TrainOptions, train


def test_report_shows_changes_since_the_previous_version(
    classic_path: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    options = TrainOptions(data=classic_path, models_dir=models, k=5, k_max=6, report=False)
    base = train(options)
    fewer = train(TrainOptions(**(vars(options) | {"k": 4})))
    again = train(TrainOptions(**(vars(options) | {"report": True})))  # ids now sparse
    lineage = again.manifest.lineage
    assert lineage.previous_version == fewer.manifest.model_version != base.manifest.model_version
    assert lineage.new == [5]
    assert "figures/migration.png" in again.manifest.files
    page = parse_page((again.path / REPORT).read_text(encoding="utf-8"))
    assert page.headings[-1] == f"9. Changes since {fewer.manifest.model_version}"
    assert "4 segment(s) kept their id, 1 are new (ids 5, never used before) and 0 retired." in (
        page.text
    )
    assert "changed segment id; the agreement between the old and new segmentations" in page.text
    assert "fig-migration" in page.ids
    assert "summary-5" in page.ids  # the marketing summary has the sparse id's card
    regenerated = regenerate_report(models, again.manifest.model_version)  # from the files
    text = parse_page((regenerated / REPORT).read_text(encoding="utf-8"))
    assert text.headings == page.headings
    assert (regenerated / "figures" / "migration.png").is_file()
