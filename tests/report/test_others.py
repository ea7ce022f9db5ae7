"""The report's "Other algorithms" section: the scatters, the table and the verdict."""

from __future__ import annotations

from numpy.testing import assert_array_equal

from tests.report.conftest import Page
from training.artifact import load_artifact
from training.comparison import METRICS_NOTE
from training.report import ReportInputs, others
from training.train import TrainResult


def test_report_other_algorithms_section(report_page: Page, classic_model: TrainResult) -> None:
    comparison = classic_model.manifest.comparison
    assert comparison is not None
    assert report_page.sections[-2:] == ["others", "changes"]  # changes: issue 11
    assert "fig-others" in report_page.ids
    assert any(img["src"] == "figures/others.png" for img in report_page.images)
    for title in ("K-Means (served)", "Gaussian mixture", "Agglomerative (Ward)", "DBSCAN"):
        assert title in report_page.text
    assert "HDBSCAN grows clusters of any shape" in report_page.text
    assert METRICS_NOTE in report_page.text
    assert comparison.verdict in report_page.text


def test_regenerated_report_recomputes_the_same_comparison(gmm_model: TrainResult) -> None:
    loaded = load_artifact(gmm_model.path.parent, gmm_model.path.name)
    inputs = ReportInputs.from_artifact(loaded)
    assert inputs.comparison is None  # not stored: recomputed from the manifest's settings
    again = others.comparison_of(inputs)
    assert again is not None
    assert gmm_model.comparison is not None
    assert_array_equal(again.rows, gmm_model.comparison.rows)
    for name, labels in gmm_model.comparison.labels.items():
        assert_array_equal(again.labels[name], labels)
    plot = others.others_scatter(inputs)
    assert plot is not None
    assert plot.name == "others"
    assert len(plot.figure.axes) == 5
    assert [ax.get_title().splitlines()[0] for ax in plot.figure.axes] == [
        "K-Means", "Gaussian mixture", "Agglomerative (Ward)", "DBSCAN", "HDBSCAN",
    ]  # fmt: skip
