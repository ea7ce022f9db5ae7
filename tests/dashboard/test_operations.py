"""The Monitoring page: drift, lineage and campaigns when the service offers them.

Campaigns are real (a campaign file in SEG_CAMPAIGNS). ``GET /monitoring`` and the lineage
on ``GET /model`` belong to the lifecycle issue: until that service lands here, a route
added to the real app answers in its documented shape (``service.monitoring.Monitoring``
and ``LineageSummary`` of that branch), and the page must say "not available" without them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from streamlit.testing.v1 import AppTest

from service.config import Settings
from tests.dashboard.conftest import open_dashboard, texts
from tests.dashboard.test_pages import _values
from tests.e2e.conftest import ThreadedServer

pytestmark = pytest.mark.slow

MONITORING: dict[str, Any] = {
    "model_version": "v-test",
    "status": "watch",
    "reasons": ["segment mix PSI 0.14 >= 0.10"],
    "assignments": 1200,
    "window_seconds": 3600.0,
    "workers": 2,
    "psi": 0.14,
    "chi2_pvalue": 0.001,
    "atypical_rate": 0.012,
    "expected_atypical_rate": 0.01,
    "segments": [
        {"segment_id": 0, "training_share": 0.405, "live_share": 0.31, "live_count": 372},
        {"segment_id": 1, "training_share": 0.195, "live_share": 0.29, "live_count": 348},
    ],
    "features": [
        {
            "feature": "annual_income",
            "training_mean": 60.56,
            "training_std": 26.26,
            "live_mean": 66.1,
            "shift_sd": 0.21,
        }
    ],
}
CAMPAIGNS = """
[[campaign]]
name = "always-on"
segments = [0, 1, 2, 3, 4]
offer = "10 % off"
holdout = 0.5
start = 2000-01-01
end = 2999-12-31
outcome = { metric = "converted", window_days = 30 }
"""


def _server(settings: Settings, monitoring: Any) -> ThreadedServer:
    server = ThreadedServer(settings)
    extra = APIRouter()
    extra.add_api_route("/monitoring", monitoring)
    server.server.config.app.include_router(extra)
    return server


@pytest.fixture(scope="module")
def ops_server(
    classic_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedServer]:
    book = tmp_path_factory.mktemp("campaigns") / "campaigns.toml"
    book.write_text(CAMPAIGNS)
    settings = classic_settings.model_copy(update={"reload_interval": 0, "campaigns": book})
    with _server(settings, lambda: MONITORING) as running:
        yield running


@pytest.fixture(scope="module")
def monitor_off_server(classic_settings: Settings) -> Iterator[ThreadedServer]:
    """/monitoring exists but is turned off: 404 with the reason."""

    def off() -> JSONResponse:
        return JSONResponse({"detail": "drift monitoring is off: SEG_MONITOR=false"}, 404)

    settings = classic_settings.model_copy(update={"reload_interval": 0})
    with _server(settings, off) as running:
        yield running


def test_monitoring_page_says_what_this_server_does_not_offer(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="operations.py")
    assert texts(app.info) == [
        "Monitoring is not available on this server (no GET /monitoring).",
        "Lineage is not available on this server (GET /model has no lineage).",
        "No campaigns on this server (none in SEG_CAMPAIGNS, or it is not set).",
    ]
    assert texts(app.error) == []


def test_monitoring_page_gives_the_servers_reason_when_it_is_off(
    monkeypatch: pytest.MonkeyPatch, monitor_off_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, monitor_off_server.url, key=None, page="operations.py")
    assert texts(app.info)[0] == (
        "Monitoring is not available on this server (drift monitoring is off: SEG_MONITOR=false)."
    )


def test_monitoring_page_shows_what_the_server_offers(
    monkeypatch: pytest.MonkeyPatch, ops_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, ops_server.url, key=None, page="operations.py")
    segments = httpx.get(f"{ops_server.url}/segments").json()["segments"]
    names = [s["name"] for s in segments]
    assert "Drift status: :orange-badge[watch]" in texts(app.markdown)
    [chart] = app.get("plotly_chart")
    training, live = json.loads(chart.proto.spec)["data"]
    assert (training["name"], training["x"], live["name"]) == (
        "training",
        names[:2],
        "live (window)",
    )
    assert _values(training["y"]) == [0.405, 0.195]
    assert _values(live["y"]) == [0.31, 0.29]
    tables = [frame.value for frame in app.dataframe]
    scalars = dict(zip(tables[0]["field"], tables[0]["value"], strict=True))
    assert (scalars["status"], scalars["assignments"], scalars["psi"]) == ("watch", "1200", "0.14")
    assert "segment mix PSI 0.14 >= 0.10" in texts(app.markdown)
    mix_table = tables[1].to_dict("list")
    assert (mix_table["segment"], mix_table["live_share"]) == (names[:2], [0.31, 0.29])
    assert tables[2]["shift_sd"].tolist() == [0.21]
    campaigns = tables[-1].to_dict("records")
    assert [
        (c["name"], c["offer"], c["holdout"], c["active"], c["judged on"]) for c in campaigns
    ] == [("always-on", "10 % off", 0.5, True, "converted within 30 days")]
    assert campaigns[0]["targets"] == "; ".join(f"{s['segment_id']} {s['name']}" for s in segments)
    assert texts(app.info) == [
        "Lineage is not available on this server (GET /model has no lineage)."
    ]
    assert texts(app.error) == []


def test_whatif_shows_the_customers_campaign_arm(
    monkeypatch: pytest.MonkeyPatch, ops_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, ops_server.url, key=None, page="whatif.py")
    body = {
        "customer_id": "what-if",
        **{s.key.removeprefix("whatif_"): s.value for s in app.slider},
        "gender": app.selectbox(key="whatif_gender").value,
    }
    [arm] = httpx.post(f"{ops_server.url}/assign", json=body).json()["campaigns"]
    offer = ": 10 % off" if arm["arm"] == "treatment" else " (no offer: control group)"
    assert f"**Campaign always-on**, {arm['arm']} arm{offer}" in texts(app.markdown)


def _lineage_page(lineage: dict) -> None:  # type: ignore[type-arg]
    # AppTest runs this function's source alone: no module imports, no annotations' names.
    from dashboard import panels

    panels.show_lineage(lineage)


@pytest.mark.parametrize(
    ("lineage", "shown"),
    [
        (
            {"previous_version": None, "matched": False, "reason": "no previous model",
             "kept": [], "new": [0, 1], "retired": [], "shared_customers": None,
             "changed_share": None, "ari": None},
            ("info", "No previous model to compare with: no previous model."),
        ),
        (
            {"previous_version": "v1", "matched": True, "reason": "matched on centroids",
             "kept": [0, 1, 2], "new": [5], "retired": [3], "shared_customers": 2000,
             "changed_share": 0.031, "ari": 0.94},
            ("markdown", "Segment ids matched to model **v1**: kept 0, 1, 2; new 5; retired 3. "
             "Of the 2,000 customers in both trainings, 3.1% changed segment (ARI 0.94)."),
        ),
    ],
)  # fmt: skip
def test_lineage_reads_as_a_sentence(lineage: dict[str, Any], shown: tuple[str, str]) -> None:
    app = AppTest.from_function(_lineage_page, kwargs={"lineage": lineage}).run()
    kind, text = shown
    assert texts(getattr(app, kind))[0] == text
    assert [e.value for e in app.exception] == []
