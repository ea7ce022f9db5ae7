"""GET /profile, the HTML report and its figures (paths cannot escape the artifact)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.schemas import ProfileOut
from tests.api.conftest import PNG, REPORT_HTML
from training.train import TrainResult


def test_read_profile(no_report_client: TestClient, classic_model: TrainResult) -> None:
    response = no_report_client.get("/profile")
    assert response.status_code == 200
    body = ProfileOut.model_validate(response.json())
    assert body.segments == classic_model.profile.segments
    assert body.selection == classic_model.manifest.selection
    assert body.comparison == classic_model.manifest.comparison
    assert body.comparison is not None
    assert [r.algorithm for r in body.comparison.rows if r.served] == ["kmeans"]
    assert body.n_customers == classic_model.profile.n_customers
    assert body.report_url is None


def test_read_report_without_report(
    no_report_client: TestClient, no_report_settings: Settings
) -> None:
    client, version = no_report_client, no_report_settings.model_version
    response = client.get("/profile/report")
    assert response.status_code == 404
    assert response.json() == {"detail": f"model {version} has no report"}
    response = client.get("/profile/figures/sizes.png")
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"figure 'sizes.png' not found in the report of model {version}"
    }


def test_read_report(report_client: TestClient) -> None:
    response = report_client.get("/profile/report")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == REPORT_HTML
    assert report_client.get("/profile").json()["report_url"] == "/profile/report"
    assert report_client.get("/model").json()["report_url"] == "/profile/report"


@pytest.mark.parametrize("url", ["/profile/figures/sizes.png", "/profile/report/figures/sizes.png"])
def test_read_figure(report_client: TestClient, url: str) -> None:
    # The report links figures/sizes.png; from /profile/report that is /profile/figures/...
    response = report_client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG


@pytest.mark.parametrize(
    "name",
    [
        "..%2Fmanifest.json",
        "%2e%2e%2fmanifest.json",
        "..%2F..%2FLATEST",
        "..%2Freport.html",
        "%2Fetc%2Fpasswd",
        "figures%2Fsizes.png",
    ],
)
def test_read_figure_name_with_a_slash_matches_no_route(
    report_client: TestClient, name: str
) -> None:
    response = report_client.get(f"/profile/figures/{name}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(("name", "shown"), [("%2E%2E", ".."), ("missing.png", "missing.png")])
def test_read_figure_not_in_the_manifest(
    report_client: TestClient, report_settings: Settings, name: str, shown: str
) -> None:
    response = report_client.get(f"/profile/figures/{name}")
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"figure {shown!r} not found in the report of model "
        f"{report_settings.model_version}"
    }


def test_read_figure_dot_dot_paths_never_reach_files(report_client: TestClient) -> None:
    for url in (
        "/profile/figures/../../manifest.json",
        "/profile/report/../manifest.json",
        "/profile/figures/%2e%2e/%2e%2e/manifest.json",
    ):
        response = report_client.get(url)
        assert response.status_code == 404, url
        assert b"format_version" not in response.content


def test_read_report_of_the_trained_model_every_image_resolves(
    client: TestClient, classic_model: TrainResult
) -> None:
    """The real report's relative links (figures/x.png) resolve to served images."""
    assert classic_model.manifest.has_report, "classic_model is trained with report=True"
    report = client.get("/profile/report")
    assert report.status_code == 200
    sources = re.findall(r'<img[^>]+src="([^"]+)"', report.text)
    assert sources
    for source in sources:
        if source.startswith("data:"):
            continue
        url = urljoin(str(report.url), source)
        assert url.startswith("http://testserver/profile/figures/"), url
        image = client.get(url)
        assert image.status_code == 200, url
        assert image.content.startswith(b"\x89PNG"), url
