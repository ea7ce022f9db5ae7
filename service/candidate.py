"""The checks a reload candidate passes after verification, before it is swapped in.

Verification (checksums, library versions, scorer == ``Pipeline.predict``) is
:func:`service.state.load_model`'s. Here: the candidate must keep the serving model's
feature schema (the request contract; a change needs a restart, so that every worker and
every client see one contract). This module knows specs, not loaded models: ``service.state``
imports it, never the reverse.

Exceptions::

    ArtifactError (training.artifact)
     └── FeatureSchemaError      the candidate's request fields differ from the serving model's
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from training.artifact import ArtifactError

if TYPE_CHECKING:
    from training.spec import SegmentationSpec

__all__ = ["FeatureSchemaError", "check_same_schema", "feature_schema", "refusal_kind"]


class FeatureSchemaError(ArtifactError):
    """A candidate whose request fields differ from those of the serving model."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "schema")


def feature_schema(spec: SegmentationSpec) -> dict[str, dict[str, Any]]:
    """What a request may carry, per field: the contract a reload must keep."""
    schema: dict[str, dict[str, Any]] = {spec.id.name: {"kind": "id"}}
    for f in spec.features:
        schema[f.name] = {
            "kind": f.kind,
            "role": f.role,
            "unit": f.unit,
            "min": f.min,
            "max": f.max,
            "allowed": list(f.allowed) if f.allowed is not None else None,
        }
    return schema


def check_same_schema(
    serving: tuple[str, SegmentationSpec], candidate: tuple[str, SegmentationSpec]
) -> None:
    """Raise :class:`FeatureSchemaError` naming every difference of the request fields.

    ``serving`` and ``candidate`` are (model version, spec).
    """
    old, new = feature_schema(serving[1]), feature_schema(candidate[1])
    changes = [f"{name} added" for name in new if name not in old]
    changes += [f"{name} removed" for name in old if name not in new]
    for name in (n for n in old if n in new and old[n] != new[n]):
        changes += [
            f"{name}.{key} {old[name][key]!r} -> {new[name][key]!r}"
            for key in old[name]
            if old[name][key] != new[name].get(key)
        ]
    if changes:
        raise FeatureSchemaError(
            f"model {candidate[0]}: feature schema differs from the serving model "
            f"{serving[0]} ({'; '.join(changes)}); a schema change needs a restart"
        )


def refusal_kind(exc: Exception) -> str:
    """A small, fixed label for metrics (the full reason is in /health/ready)."""
    return exc.kind if isinstance(exc, ArtifactError) else "error"
