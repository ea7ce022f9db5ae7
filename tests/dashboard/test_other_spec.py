"""The pages on other specs: one of the user's own, and the bundled 'rfm' (transactions).

The dashboard reads everything from ``GET /model``: the user's spec has three bounded
cluster features, an unbounded numeric profile field (a number box, not a slider), a
categorical one and an id named ``client``; the rfm model is trained from the bundled
transactions sample (log1p-transformed features, eight profile fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from service.config import Settings
from tests.dashboard.conftest import KEY, open_dashboard, texts
from tests.e2e.conftest import ThreadedServer
from training.train import TrainOptions, train

pytestmark = pytest.mark.slow
AUTH = {"X-API-Key": KEY}

SPEC = """
name = "behaviour"
[id]
name = "client"
[[features]]
name = "recency_days"
kind = "numeric"
role = "cluster"
unit = "days"
min = 0
max = 3650
[[features]]
name = "orders"
kind = "numeric"
role = "cluster"
min = 0
max = 10000
[[features]]
name = "monetary"
kind = "numeric"
role = "cluster"
unit = "EUR"
min = 0
max = 1000000
[[features]]
name = "basket"
kind = "numeric"
role = "profile"
unit = "EUR"
min = 0
[[features]]
name = "channel"
kind = "categorical"
role = "profile"
allowed = ["store", "web"]
"""
CENTRES = [(10.0, 40.0, 2000.0), (90.0, 8.0, 300.0), (300.0, 2.0, 60.0)]


def _behaviour_file(path: Path) -> Path:
    rng = np.random.default_rng(7)
    rows = []
    for i, (recency, orders, monetary) in enumerate(CENTRES * 60):
        rows.append(
            {
                "client": f"K{i:04d}",
                "recency_days": round(recency * rng.uniform(0.7, 1.3)),
                "orders": round(orders * rng.uniform(0.7, 1.3)),
                "monetary": round(monetary * rng.uniform(0.7, 1.3), 2),
                "basket": round(rng.uniform(10, 90), 2),
                "channel": ["store", "web"][i % 2],
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def behaviour_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    folder = tmp_path_factory.mktemp("behaviour")
    spec = folder / "behaviour.toml"
    spec.write_text(SPEC)
    result = train(
        TrainOptions(
            data=_behaviour_file(folder / "clients.csv"),
            spec=str(spec),
            k=3,
            k_max=4,
            models_dir=folder / "models",
            report=False,
            compare=False,
        )
    )
    settings = Settings(
        models_dir=result.path.parent, model_version=result.path.name, reload_interval=0
    )
    with ThreadedServer(settings) as running:
        yield running


def test_whatif_builds_its_inputs_from_the_served_spec(
    monkeypatch: pytest.MonkeyPatch, behaviour_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, behaviour_server.url, key=None, page="whatif.py")
    assert [s.key for s in app.slider] == [
        "whatif_recency_days",
        "whatif_orders",
        "whatif_monetary",
    ]
    [basket] = app.number_input
    assert (basket.key, basket.label) == ("whatif_basket", "Basket (EUR)")
    assert app.selectbox(key="whatif_channel").options == ["store", "web"]
    app.slider(key="whatif_recency_days").set_value(300.0)
    app.slider(key="whatif_orders").set_value(2.0)
    app.slider(key="whatif_monetary").set_value(60.0).run()
    body = {
        "client": "what-if",
        "recency_days": 300.0,
        "orders": 2.0,
        "monetary": 60.0,
        "basket": basket.value,
        "channel": app.selectbox(key="whatif_channel").value,
    }
    expected = httpx.post(f"{behaviour_server.url}/assign", json=body).json()
    assert texts(app.subheader) == [expected["segment_name"]]
    assert texts(app.error) == []


def test_overview_and_explore_follow_the_served_spec(
    monkeypatch: pytest.MonkeyPatch, behaviour_server: ThreadedServer
) -> None:
    segments = httpx.get(f"{behaviour_server.url}/segments").json()["segments"]
    app = open_dashboard(monkeypatch, behaviour_server.url, key=None)
    assert texts(app.subheader) == [s["name"] for s in segments]
    assert [(m.label, m.value) for m in app.metric][:2] == [
        ("Share", f"{segments[0]['share']:.1%}"),
        ("Customers", str(segments[0]["size"])),
    ]
    app.switch_page("views/explore.py").run()
    assert app.selectbox(key="explore_x").options == [
        "Recency days (days)",
        "Orders",
        "Monetary (EUR)",
        "Segment",
    ]
    assert texts(app.error) == []
    assert texts(app.info) == [  # an open service (no keys) shares no training rows
        "The customer sample is not available on this server (the customer sample is off: "
        "it shows training customers' values, so it is served only behind SEG_API_KEYS)."
    ]
    app.switch_page("views/batch.py").run()
    assert texts(app.info) == [
        "Expected columns (any header spelling): client, recency_days, orders, monetary, "
        "basket, channel."
    ]


@pytest.fixture(scope="module")
def rfm_server(rfm_settings: Settings) -> Iterator[ThreadedServer]:
    """The bundled 'rfm' spec, trained from the transactions sample (behind a key: the
    Explore page's customer sample is served only behind keys)."""
    settings = rfm_settings.model_copy(update={"reload_interval": 0, "api_keys": (KEY,)})
    with ThreadedServer(settings) as running:
        yield running


def test_pages_serve_a_model_trained_from_transactions(
    monkeypatch: pytest.MonkeyPatch, rfm_server: ThreadedServer
) -> None:
    model = httpx.get(f"{rfm_server.url}/model", headers=AUTH).json()
    segments = httpx.get(f"{rfm_server.url}/segments", headers=AUTH).json()["segments"]
    app = open_dashboard(monkeypatch, rfm_server.url, key=KEY)
    assert texts(app.subheader) == [s["name"] for s in segments]
    assert texts(app.markdown)[0].endswith("(K-Means, spec `rfm`).")
    app.switch_page("views/whatif.py").run()
    assert [s.key for s in app.slider][:3] == [
        "whatif_recency_days",
        "whatif_frequency",
        "whatif_monetary",
    ]
    inputs = [*app.slider, *app.number_input, *app.selectbox]
    body = {"customer_id": "what-if"} | {
        i.key.removeprefix("whatif_"): i.value for i in inputs if i.key.startswith("whatif_")
    }
    assert sorted(body) == sorted(["customer_id", *(f["name"] for f in model["features"])])
    expected = httpx.post(f"{rfm_server.url}/assign", json=body, headers=AUTH).json()
    assert texts(app.subheader) == [expected["segment_name"]]
    assert texts(app.error) == []
    app.switch_page("views/explore.py").run()
    assert [e.value for e in app.exception] == []
    assert len(app.get("plotly_chart")) == 1
