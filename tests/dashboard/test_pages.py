"""Each page under Streamlit's AppTest against a real uvicorn: it shows what the API says."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.testing import assert_allclose
from streamlit.testing.v1 import AppTest

from service.config import Settings
from tests.dashboard.conftest import open_dashboard, texts
from tests.e2e.conftest import ThreadedServer

pytestmark = pytest.mark.slow


def _figure(app: AppTest, index: int = 0) -> dict[str, Any]:
    figure: dict[str, Any] = json.loads(app.get("plotly_chart")[index].proto.spec)
    return figure


def _values(encoded: Any) -> list[Any]:
    """Plotly's JSON holds numeric arrays as base64 typed arrays, other arrays as lists."""
    if isinstance(encoded, dict):
        data = base64.b64decode(encoded["bdata"])
        return np.frombuffer(data, dtype=np.dtype(encoded["dtype"])).tolist()
    return list(encoded)


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_overview_shows_each_segment_as_the_api_does(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, api: httpx.Client
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url)
    segments = api.get("/segments").json()["segments"]
    model, profile = api.get("/model").json(), api.get("/profile").json()
    assert texts(app.title) == ["Customer segments"]
    assert texts(app.subheader) == [s["name"] for s in segments]
    shown = [(metric.label, metric.value) for metric in app.metric]
    assert shown == [
        pair
        for s in segments
        for pair in (("Share", f"{s['share']:.1%}"), ("Customers", str(s["size"])))
    ]
    markdown = texts(app.markdown)
    assert markdown[0].startswith(f"Model **{model['model_version']}**, trained ")
    assert markdown[0].endswith(f"on {model['rows_kept']} customers (K-Means, spec `mall`).")
    assert f"**How k was chosen.** {profile['selection']['reason']}" in markdown
    assert [f"**Suggested action:** {s['action']}" for s in segments] == [
        m for m in markdown if m.startswith("**Suggested action:**")
    ]
    assert app.get("link_button")[0].proto.url == f"{keyed_server.url}/profile/report"


def test_overview_on_the_classic_file_names_the_five_segments(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, classic_path: object
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url)
    assert sorted(texts(app.subheader)) == [
        "High income · High spending",
        "High income · Low spending",
        "Low income · High spending",
        "Low income · Low spending",
        "Mid income · Mid spending",
    ]
    assert ("Share", "19.5%") in [(m.label, m.value) for m in app.metric]


def test_explore_draws_the_sample_coloured_by_segment_with_centres(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, api: httpx.Client
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="explore.py")
    sample = api.get("/profile/sample", params={"n": 2000}).json()
    segments = api.get("/segments").json()["segments"]
    traces = _figure(app)["data"]
    assert [t["name"] for t in traces] == [s["name"] for s in segments] + ["segment centre"]
    for segment, trace in zip(segments, traces, strict=False):
        rows = [i for i, s in enumerate(sample["segment_id"]) if s == segment["segment_id"]]
        assert _values(trace["x"]) == [sample["columns"]["annual_income"][i] for i in rows]
        assert _values(trace["y"]) == [sample["columns"]["spending_score"][i] for i in rows]
    profile = api.get("/profile").json()
    assert_allclose(
        _values(traces[-1]["x"]),
        [s["numeric"]["annual_income"]["mean"] for s in profile["segments"]],
    )
    n = len(sample["segment_id"])
    assert texts(app.main.caption)[-1].startswith(
        f"A fixed-seed sample of {n} of the {sample['n_customers']} training customers (seed 0)"
    )
    app.selectbox(key="explore_y").set_value("segment").run()
    assert _values(_figure(app)["data"][0]["y"])[0] == segments[0]["name"]


def test_whatif_answers_as_assign_does_and_draws_the_customer(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, api: httpx.Client
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="whatif.py")
    sliders = {s.key: s.value for s in app.slider}
    assert list(sliders) == ["whatif_annual_income", "whatif_spending_score", "whatif_age"]
    assert app.selectbox(key="whatif_gender").options == ["Female", "Male"]
    for income, spending in [(None, None), (120.0, 15.0)]:
        if income is not None:
            app.slider(key="whatif_annual_income").set_value(income)
            app.slider(key="whatif_spending_score").set_value(spending).run()
        body = {
            "customer_id": "what-if",
            "annual_income": app.slider(key="whatif_annual_income").value,
            "spending_score": app.slider(key="whatif_spending_score").value,
            "age": app.slider(key="whatif_age").value,
            "gender": app.selectbox(key="whatif_gender").value,
        }
        expected = api.post("/assign", json=body).json()
        assert texts(app.subheader) == [expected["segment_name"]]
        assert _metrics(app) == {
            "Confidence": f"{expected['confidence']:.0%}",
            "Atypical": "yes" if expected["atypical"] else "no",
        }
        assert f"Imputed fields: **none** · distance {expected['distance']:.3f}" in texts(
            app.markdown
        )
        star = _figure(app)["data"][-1]
        assert (star["name"], _values(star["x"]), _values(star["y"])) == (
            "this customer",
            [body["annual_income"]],
            [body["spending_score"]],
        )
    assert expected["segment_name"] == "High income · Low spending"


def test_whatif_leaves_out_a_field_and_shows_it_imputed(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, api: httpx.Client
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="whatif.py")
    app.multiselect(key="whatif_leave_out").set_value(["annual_income", "age"]).run()
    body = {
        "customer_id": "what-if",
        "spending_score": app.slider(key="whatif_spending_score").value,
        "gender": app.selectbox(key="whatif_gender").value,
    }
    expected = api.post("/assign", json=body).json()
    assert expected["imputed"] == ["annual_income"]
    assert texts(app.subheader) == [expected["segment_name"]]
    assert f"Imputed fields: **annual_income** · distance {expected['distance']:.3f}" in texts(
        app.markdown
    )
    app.multiselect(key="whatif_leave_out").set_value(["annual_income", "spending_score"]).run()
    assert texts(app.error) == [
        "The API refused the values: At least one cluster feature is required: "
        "annual_income, spending_score"
    ]


def test_pages_follow_the_spec_served(
    monkeypatch: pytest.MonkeyPatch, full_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, full_server.url, key=None, page="whatif.py")
    assert [s.key for s in app.slider] == [
        "whatif_annual_income",
        "whatif_spending_score",
        "whatif_age",
    ]
    body = {
        "customer_id": "what-if",
        **{s.key.removeprefix("whatif_"): s.value for s in app.slider},
        "gender": app.selectbox(key="whatif_gender").value,
    }
    expected = httpx.post(f"{full_server.url}/assign", json=body).json()
    assert texts(app.subheader) == [expected["segment_name"]]
    app.switch_page("views/explore.py").run()
    assert app.selectbox(key="explore_x").options == [
        "Annual income (k$)",
        "Spending score (score 1-100)",
        "Age (years)",
        "Gender",
        "Segment",
    ]


def test_pages_serve_a_gaussian_mixture(
    monkeypatch: pytest.MonkeyPatch, gmm_settings: Settings
) -> None:
    with ThreadedServer(gmm_settings.model_copy(update={"reload_interval": 0})) as server:
        app = open_dashboard(monkeypatch, server.url, key=None)
        assert texts(app.markdown)[0].endswith("customers (Gaussian mixture, spec `mall`).")
        app.switch_page("views/whatif.py").run()
        body = {
            "customer_id": "what-if",
            **{s.key.removeprefix("whatif_"): s.value for s in app.slider},
            "gender": app.selectbox(key="whatif_gender").value,
        }
        expected = httpx.post(f"{server.url}/assign", json=body).json()
        assert texts(app.subheader) == [expected["segment_name"]]
        assert _metrics(app)["Confidence"] == f"{expected['confidence']:.0%}"
