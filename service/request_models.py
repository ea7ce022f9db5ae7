"""Request models built from the artifact's spec (the response models: :mod:`service.schemas`).

The request model of ``POST /assign`` is made at load time from the spec in the manifest
(:func:`build_request_models`): one optional field per feature with its bounds, allowed
values, unit and description, synthetic examples (never a training customer), unknown
fields forbidden and numbers strict (no NaN, no Infinity, no ``"85"``, no ``true``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from training.spec import FeatureSpec, SegmentationSpec

__all__ = [
    "CustomerBase",
    "Example",
    "RequestModels",
    "build_request_models",
    "missing_cluster_features",
]


class CustomerBase(BaseModel):
    """Base of the spec-built customer model: strict and closed.

    "At least one cluster feature" is checked on the whole batch after scoring (a customer
    whose every cluster feature was imputed), not by a per-instance validator: that Python
    call per customer tripled the validation time of a 10,000-customer batch.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
    cluster_fields: ClassVar[tuple[str, ...]] = ()


def missing_cluster_features(customer: CustomerBase, loc: tuple[str | int, ...]) -> dict[str, Any]:
    """The 422 issue for a customer without any cluster feature, in pydantic's shape."""
    fields = ", ".join(type(customer).cluster_fields)
    return {
        "type": "missing_cluster_features",
        "loc": loc,
        "msg": f"At least one cluster feature is required: {fields}",
        "ctx": {"fields": fields},
    }


class Example(NamedTuple):
    """A made-up customer shown in the OpenAPI page (:mod:`service.examples`)."""

    summary: str
    customer: dict[str, Any]


@dataclass(frozen=True)
class RequestModels:
    """The models a loaded artifact validates requests with."""

    customer: type[CustomerBase]
    batch: type[BaseModel]
    examples: dict[str, dict[str, Any]]  # OpenAPI examples: name -> {summary, value}
    max_batch: int  # most customers in one batch


def _describe(feature: FeatureSpec) -> str:
    parts = [feature.description.rstrip(".") + "." if feature.description else ""]
    if feature.unit:
        parts.append(f"Unit: {feature.unit}.")
    if feature.role == "cluster":
        fill = "median" if feature.kind == "numeric" else "most frequent value"
        parts.append(f"Used in the assignment; when missing, the training {fill} is used.")
    else:
        parts.append("Validated and described per segment; not used in the assignment.")
    return " ".join(p for p in parts if p)


def _categorical(feature: FeatureSpec) -> Any:
    allowed = {value.casefold(): value for value in feature.allowed or ()}
    expected = " or ".join(repr(v) for v in feature.allowed or ())

    def canonical(value: str) -> str:
        found = allowed.get(value.strip().casefold())
        if found is None:
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return found

    schema = {"type": "string", "enum": list(feature.allowed or ())}
    return Annotated[str, AfterValidator(canonical), WithJsonSchema(schema)]


def _integer_as_text(value: Any) -> Any:
    # CRM systems send numeric ids: 123 is kept as "123" (never a bool, never a float).
    return str(value) if type(value) is int else value


def _customer_id(max_length: int) -> Any:
    digits = min(max_length, 18)
    schema = {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": max_length},
            {"type": "integer", "minimum": 1 - 10 ** (digits - 1), "maximum": 10**digits - 1},
        ]
    }
    return Annotated[str, BeforeValidator(_integer_as_text), WithJsonSchema(schema)]


def _feature_field(feature: FeatureSpec, examples: list[Any]) -> tuple[Any, Any]:
    kind: Any = float if feature.kind == "numeric" else _categorical(feature)
    field = Field(
        None,
        ge=feature.min,
        le=feature.max,
        title=feature.display.capitalize(),
        description=_describe(feature),
        examples=examples[:3] or None,
        json_schema_extra={"x-role": feature.role}
        | ({"x-unit": feature.unit} if feature.unit else {}),
    )
    return kind | None, field


def build_request_models(
    spec: SegmentationSpec, examples: list[Example], max_batch: int
) -> RequestModels:
    """Build the ``Customer`` and ``CustomerBatch`` models of ``spec``.

    ``examples`` are synthetic customers (one per segment, from its profile); their values
    become per-field examples and whole-request examples for the OpenAPI page.
    """
    fields: dict[str, Any] = {
        spec.id.name: (
            _customer_id(spec.id.max_length),
            Field(
                min_length=1,
                max_length=spec.id.max_length,
                description=spec.id.description.rstrip(".")
                + ". A JSON integer is accepted too and kept as its decimal string.",
                examples=[ex.customer[spec.id.name] for ex in examples[:2]] or None,
            ),
        )
    }
    for feature in spec.features:
        seen = [ex.customer.get(feature.name) for ex in examples]
        seen = [value for value in seen if value is not None]
        fields[feature.name] = _feature_field(feature, list(dict.fromkeys(seen)))
    customer = create_model(
        "Customer",
        __base__=CustomerBase,
        __doc__=f"One customer, as described by the spec {spec.name!r}.",
        **fields,
    )
    customer.cluster_fields = tuple(f.name for f in spec.cluster_features)
    batch = create_model(
        "CustomerBatch",
        __config__=ConfigDict(extra="forbid", strict=True),
        __doc__=f"Up to {max_batch} customers, assigned in one call.",
        customers=(list[customer], Field(max_length=max_batch)),
    )
    return RequestModels(customer, batch, _openapi_examples(spec, examples), max_batch)


def _openapi_examples(spec: SegmentationSpec, examples: list[Example]) -> dict[str, dict[str, Any]]:
    named = {
        f"segment-{i}": {"summary": ex.summary, "value": ex.customer}
        for i, ex in enumerate(examples)
    }
    if examples and len(spec.cluster_features) > 1:
        dropped = spec.cluster_features[-1].name
        value = {k: v for k, v in examples[0].customer.items() if k != dropped}
        named["imputed"] = {"summary": f"{dropped} missing: imputed", "value": value}
    return named
