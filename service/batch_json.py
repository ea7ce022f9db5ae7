"""JSON batches in C: the body decoded into structs typed from the spec, the answer encoded
from the scorer's columns.

Both ends of a JSON ``POST /assign/batch`` were per-customer Python work: a dict per
customer parsed, a dict per answer built and serialised (about 18 of the 22 ms of a
10,000-customer batch). msgspec decodes the body into structs typed from the spec (numbers
as JSON numbers, never ``true`` or ``"85"``, no unknown field, at most ``max_batch``
customers) and encodes the answers from plain columns. The decoder only opens the fast
path: whatever it refuses, and whatever the column checks of :mod:`training.columns`
refuse, goes through the request models, which name the row and field of every problem
(:mod:`service.validation`: one place builds the errors).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import attrgetter
from typing import Annotated, Any

import msgspec
import numpy as np

from training.columns import CustomerColumns, ids_text, row_validity
from training.scoring import RECORD_FIELDS, Assignments
from training.spec import SegmentationSpec

__all__ = ["ANSWER_FIELDS", "BatchDecoder", "encode_batch"]

# One JSON answer: the scorer's record, then the campaigns (the OpenAPI model
# service.schemas.AssignmentRecord has these fields in this order; a test holds them equal).
ANSWER_FIELDS = (*RECORD_FIELDS, "campaigns")
_Answer = msgspec.defstruct("Answer", [(name, Any) for name in ANSWER_FIELDS], gc=False)
_Answers = msgspec.defstruct(
    "Answers", [("model_version", str), ("assignments", list[Any])], gc=False
)
_ENCODER = msgspec.json.Encoder()


class BatchDecoder:
    """Decode ``{"customers": [...]}`` into checked columns, or None (then the request
    models give the 422, or accept what only they can read)."""

    def __init__(self, spec: SegmentationSpec, max_batch: int) -> None:
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [(spec.id.name, str | int)]
        for feature in spec.features:
            # An absent number decodes as NaN (JSON has no NaN: nothing sent can be one), so
            # a column without nulls becomes a float array at once.
            numeric = feature.kind == "numeric"
            missing = math.nan if numeric else None
            fields.append((feature.name, (float if numeric else str) | None, missing))
        customer = msgspec.defstruct("Customer", fields, forbid_unknown_fields=True, gc=False)
        customers = Annotated[list[customer], msgspec.Meta(max_length=max_batch)]  # type: ignore[valid-type]
        envelope = msgspec.defstruct(
            "CustomerBatch", [("customers", customers)], forbid_unknown_fields=True
        )
        self._decoder = msgspec.json.Decoder(envelope)
        self._spec = spec
        self._id = attrgetter(spec.id.name)
        self._get = {f.name: attrgetter(f.name) for f in spec.features}

    def columns(self, body: bytes) -> CustomerColumns | None:
        """The customers of ``body`` as checked columns, or None if anything is off."""
        try:
            customers = self._decoder.decode(body).customers  # type: ignore[attr-defined]
        except msgspec.DecodeError:  # not JSON, or not of the spec's shape
            return None
        n = len(customers)
        ids = ids_text(list(map(self._id, customers)))
        if ids is None:
            return None
        columns: dict[str, Any] = {}
        for feature in self._spec.features:
            get = self._get[feature.name]
            if feature.kind != "numeric":
                columns[feature.name] = list(map(get, customers))
                continue
            try:
                columns[feature.name] = np.fromiter(map(get, customers), np.float64, n)
            except TypeError:  # an explicit null: missing, as an absent field
                columns[feature.name] = np.array(list(map(get, customers)), np.float64)
        valid, values = row_validity(self._spec, ids, columns)
        return CustomerColumns(ids, values) if valid.all() else None


def encode_batch(
    version: str,
    ids: Sequence[str],
    result: Assignments,
    names: Sequence[str],
    campaigns: Sequence[list[dict[str, Any]]],
) -> bytes:
    """The JSON answer ``{model_version, assignments: [...]}`` of a scored batch."""
    answers = list(map(_Answer, *result.columns(ids, names), campaigns))
    return _ENCODER.encode(_Answers(version, answers))
