"""Campaigns in the service: arms in /assign answers, GET /campaigns, reloads of the file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from training.campaigns import arm, utc_today
from training.train import TrainResult

HIGH = {"customer_id": "C-1", "annual_income": 85, "spending_score": 90}
LOW = {"customer_id": "C-2", "annual_income": 20, "spending_score": 10}
SALT = "test-salt"


def _campaigns(target: int, other: int) -> str:
    today = utc_today()
    day = timedelta(days=1)
    return f"""
[[campaign]]
name = "spring-vip"
segments = [{target}]
offer = "20 % off"
holdout = 0.5
start = {today - day}
end = {today + day}

[[campaign]]
name = "both"
segments = [{target}, {other}]
offer = "Free delivery"
start = {today}
end = {today}

[[campaign]]
name = "over"
segments = [{target}]
offer = "Too late"
start = {today - 10 * day}
end = {today - day}
"""


@pytest.fixture(scope="module")
def segments(classic_settings: Settings) -> tuple[int, int]:
    """The segment ids of HIGH and LOW in the classic model."""
    with TestClient(create_app(classic_settings)) as client:
        high = client.post("/assign", json=HIGH).json()["segment_id"]
        low = client.post("/assign", json=LOW).json()["segment_id"]
    assert high != low
    return high, low


@pytest.fixture
def campaign_file(tmp_path: Path, segments: tuple[int, int]) -> Path:
    path = tmp_path / "campaigns.toml"
    path.write_text(_campaigns(*segments))
    return path


@pytest.fixture
def client(classic_settings: Settings, campaign_file: Path) -> Iterator[TestClient]:
    settings = classic_settings.model_copy(
        update={"campaigns": campaign_file, "campaign_salt": SALT, "reload_interval": 0.05}
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _expected(customer_id: str, names: list[str]) -> list[dict[str, object]]:
    offers = {"spring-vip": ("20 % off", 0.5), "both": ("Free delivery", 0.1)}
    out = []
    for name in names:
        offer, holdout = offers[name]
        which = arm(name, customer_id, holdout, SALT)
        out.append({"name": name, "arm": which, "offer": offer if which == "treatment" else None})
    return out


def test_assign_customer_carries_active_campaigns_of_its_segment(client: TestClient) -> None:
    high = client.post("/assign", json=HIGH).json()
    assert high["campaigns"] == _expected("C-1", ["spring-vip", "both"])
    low = client.post("/assign", json=LOW).json()
    assert low["campaigns"] == _expected("C-2", ["both"])


def test_assign_customers_gives_each_its_arm_and_holdouts_no_offer(client: TestClient) -> None:
    customers = [HIGH | {"customer_id": f"H-{i}"} for i in range(40)]
    answers = client.post("/assign/batch", json={"customers": customers}).json()["assignments"]
    got = [a["campaigns"] for a in answers]
    assert got == [_expected(f"H-{i}", ["spring-vip", "both"]) for i in range(40)]
    arms = {c["arm"] for a in got for c in a if c["name"] == "spring-vip"}
    assert arms == {"treatment", "holdout"}
    assert all(c["offer"] is None for a in got for c in a if c["arm"] == "holdout")


def test_assign_customer_without_campaign_file_has_empty_campaigns(
    classic_settings: Settings,
) -> None:
    with TestClient(create_app(classic_settings)) as plain:
        assert plain.post("/assign", json=HIGH).json()["campaigns"] == []
        listed = plain.get("/campaigns").json()
    assert (listed["campaigns"], listed["checked_against"], listed["refused"]) == ([], None, None)


def test_read_campaigns_lists_dates_targets_and_activity(
    client: TestClient, segments: tuple[int, int], classic_model: TrainResult
) -> None:
    body = client.get("/campaigns").json()
    today = utc_today()
    assert body["today"] == str(today)
    assert body["checked_against"] == classic_model.manifest.model_version
    names = {s.segment_id: s.name for s in classic_model.profile.segments}
    high, low = segments
    assert [(c["name"], c["active"]) for c in body["campaigns"]] == [
        ("spring-vip", True),
        ("both", True),
        ("over", False),
    ]
    assert body["campaigns"][1] == {
        "name": "both",
        "offer": "Free delivery",
        "holdout": 0.1,
        "start": str(today),
        "end": str(today),
        "active": True,
        "targets": [
            {"segment_id": high, "segment_name": names[high]},
            {"segment_id": low, "segment_name": names[low]},
        ],
        "outcome": None,
    }


def _wait(client: TestClient, check: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check(client.get("/campaigns").json()):  # type: ignore[operator]
        assert time.monotonic() < deadline, "the campaign file was not reloaded"
        time.sleep(0.02)


def test_bad_campaign_file_keeps_the_previous_one_and_says_why(
    client: TestClient, campaign_file: Path, segments: tuple[int, int]
) -> None:
    before = client.post("/assign", json=HIGH).json()["campaigns"]
    campaign_file.write_text(_campaigns(*segments).replace("holdout = 0.5", "holdout = 2"))
    _wait(client, lambda body: body["refused"] is not None)
    reason = "SEG_CAMPAIGNS: campaign 'spring-vip': holdout: Input should be less than 1"
    assert client.get("/campaigns").json()["refused"] == reason
    ready = client.get("/health/ready")
    assert (ready.status_code, ready.json()["campaigns_refused"]) == (200, reason)
    assert client.post("/assign", json=HIGH).json()["campaigns"] == before

    campaign_file.write_text(_campaigns(*segments).replace('"20 % off"', '"30 % off"'))
    _wait(client, lambda body: body["refused"] is None)
    assert "campaigns_refused" not in client.get("/health/ready").json()
    offers = [c["offer"] for c in client.get("/campaigns").json()["campaigns"]]
    assert offers == ["30 % off", "Free delivery", "Too late"]


def test_campaign_file_targeting_an_unknown_segment_is_refused(
    client: TestClient, campaign_file: Path, classic_model: TrainResult
) -> None:
    campaign_file.write_text(_campaigns(0, 17))
    _wait(client, lambda body: body["refused"] is not None)
    version = classic_model.manifest.model_version
    assert client.get("/campaigns").json()["refused"] == (
        f"SEG_CAMPAIGNS: campaign 'both': segments: 17 not in model {version} "
        "(its segments: 0, 1, 2, 3, 4)"
    )


def test_settings_refuse_a_bad_campaign_file_at_start(tmp_path: Path) -> None:
    from service.config import SettingsError, load_settings

    path = tmp_path / "c.toml"
    path.write_text('[[campaign]]\nname = "x"\n')
    with pytest.raises(SettingsError, match=r"^SEG_CAMPAIGNS=.*campaign 'x': segments: Field "):
        load_settings(campaigns=str(path))
    with pytest.raises(SettingsError, match=r"^SEG_CAMPAIGN_SALT='x{65}': 65 bytes, at most 64$"):
        load_settings(campaign_salt="x" * 65)


def test_admin_reload_reads_the_campaign_file_now(
    classic_settings: Settings, campaign_file: Path, segments: tuple[int, int]
) -> None:
    settings = classic_settings.model_copy(
        update={
            "campaigns": campaign_file,
            "campaign_salt": SALT,
            "reload_interval": 0,  # no poll: only the admin call can read the new file
            "admin_api_keys": ("admin-key",),
        }
    )
    with TestClient(create_app(settings)) as client:
        campaign_file.write_text(_campaigns(*segments).replace('"20 % off"', '"40 % off"'))
        assert client.get("/campaigns").json()["campaigns"][0]["offer"] == "20 % off"
        answer = client.post("/admin/reload", headers={"X-API-Key": "admin-key"})
        assert answer.status_code == 200
        assert client.get("/campaigns").json()["campaigns"][0]["offer"] == "40 % off"
        campaign_file.write_text("[[campaign]]\n")
        client.post("/admin/reload", headers={"X-API-Key": "admin-key"})
        body = client.get("/campaigns").json()
        assert body["refused"] is not None
        assert body["campaigns"][0]["offer"] == "40 % off"
