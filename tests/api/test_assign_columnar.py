"""POST /assign/batch with Arrow IPC, Parquet and CSV bodies and answers."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from pyarrow import csv

from service.columnar import ARROW, CSV, PARQUET

CUSTOMERS = [
    {"customer_id": "a", "annual_income": 20.0, "spending_score": 80.0, "gender": " male "},
    {"customer_id": "b", "annual_income": 120.0, "spending_score": None, "gender": None},
    {"customer_id": "c", "annual_income": None, "spending_score": 5.0, "gender": "Female"},
]


def _encode(table: pa.Table, media_type: str) -> bytes:
    sink = io.BytesIO()
    if media_type == ARROW:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    elif media_type == PARQUET:
        pq.write_table(table, sink)
    else:
        csv.write_csv(table, sink)
    return sink.getvalue()


def _decode(body: bytes, media_type: str) -> pa.Table:
    if media_type == ARROW:
        return pa.ipc.open_stream(body).read_all()
    if media_type == PARQUET:
        return pq.read_table(io.BytesIO(body))
    return csv.read_csv(io.BytesIO(body))


def _post(client: TestClient, body: bytes, media_type: str, accept: str = "") -> Any:
    headers = {"content-type": media_type} | ({"accept": accept} if accept else {})
    return client.post("/assign/batch", content=body, headers=headers)


def _json_answer(client: TestClient, customers: list[dict[str, Any]]) -> dict[str, Any]:
    sent = [{k: v for k, v in c.items() if v is not None} for c in customers]
    answer: dict[str, Any] = client.post("/assign/batch", json={"customers": sent}).json()
    return answer


@pytest.mark.parametrize("media_type", [ARROW, PARQUET, CSV])
def test_assign_customers_columnar_body_answers_like_json(
    client: TestClient, media_type: str
) -> None:
    body = _encode(pa.Table.from_pylist(CUSTOMERS), media_type)
    response = _post(client, body, media_type)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == _json_answer(client, CUSTOMERS)


@pytest.mark.parametrize("media_type", [ARROW, PARQUET, CSV])
def test_assign_customers_answers_in_the_accepted_format(
    client: TestClient, media_type: str
) -> None:
    body = _encode(pa.Table.from_pylist(CUSTOMERS), media_type)
    response = _post(client, body, media_type, accept=f"{media_type}, application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    table = _decode(response.content, media_type)
    expected = _json_answer(client, CUSTOMERS)
    assert table.column_names == [
        "customer_id", "segment_id", "segment_name", "distance", "confidence",
        "atypical", "imputed", "campaigns",
    ]  # fmt: skip
    rows = table.to_pylist()
    for row, answer in zip(rows, expected["assignments"], strict=True):
        assert row["imputed"] in (";".join(answer["imputed"]), None)  # CSV reads "" as null
        row["imputed"] = answer["imputed"]
        row["campaigns"] = answer["campaigns"]
        assert row == answer
    if media_type != CSV:
        assert table.schema.metadata == {b"model_version": expected["model_version"].encode()}


def test_assign_customers_csv_keeps_ids_as_text_and_integer_arrow_ids_as_decimal(
    client: TestClient,
) -> None:
    answer = _post(client, b"customer_id,annual_income\n007,50\n", CSV).json()
    assert answer["assignments"][0]["customer_id"] == "007"
    table = pa.table({"customer_id": [7], "annual_income": [50]})
    answer = _post(client, _encode(table, ARROW), ARROW).json()
    assert answer["assignments"][0]["customer_id"] == "7"


@pytest.mark.parametrize(
    ("csv_body", "issue"),
    [
        (
            b"customer_id,annual_income\na,50\nb,-3\n",
            {
                "type": "greater_than_equal",
                "loc": ["body", 1, "annual_income"],
                "msg": "Input should be greater than or equal to 0",
                "ctx": {"ge": 0.0},
            },
        ),
        (
            b"customer_id,annual_income\na,NaN\n",
            {
                "type": "finite_number",
                "loc": ["body", 0, "annual_income"],
                "msg": "Input should be a finite number",
            },
        ),
        (
            b"customer_id,gender,annual_income\na,x,5\n",
            {
                "type": "literal_error",
                "loc": ["body", 0, "gender"],
                "msg": "Input should be 'Female' or 'Male'",
                "ctx": {"expected": "'Female' or 'Male'"},
            },
        ),
        (
            b"customer_id,age\na,30\n",
            {
                "type": "missing_cluster_features",
                "loc": ["body", 0],
                "msg": "At least one cluster feature is required: annual_income, spending_score",
                "ctx": {"fields": "annual_income, spending_score"},
            },
        ),
        (
            b"customer_id,annual_income,colour\na,5,red\n",
            {
                "type": "extra_forbidden",
                "loc": ["body", "colour"],
                "msg": "Extra inputs are not permitted",
            },
        ),
        (
            b"annual_income\n5\n",
            {"type": "missing", "loc": ["body", "customer_id"], "msg": "Field required"},
        ),
    ],
)
def test_assign_customers_csv_errors_name_row_and_field(
    client: TestClient, csv_body: bytes, issue: dict[str, Any]
) -> None:
    response = _post(client, csv_body, CSV)
    assert response.status_code == 422
    assert response.json()["detail"] == [issue]


def test_assign_customers_unreadable_table_is_422(client: TestClient) -> None:
    response = _post(client, b"not parquet", PARQUET)
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert (issue["type"], issue["loc"]) == ("invalid_body", ["body"])
    assert issue["msg"].startswith("cannot read the Parquet body: ")


def test_assign_customers_unknown_content_type_is_415(client: TestClient) -> None:
    response = _post(client, b"x", "application/xml")
    assert response.status_code == 415
    assert response.json() == {
        "detail": "Content-Type 'application/xml' is not supported: send application/json, "
        "application/vnd.apache.arrow.stream, application/vnd.apache.parquet or text/csv"
    }


@pytest.mark.parametrize(
    ("ids", "row", "kind"),
    [
        (["a", None], 1, "string_type"),
        (["a", ""], 1, "string_too_short"),
        (["a", "x" * 129], 1, "string_too_long"),
    ],
)
def test_assign_customers_table_ids_are_checked_as_the_json_ones(
    client: TestClient, ids: list[str | None], row: int, kind: str
) -> None:
    table = pa.table({"customer_id": pa.array(ids, pa.string()), "annual_income": [5.0, 6.0]})
    response = _post(client, _encode(table, ARROW), ARROW)
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body", row, "customer_id"]
    assert issue["type"] == kind


def test_assign_customers_table_ids_pass_through_in_every_answer_format(
    client: TestClient,
) -> None:
    # 128 characters, not bytes, is the limit (as in JSON); chunks are read as one column.
    ids = ["é" * 128, "ü-2", "c-3"]
    chunks = [pa.record_batch({"customer_id": [i], "annual_income": [50.0]}) for i in ids]
    body = _encode(pa.Table.from_batches(chunks), ARROW)
    assert [a["customer_id"] for a in _post(client, body, ARROW).json()["assignments"]] == ids
    for accept in (ARROW, PARQUET, CSV):
        answer = _decode(_post(client, body, ARROW, accept).content, accept)
        assert answer.column("customer_id").to_pylist() == ids
        assert answer.column("campaigns").to_pylist() in ([""] * 3, [None] * 3)  # CSV: null
