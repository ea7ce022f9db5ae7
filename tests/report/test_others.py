"""The report's "Other algorithms" section: the scatters, the table and the verdict."""

from __future__ import annotations

from tests.report.conftest import Page
from training.comparison import METRICS_NOTE
from training.train import TrainResult


def test_report_other_algorithms_section(report_page: Page, classic_model: TrainResult) -> None:
    comparison = classic_model.manifest.comparison
    assert comparison is not None
    assert report_page.sections[-1] == "others"
    assert "fig-others" in report_page.ids
    assert any(img["src"] == "figures/others.png" for img in report_page.images)
    for title in ("K-Means (served)", "Gaussian mixture", "Agglomerative (Ward)", "DBSCAN"):
        assert title in report_page.text
    assert "HDBSCAN grows clusters of any shape" in report_page.text
    assert METRICS_NOTE in report_page.text
    assert comparison.verdict in report_page.text
