"""The report of the classic model, parsed once for every test of this folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from training.artifact import REPORT
from training.train import TrainResult


@dataclass
class Page:
    """What the tests need from report.html: ids, sections, headings, images, links."""

    ids: set[str] = field(default_factory=set)
    sections: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    text: str = ""


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._in_h2 = False
        self._chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.page.ids.add(values["id"])
        if tag == "section":
            self.page.sections.append(values.get("id", ""))
        if tag == "img":
            self.page.images.append(values)
        for attr in ("href", "src"):
            if attr in values:
                self.page.links.append(values[attr])
        if tag == "h2":
            self._in_h2 = True
            self.page.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        self._chunks.append(data)
        if self._in_h2:
            self.page.headings[-1] += data

    def close(self) -> None:
        super().close()
        self.page.text = " ".join(self._chunks)


def parse_page(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser.page


@pytest.fixture(scope="session")
def report_folder(classic_model: TrainResult) -> Path:
    return classic_model.path


@pytest.fixture(scope="session")
def report_page(report_folder: Path) -> Page:
    return parse_page((report_folder / REPORT).read_text(encoding="utf-8"))
