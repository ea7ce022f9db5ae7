"""The Monitoring page: drift, lineage and campaigns, as the real service answers them.

A real uvicorn with a campaign file (SEG_CAMPAIGNS) gets real traffic (the classic file
through /assign/batch) before the page reads ``GET /monitoring``; a model retrained on
the same file shows its lineage; a service with SEG_MONITOR=false says monitoring is off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from numpy.testing import assert_allclose
from streamlit.testing.v1 import AppTest

from dashboard.batching import build_customers, guess_columns, read_upload
from dashboard.panels import STATUS_COLOURS
from service.config import Settings
from tests.dashboard.conftest import open_dashboard, texts
from tests.dashboard.test_batch import FIELDS, NUMERIC
from tests.dashboard.test_pages import _values
from tests.e2e.conftest import ThreadedServer
from training.train import TrainOptions, train

pytestmark = pytest.mark.slow

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


@pytest.fixture(scope="module")
def ops_server(
    classic_settings: Settings, classic_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedServer]:
    """Campaigns, and a drift window that has seen the classic file's 200 customers."""
    book = tmp_path_factory.mktemp("campaigns") / "campaigns.toml"
    book.write_text(CAMPAIGNS)
    settings = classic_settings.model_copy(
        update={"reload_interval": 0, "campaigns": book, "monitor_min_seconds": 0.0}
    )
    with ThreadedServer(settings) as running:
        frame = read_upload("mall.csv", classic_path.read_bytes())
        mapping = guess_columns(list(frame.columns), FIELDS) | {"gender": "Genre"}
        customers, _ = build_customers(frame, mapping, "customer_id", NUMERIC)
        body = {"customers": [{k: v for k, v in c.items() if k != "source_row"} for c in customers]}
        assert httpx.post(f"{running.url}/assign/batch", json=body).status_code == 200
        yield running


@pytest.fixture(scope="module")
def retrained_server(
    classic_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedServer]:
    """The classic file trained twice in one folder: the second matches the first's ids."""
    folder = tmp_path_factory.mktemp("retrained")
    for _ in range(2):
        latest = train(
            TrainOptions(data=classic_path, models_dir=folder, report=False, compare=False)
        )
    settings = Settings(
        models_dir=folder, model_version=latest.path.name, reload_interval=0, monitor=False
    )
    with ThreadedServer(settings) as running:
        yield running


def test_monitoring_page_without_campaigns_or_history(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, api: httpx.Client
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="operations.py")
    lineage = api.get("/model").json()["lineage"]
    assert lineage["matched"] is False
    assert texts(app.info) == [
        f"No previous model to compare with: {lineage['reason']}.",
        "No campaigns on this server (none in SEG_CAMPAIGNS, or it is not set).",
    ]
    assert texts(app.error) == []


def test_monitoring_page_shows_the_lineage_and_that_monitoring_is_off(
    monkeypatch: pytest.MonkeyPatch, retrained_server: ThreadedServer
) -> None:
    model = httpx.get(f"{retrained_server.url}/model").json()
    lineage = model["lineage"]
    assert (lineage["matched"], lineage["kept"], lineage["ari"]) == (True, [0, 1, 2, 3, 4], 1.0)
    app = open_dashboard(monkeypatch, retrained_server.url, key=None, page="operations.py")
    assert texts(app.info)[0] == (
        "Monitoring is not available on this server (drift monitoring is off: SEG_MONITOR=false)."
    )
    assert (
        f"Segment ids matched to model **{lineage['previous_version']}**: kept 0, 1, 2, 3, 4; "
        "new none; retired none. Of the 200 customers in both trainings, 0.0% changed segment "
        "(ARI 1.00)."
    ) in texts(app.markdown)
    app.switch_page("views/overview.py").run()
    captions = texts(app.main.caption)
    assert all(f"(since model {lineage['previous_version']})" in c for c in captions[:5])


def test_monitoring_page_shows_what_the_server_offers(
    monkeypatch: pytest.MonkeyPatch, ops_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, ops_server.url, key=None, page="operations.py")
    monitoring = httpx.get(f"{ops_server.url}/monitoring").json()
    segments = httpx.get(f"{ops_server.url}/segments").json()["segments"]
    names = [s["name"] for s in segments]
    assert monitoring["assignments"] == 200
    status = monitoring["status"]
    assert f"Drift status: :{STATUS_COLOURS[status]}-badge[{status}]" in texts(app.markdown)
    [chart] = app.get("plotly_chart")
    training, live = json.loads(chart.proto.spec)["data"]
    assert (training["name"], live["name"]) == ("training", "live (window)")
    assert training["x"] == live["x"] == names
    assert_allclose(_values(training["y"]), [s["share"] for s in segments])
    assert_allclose(_values(live["y"]), [s["live_share"] for s in monitoring["segments"]])
    assert_allclose(_values(live["y"]), _values(training["y"]))  # the training file itself
    tables = [frame.value for frame in app.dataframe]
    scalars = dict(zip(tables[0]["field"], tables[0]["value"], strict=True))
    assert (scalars["status"], scalars["assignments"]) == (status, "200")
    assert tables[1]["segment"].tolist() == names
    assert tables[2]["feature"].tolist() == ["annual_income", "spending_score"]
    campaigns = tables[-1].to_dict("records")
    assert [
        (c["name"], c["offer"], c["holdout"], c["active"], c["judged on"]) for c in campaigns
    ] == [("always-on", "10 % off", 0.5, True, "converted within 30 days")]
    assert campaigns[0]["targets"] == "; ".join(f"{s['segment_id']} {s['name']}" for s in segments)
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
