"""The rfm model's report: the marketing summary first, then an RFM section with figures."""

from __future__ import annotations

from PIL import Image

from tests.report.conftest import parse_page
from training.artifact import REPORT
from training.report.page import SECTIONS
from training.train import TrainResult

RFM_FIGURES = ("rfm-grid", "rfm-snake", "rfm-labels", "rfm-orders", "rfm-monthly")


def test_report_opens_with_the_summary_and_has_the_rfm_section(rfm_model: TrainResult) -> None:
    page = parse_page((rfm_model.path / REPORT).read_text(encoding="utf-8"))
    assert page.sections == [sid for sid, _ in SECTIONS]
    assert page.sections[0] == "summary"
    for seg in rfm_model.profile.segments:
        assert f"summary-{seg.segment_id}" in page.ids
        assert seg.action in page.text
    recipe = rfm_model.manifest.recipe
    assert recipe is not None
    assert f"from {recipe.lines_read:,} transaction lines: {recipe.lines_rejected:,} rejected" in (
        page.text
    )


def test_report_rfm_figures_are_valid_non_blank_pngs(rfm_model: TrainResult) -> None:
    page = parse_page((rfm_model.path / REPORT).read_text(encoding="utf-8"))
    sources = {img["src"]: img for img in page.images}
    for name in RFM_FIGURES:
        img = sources[f"figures/{name}.png"]
        assert f"figures/{name}.png" in rfm_model.manifest.files
        with Image.open(rfm_model.path / img["src"]) as image:
            assert image.format == "PNG"
            image.load()
            assert image.size == (int(img["width"]), int(img["height"]))
            assert image.convert("RGB").getcolors(maxcolors=1) is None, f"{name} is blank"
        assert len(img["alt"]) > 40
