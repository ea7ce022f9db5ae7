"""The fast path of a JSON batch (msgspec's decoder, then the column checks) accepts only
what the request models accept, with the same values; the encoded answer is the contract's."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from service.batch_json import ANSWER_FIELDS, BatchDecoder, encode_batch
from service.request_models import build_request_models
from training.spec import load_spec

SPEC = load_spec("mall-full")
MODELS = build_request_models(SPEC, [], max_batch=100)
DECODER = BatchDecoder(SPEC, max_batch=100)
CLUSTER = [f.name for f in SPEC.cluster_features]
# The record of segment 1 ("one") of the scorer results the record tests build.
RECORD_ONE = {
    "customer_id": "c-1",
    "segment_id": 1,
    "segment_name": "one",
    "distance": 0.5,
    "confidence": 0.25,
    "atypical": True,
    "imputed": ["spending_score"],
}

anything = st.one_of(
    st.integers(-(10**20), 10**20),
    st.none(),
    st.booleans(),
    st.integers(-10, 20_000),
    st.floats(-10, 20_000, allow_nan=False, allow_infinity=False),
    st.sampled_from(["Male", " female ", "FEMALE", "x", "", "85"]),
)
records = st.lists(
    st.dictionaries(
        st.sampled_from(["customer_id", "annual_income", "spending_score", "age", "gender", "zz"]),
        anything,
    ),
    max_size=6,
)


def _body(batch: Any) -> bytes:
    return json.dumps({"customers": batch}).encode()


def _pydantic(batch: list[Any]) -> list[Any] | None:
    try:
        customers = MODELS.batch.model_validate_json(_body(batch)).customers  # type: ignore[attr-defined]
    except ValidationError:
        return None
    has_cluster = [any(getattr(c, n) is not None for n in CLUSTER) for c in customers]
    return customers if all(has_cluster) else None


@settings(max_examples=400, deadline=None)
@given(batch=records)
def test_the_fast_path_accepts_only_what_the_request_models_accept(batch: list[Any]) -> None:
    columns = DECODER.columns(_body(batch))
    customers = _pydantic(batch)
    assert (columns is None) == (customers is None)
    if columns is None or customers is None:
        return
    assert columns.ids == [c.customer_id for c in customers]
    for feature in SPEC.features:
        expected = [getattr(c, feature.name) for c in customers]
        got = list(columns.values[feature.name])
        if feature.kind == "numeric":
            expected = [math.nan if v is None else float(v) for v in expected]
            np.testing.assert_array_equal(np.asarray(got, dtype=float), expected)
        else:
            assert got == expected


@pytest.mark.parametrize(
    "batch",
    [
        [{"customer_id": "a", "annual_income": 1e400}],
        [{"customer_id": "a", "annual_income": 10**400}],
        [{"customer_id": "a", "annual_income": True}],
        [{"customer_id": "a", "annual_income": -1}],
        [{"customer_id": "a", "spending_score": 101}],
        [{"customer_id": "a", "gender": None}],  # no cluster feature
        [{"customer_id": "", "annual_income": 5}],
        [{"customer_id": "a" * 129, "annual_income": 5}],
        [{"customer_id": 7.0, "annual_income": 5}],
        [{"customer_id": True, "annual_income": 5}],
        [{"annual_income": 5}],
        [{"customer_id": "a", "annual_income": 5, "gender": "x"}],
        [{"customer_id": "a", "annual_income": 5, "extra": 1}],
        [["customer_id", "a"]],
        {"customer_id": "a"},
        [{"customer_id": "a", "annual_income": 5}] * 101,  # over max_batch
    ],
)
def test_the_fast_path_refuses_what_the_request_models_refuse(batch: Any) -> None:
    assert DECODER.columns(_body(batch)) is None
    assert _pydantic(batch) is None


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b'{"customers": []', b'{"customers": [], "x": 1}', b'{"customers": [NaN]}'],
)
def test_the_fast_path_refuses_bodies_that_are_not_a_batch(body: bytes) -> None:
    assert DECODER.columns(body) is None


def test_columns_canonicalise_categories_and_fill_missing() -> None:
    batch = [
        {"customer_id": "a", "annual_income": 5, "gender": " female "},
        {"customer_id": "b", "spending_score": 7.5},
    ]
    columns = DECODER.columns(_body(batch))
    assert columns is not None
    assert columns.values["gender"] == ["Female", None]
    np.testing.assert_array_equal(columns.values["annual_income"], [5.0, np.nan])
    np.testing.assert_array_equal(columns.values["spending_score"], [np.nan, 7.5])
    # An explicit null is missing, as an absent field is.
    nulls = [{"customer_id": "a", "annual_income": None, "spending_score": 3, "age": None}]
    columns = DECODER.columns(_body(nulls))
    assert columns is not None
    np.testing.assert_array_equal(columns.values["annual_income"], [np.nan])
    np.testing.assert_array_equal(columns.values["age"], [np.nan])


def test_records_carry_the_record_fields_in_order() -> None:
    from training.scoring import RECORD_FIELDS, Assignments

    result = Assignments(
        segment=np.array([1]),
        distance=np.array([0.5]),
        confidence=np.array([0.25]),
        atypical=np.array([True]),
        imputed={"spending_score": np.array([True])},
    )
    [record] = result.records(["c-1"], ["zero", "one"])
    assert tuple(record) == RECORD_FIELDS
    assert record == RECORD_ONE


def test_every_form_of_the_record_has_its_fields_in_order() -> None:
    # One definition (training.scoring.RECORD_FIELDS): the OpenAPI model, the Arrow
    # columns of table answers and the batch CLI's output columns follow it.
    from service.schemas import AssignmentRecord
    from training.batch import OUTPUT_COLUMNS
    from training.scoring import RECORD_FIELDS, Assignments

    result = Assignments(
        segment=np.array([0]),
        distance=np.array([0.0]),
        confidence=np.array([1.0]),
        atypical=np.array([False]),
        imputed={},
    )
    assert tuple(AssignmentRecord.model_fields) == (*RECORD_FIELDS, "campaigns")
    assert tuple(result.arrow_columns(["zero"])) == RECORD_FIELDS[1:]
    assert (*RECORD_FIELDS[1:], "model_version") == OUTPUT_COLUMNS


def test_the_encoded_answer_has_the_contract_fields_in_order() -> None:
    from service.schemas import AssignmentBatch, AssignmentRecord
    from training.scoring import Assignments

    result = Assignments(
        segment=np.array([1, 0]),
        distance=np.array([0.5, 1e-7]),
        confidence=np.array([0.25, 1.0]),
        atypical=np.array([True, False]),
        imputed={"spending_score": np.array([True, False])},
    )
    arms = [[{"name": "spring", "arm": "holdout", "offer": None}], []]
    body = encode_batch("v1", ["c-1", 'quote " and \\ é'], result, ["zero", "one"], arms)
    answer = json.loads(body)
    assert tuple(AssignmentRecord.model_fields) == ANSWER_FIELDS
    AssignmentBatch.model_validate(answer)  # the OpenAPI model of the answer
    assert [tuple(a) for a in answer["assignments"]] == [ANSWER_FIELDS] * 2
    assert answer["model_version"] == "v1"
    assert answer["assignments"][0] == RECORD_ONE | {"campaigns": arms[0]}
    assert answer["assignments"][1]["customer_id"] == 'quote " and \\ é'
    assert answer["assignments"][1]["distance"] == 1e-7
