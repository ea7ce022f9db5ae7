"""The report written by training on the classic file: sections, figures, links, escaping."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from tests.report.conftest import Page, parse_page
from training.artifact import REPORT, load_artifact
from training.report import ReportInputs, space
from training.report.page import SECTIONS, render_page
from training.train import TrainResult

FIGURES = {
    "histograms",
    "categories",
    "correlation",
    "scatter",
    "elbow",
    "metrics",
    "silhouette",
    "pca-2d",
    "pca-3d",
    "tsne",
    "zscores",
    "boxplots",
    "sizes",
    "others",
}


def test_train_writes_report_listed_in_manifest(classic_model: TrainResult) -> None:
    folder = classic_model.path
    assert classic_model.manifest.has_report
    on_disk = {p.relative_to(folder).as_posix() for p in (folder / "figures").iterdir()}
    assert on_disk == {f"figures/{name}.png" for name in FIGURES}
    assert on_disk | {REPORT} <= set(classic_model.manifest.files)
    loaded = load_artifact(folder.parent, folder.name)  # every checksum, report included
    assert loaded.manifest.files == classic_model.manifest.files


def test_report_has_every_section_in_order(report_page: Page) -> None:
    assert report_page.sections == [sid for sid, _ in SECTIONS if sid != "behaviour"]
    assert report_page.headings == [
        "1. Summary for marketing",
        "2. Data",
        "3. Exploration",
        "4. Choosing k",
        "5. Quality of the chosen k",
        "6. Segments in space",
        "7. Profiles",
        "8. Other algorithms",
        "9. Changes since the previous model",
    ]
    figure_ids = {i.removeprefix("fig-") for i in report_page.ids if i.startswith("fig-")}
    assert figure_ids == FIGURES


def test_report_images_are_valid_non_blank_pngs(report_folder: Path, report_page: Page) -> None:
    assert len(report_page.images) == len(FIGURES)
    for img in report_page.images:
        path = report_folder / img["src"]
        with Image.open(path) as image:
            assert image.format == "PNG", path
            image.load()
            assert image.size == (int(img["width"]), int(img["height"])), path
            assert image.convert("RGB").getcolors(maxcolors=1) is None, f"{path} is blank"
        assert len(img["alt"]) > 40, f"{path}: alt text too thin: {img['alt']!r}"


def test_report_has_no_broken_relative_link(report_folder: Path, report_page: Page) -> None:
    assert report_page.links
    for link in report_page.links:
        parts = urlsplit(link)
        if parts.scheme in {"data", "http", "https"}:
            continue
        assert not parts.scheme, f"unexpected absolute link {link!r}"
        assert not parts.netloc, f"unexpected absolute link {link!r}"
        if link.startswith("#"):
            assert link[1:] in report_page.ids, f"anchor {link!r} has no target"
            continue
        target = (report_folder / parts.path).resolve()
        assert target.is_relative_to(report_folder.resolve()), link
        assert target.is_file(), f"broken link {link!r}"


def test_report_states_the_numbers_and_the_choice(
    classic_model: TrainResult, report_page: Page
) -> None:
    data = classic_model.manifest.data
    text = report_page.text
    assert f"{data.rows_read:,}" in text
    assert classic_model.manifest.selection.reason in text
    for segment in classic_model.profile.segments:
        assert f"{segment.segment_id} · {segment.name}" in text
        assert segment.action in text
    assert len([i for i in report_page.ids if i.startswith("segment-")]) == 5


def test_render_page_escapes_names_from_the_names_file(classic_model: TrainResult) -> None:
    inputs = classic_model.report_inputs()
    profile = inputs.profile.model_copy(deep=True)
    profile.segments[0].name = '<script>alert("x")</script> & co'
    profile.segments[0].action = "<b>bold</b>"
    inputs = dataclasses.replace(inputs, profile=profile)
    html = render_page(inputs, {}, datetime(2026, 1, 1, tzinfo=UTC))
    assert "<script>" not in html
    assert "<b>" not in html
    assert "0 · &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert "0 · <script>" in parse_page(html).text  # the reader still sees the name


def test_inputs_from_artifact_match_the_training_run(classic_model: TrainResult) -> None:
    folder = classic_model.path
    fresh = classic_model.report_inputs()
    loaded = ReportInputs.from_artifact(load_artifact(folder.parent, folder.name))
    assert_array_equal(loaded.X, fresh.X)
    assert_array_equal(loaded.labels, fresh.labels)
    assert loaded.imputation == fresh.imputation
    assert loaded.source_version == folder.name
    assert list(loaded.frame.columns) == list(fresh.frame.columns)


@pytest.mark.parametrize("size", [50, 400])
def test_sample_is_nested_and_keeps_small_segments(classic_model: TrainResult, size: int) -> None:
    labels = np.zeros(10_000, dtype=np.int64)
    labels[:40] = 1  # a 0.4 % segment: a uniform sample of 50 would likely miss it
    inputs = dataclasses.replace(
        classic_model.report_inputs(), labels=labels, centers=np.zeros((2, 2))
    )
    rows = inputs.sample(size)
    assert np.all(np.diff(rows) > 0)
    assert (labels[rows] == 1).sum() >= 30
    assert set(inputs.sample(size // 2)) <= set(rows)


def test_space_figures_draw_a_one_dimensional_cluster_space(classic_model: TrainResult) -> None:
    # A spec with a single numeric cluster feature: PCA has one component, t-SNE one column.
    inputs = classic_model.report_inputs()
    inputs = dataclasses.replace(inputs, X=inputs.X[:, :1], centers=inputs.centers[:, :1])
    for draw in (space.pca_2d, space.pca_3d, space.tsne):
        plot = draw(inputs)
        assert plot.figure.axes, plot.name
        plot.figure.clear()
