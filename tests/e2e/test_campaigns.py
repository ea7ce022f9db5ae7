"""A real uvicorn with SEG_CAMPAIGNS: its arms are those the batch CLI writes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pandas as pd

from service.config import Settings
from tests.e2e.conftest import ThreadedServer
from training.batch import assign_file
from training.campaigns import load_campaigns, utc_today
from training.train import TrainResult

SALT = "e2e"


def test_served_arms_equal_batch_arms(
    classic_settings: Settings, classic_model: TrainResult, tmp_path: Path
) -> None:
    today = utc_today()
    campaigns = tmp_path / "campaigns.toml"
    campaigns.write_text(
        f'[[campaign]]\nname = "all"\nsegments = [0, 1, 2, 3, 4]\noffer = "x"\nholdout = 0.4\n'
        f"start = {today - timedelta(days=1)}\nend = {today + timedelta(days=1)}\n\n"
        f'[[campaign]]\nname = "two"\nsegments = [2]\noffer = "y"\nholdout = 0.5\n'
        f"start = {today}\nend = {today}\n"
    )
    rows = [(f"E{i}", 15 + i * 5, 1 + (i * 37) % 99) for i in range(24)]
    settings = classic_settings.model_copy(update={"campaigns": campaigns, "campaign_salt": SALT})
    with ThreadedServer(settings) as server, httpx.Client(base_url=server.url) as http:
        body = {
            "customers": [
                dict(zip(("customer_id", "annual_income", "spending_score"), r, strict=True))
                for r in rows
            ]
        }
        answers = http.post("/assign/batch", json=body).json()["assignments"]
    served = [";".join(f"{c['name']}={c['arm']}" for c in a["campaigns"]) for a in answers]
    assert {a["segment_id"] for a in answers} >= {2}

    source = tmp_path / "customers.csv"
    source.write_text(
        "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n"
        + "".join(f"{i},Male,30,{income},{score}\n" for i, income, score in rows)
    )
    output = tmp_path / "assigned.csv"
    book = load_campaigns(campaigns, SALT)
    assign_file(source, output, classic_model.path.parent, classic_model.path.name, campaigns=book)
    written = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(written["customer_id"]) == [r[0] for r in rows]
    assert list(written["campaigns"]) == served
