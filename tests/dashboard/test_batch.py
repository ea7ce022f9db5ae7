"""Batch: a file through /assign/batch in chunks; rejected rows keep their reasons."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from dashboard.batching import assign_rows, build_customers, guess_columns, read_upload
from dashboard.client import ApiClient, Connection
from service.config import Settings
from tests.dashboard.conftest import KEY, open_dashboard, texts
from tests.e2e.conftest import ThreadedServer

pytestmark = pytest.mark.slow

FIELDS = ["customer_id", "annual_income", "spending_score", "age", "gender"]
NUMERIC = {"annual_income", "spending_score", "age"}
BAD_ROWS = (
    "X-1,Male,30,99999,50\n"  # income over the spec's bound: the API refuses it
    "X-2,Female,abc,50,50\n"  # not a number: refused before sending
    ",Male,30,50,50\n"  # no id
    "X-4,Robot,30,50,50\n"  # gender not allowed: the API refuses it
)


@pytest.fixture(scope="module")
def upload(classic_path: Path) -> bytes:
    """The classic file with four broken rows after its 200 customers."""
    return classic_path.read_bytes().rstrip(b"\n") + b"\n" + BAD_ROWS.encode()


@pytest.fixture(scope="module")
def client(keyed_server: ThreadedServer) -> Iterator[ApiClient]:
    api = ApiClient(Connection(keyed_server.url, KEY))
    yield api
    api.close()


def _mapping(frame: pd.DataFrame) -> dict[str, str | None]:
    return guess_columns(list(frame.columns), FIELDS) | {"gender": "Genre"}


def test_guess_columns_matches_the_classic_headers(upload: bytes, api: httpx.Client) -> None:
    columns = list(read_upload("mall.csv", upload).columns)
    guessed = {
        "customer_id": "CustomerID",
        "annual_income": "Annual Income (k$)",
        "spending_score": "Spending Score (1-100)",
        "age": "Age",
        "gender": None,  # "Genre" is no spelling of "gender"...
    }
    assert guess_columns(columns, FIELDS) == guessed
    model = api.get("/model").json()
    aliases = {f["name"]: f["aliases"] for f in model["features"]}
    assert "Genre" in aliases["gender"]
    assert guess_columns(columns, FIELDS, aliases) == guessed | {"gender": "Genre"}  # ...an alias


def test_chunks_give_the_answers_of_one_batch_call(
    client: ApiClient, api: httpx.Client, upload: bytes
) -> None:
    frame = read_upload("mall.csv", upload)
    customers, rejected = build_customers(frame, _mapping(frame), "customer_id", NUMERIC)
    assert rejected == {202: ["age: 'abc' is not a number"], 203: ["customer_id: missing"]}
    progress: list[tuple[int, int]] = []
    outcome = assign_rows(
        client, customers, chunk_rows=64, on_progress=lambda *p: progress.append(p)
    )
    assert progress == [(64, 202), (128, 202), (192, 202), (202, 202)]
    assert outcome.rejected == {
        201: ["annual_income: Input should be less than or equal to 10000"],
        204: ["gender: Input should be 'Female' or 'Male'"],
    }
    valid = [{k: v for k, v in c.items() if k != "source_row"} for c in customers[:200]]
    expected = api.post("/assign/batch", json={"customers": valid}).json()["assignments"]
    assert [a["source_row"] for a in outcome.assignments] == list(range(1, 201))
    assert [{k: v for k, v in a.items() if k != "source_row"} for a in outcome.assignments] == (
        expected
    )
    written = pd.read_csv(io.BytesIO(outcome.to_csv("customer_id")), dtype={"customer_id": str})
    # The API's answer, field for field and in its order, after the file's row number.
    assert written.columns.tolist() == ["source_row", *expected[0]]
    assert written["customer_id"].tolist() == [c["customer_id"] for c in valid]


def test_batch_page_assigns_an_upload_and_lists_rejected_rows(
    monkeypatch: pytest.MonkeyPatch,
    keyed_server: ThreadedServer,
    api: httpx.Client,
    upload: bytes,
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="batch.py")
    app.file_uploader(key="batch_file").upload("mall.csv", upload, "text/csv").run()
    assert app.selectbox(key="map_gender").value == "Genre"  # the spec's alias, from /model
    [button] = app.button
    assert button.label == "Assign 204 customers"
    button.click().run()
    assert {m.label: m.value for m in app.metric} == {"Assigned": "200", "Rejected": "4"}
    frame = read_upload("mall.csv", upload)
    customers, _ = build_customers(frame.head(200), _mapping(frame), "customer_id", NUMERIC)
    body = {"customers": [{k: v for k, v in c.items() if k != "source_row"} for c in customers]}
    answers = pd.DataFrame(api.post("/assign/batch", json=body).json()["assignments"])
    counts = answers.groupby(["segment_id", "segment_name"]).size().reset_index(name="n")
    shown, refused = (frame.value for frame in app.dataframe)
    assert shown["segment_name"].tolist() == counts["segment_name"].tolist()
    assert shown["customers"].tolist() == counts["n"].tolist()
    assert shown["share"].tolist() == (counts["n"] / 200).tolist()
    assert refused.to_dict("list") == {
        "source_row": [201, 202, 203, 204],
        "reason": [
            "annual_income: Input should be less than or equal to 10000",
            "age: 'abc' is not a number",
            "customer_id: missing",
            "gender: Input should be 'Female' or 'Male'",
        ],
    }
    assert [b.label for b in app.get("download_button")] == ["Download the assignments (CSV)"]
    assert texts(app.error) == []


def test_chunks_shrink_to_the_servers_batch_limit(
    classic_settings: Settings, api: httpx.Client, upload: bytes
) -> None:
    settings = classic_settings.model_copy(update={"max_batch": 50, "reload_interval": 0})
    frame = read_upload("mall.csv", upload)
    customers, _ = build_customers(frame.head(200), _mapping(frame), "customer_id", NUMERIC)
    progress: list[tuple[int, int]] = []
    with ThreadedServer(settings) as server, ApiClient(Connection(server.url)) as small:
        outcome = assign_rows(
            small, customers, chunk_rows=64, on_progress=lambda *p: progress.append(p)
        )
    assert progress == [(50, 200), (100, 200), (150, 200), (200, 200)]
    body = {"customers": [{k: v for k, v in c.items() if k != "source_row"} for c in customers]}
    expected = api.post("/assign/batch", json=body).json()["assignments"]
    assert [a["segment_id"] for a in outcome.assignments] == [a["segment_id"] for a in expected]


def test_batch_page_reads_a_parquet_upload(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer, upload: bytes
) -> None:
    frame = read_upload("mall.csv", upload).head(200)
    frame[["Age", "Annual Income (k$)", "Spending Score (1-100)"]] = frame[
        ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    ].astype(float)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    app = open_dashboard(monkeypatch, keyed_server.url, page="batch.py")
    app.file_uploader(key="batch_file").upload("mall.parquet", buffer.getvalue(), "").run()
    assert texts(app.caption)[0] == "mall.parquet: 200 rows, 5 columns."
    app.button[0].click().run()
    assert {m.label: m.value for m in app.metric} == {"Assigned": "200", "Rejected": "0"}
    assert texts(app.error) == []


def test_batch_page_says_a_file_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch, keyed_server: ThreadedServer
) -> None:
    app = open_dashboard(monkeypatch, keyed_server.url, page="batch.py")
    app.file_uploader(key="batch_file").upload("broken.parquet", b"not parquet", "").run()
    [message] = texts(app.error)
    assert message.startswith("Cannot read broken.parquet: ")
    assert [e.value for e in app.exception] == []
