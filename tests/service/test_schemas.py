"""The request models built from a spec: strict numbers, bounds, allowed values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.request_models import Example, build_request_models
from training.spec import load_spec


@pytest.fixture(scope="module")
def customer_model() -> type:
    models = build_request_models(load_spec("mall-full"), [], max_batch=2)
    return models.customer


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"customer_id": "a", "annual_income": 85}', {"annual_income": 85.0}),
        ('{"customer_id": "a", "gender": " fEMale "}', {"gender": "Female"}),
        ('{"customer_id": "a", "age": 0, "spending_score": 1}', {"age": 0.0}),
        ('{"customer_id": "a", "annual_income": null, "age": 3}', {"age": 3.0}),
    ],
)
def test_customer_model_accepts(
    customer_model: type, body: str, expected: dict[str, object]
) -> None:
    customer = customer_model.model_validate_json(body)
    for name, value in expected.items():
        assert getattr(customer, name) == value


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ('{"customer_id": "a", "age": NaN}', ("age",), "Input should be a finite number"),
        ('{"customer_id": "a", "age": 1e999}', ("age",), "Input should be a finite number"),
        ('{"customer_id": "a", "age": false}', ("age",), "Input should be a valid number"),
        ('{"customer_id": "a", "age": 121}', ("age",), "Input should be less than or equal to 120"),
        ('{"customer_id": "a", "gender": "f"}', ("gender",), "Input should be 'Female' or 'Male'"),
        ('{"customer_id": "a", "gender": 1}', ("gender",), "Input should be a valid string"),
        ('{"customer_id": "' + "x" * 129 + '", "age": 1}', ("customer_id",),
         "String should have at most 128 characters"),
    ],
)  # fmt: skip
def test_customer_model_rejects(
    customer_model: type, body: str, loc: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        customer_model.model_validate_json(body)
    [error] = excinfo.value.errors()
    assert (error["loc"], error["msg"]) == (loc, message)


def test_build_request_models_examples() -> None:
    example = Example(
        "High income: a typical customer",
        {"customer_id": "0042", "annual_income": 88, "spending_score": 15, "age": 40},
    )
    models = build_request_models(load_spec("mall"), [example], max_batch=10)
    assert models.examples["segment-0"] == {
        "summary": "High income: a typical customer",
        "value": example.customer,
    }
    assert models.examples["imputed"]["value"] == {
        "customer_id": "0042",
        "annual_income": 88,
        "age": 40,
    }
    schema = models.customer.model_json_schema()
    assert schema["properties"]["annual_income"]["examples"] == [88]
    assert models.batch.model_json_schema()["properties"]["customers"]["maxItems"] == 10
