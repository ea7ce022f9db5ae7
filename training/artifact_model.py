"""The fitted pipeline as a file: skops, an explicit list of trusted types, nothing else.

Loading a model never runs code from the model file. skops stores objects as a JSON schema
plus numpy arrays (no pickle); before anything is built, every type the file names is
checked against :data:`TRUSTED_TYPES` (stricter than skops' own defaults, which trust every
scikit-learn estimator), and skops itself is given the same list. The only pickle ever
read is a format-1 artifact's, by ``segments migrate``, on the operator's say-so.

**To add a type** to a pipeline (a new estimator, a ``FunctionTransformer(np.log1p)``),
add it to :data:`TRUSTED_TYPES`: the class itself, or a ``"module.name"`` string for a
function (``"numpy.log1p"``). Training refuses to publish a pipeline whose file names a
type outside the list, with a message that names the type, so a missing entry shows up at
the first training run, never in the service.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from training.artifact_store import ArtifactError

__all__ = [
    "TRUSTED_TYPES",
    "dump_pipeline",
    "load_legacy_pipeline",
    "load_pipeline",
    "trusted_names",
    "types_in",
]

TRUSTED_TYPES: tuple[type | str, ...] = (
    # What skops writes for any object: containers, JSON scalars, numpy arrays and dtypes.
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.slice",
    "builtins.str",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.int32",
    # The pipeline of training/pipeline.py.
    Pipeline,
    ColumnTransformer,
    SimpleImputer,
    StandardScaler,
    OneHotEncoder,
    KMeans,
    # Spec transforms (`transform = "log1p"`) and the Gaussian-mixture servable.
    FunctionTransformer,
    "numpy.log1p",
    GaussianMixture,
)


def _name(entry: type | str) -> str:
    return entry if isinstance(entry, str) else f"{entry.__module__}.{entry.__qualname__}"


def trusted_names() -> frozenset[str]:
    """:data:`TRUSTED_TYPES` as the ``module.name`` strings a skops file uses."""
    return frozenset(_name(entry) for entry in TRUSTED_TYPES)


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        module, name = node.get("__module__"), node.get("__class__")
        if isinstance(module, str) and isinstance(name, str):
            yield f"{module}.{name}"
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def types_in(data: bytes) -> set[str]:
    """Every type (and function) a skops file names, read from its schema only."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ArtifactError(f"not a skops file ({type(exc).__name__})", "untrusted") from None
    return set(_walk(schema))


def _check_trusted(data: bytes) -> None:
    untrusted = sorted(types_in(data) - trusted_names())
    if untrusted:
        raise ArtifactError(
            f"untrusted types {', '.join(untrusted[:5])}: refused (the trusted list is "
            "TRUSTED_TYPES in training/artifact_model.py)",
            "untrusted",
        )


def dump_pipeline(pipeline: Pipeline) -> bytes:
    """The skops bytes of ``pipeline``; refuses one the loader would refuse."""
    import skops.io as sio  # local: importing skops imports every scikit-learn estimator

    data: bytes = sio.dumps(pipeline)
    _check_trusted(data)
    return data


def load_pipeline(data: bytes) -> Pipeline:
    """Build the pipeline of a skops file's bytes, after checking every type it names."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    _check_trusted(data)
    try:
        pipeline = sio.loads(data, trusted=sorted(trusted_names()))
    except (UntrustedTypesFoundException, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"refused by skops: {type(exc).__name__}", "untrusted") from None
    except (ValueError, TypeError, KeyError, AttributeError, ImportError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArtifactError(f"cannot load the model: {first_line}") from None
    if not isinstance(pipeline, Pipeline):
        raise ArtifactError("not a scikit-learn Pipeline")
    return pipeline


def load_legacy_pipeline(data: bytes) -> Pipeline:
    """Unpickle a format-1 ``pipeline.joblib``: runs code from the file, so only for
    ``segments migrate`` on an artifact the operator trusts, after its checksums."""
    import joblib

    pipeline = joblib.load(io.BytesIO(data))
    if not isinstance(pipeline, Pipeline):
        raise ArtifactError("not a scikit-learn Pipeline")
    return pipeline
