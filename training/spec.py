"""The segmentation spec: which columns a customer file has and what each one means.

A spec is a TOML file (bundled: ``mall``, ``mall-full``; or any path). It is the one
definition of the columns used by cleaning, the sklearn pipeline, the service's request
models and batch validation, and it is copied into every artifact's manifest.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from training.recipe import TransactionsSpec

__all__ = [
    "FeatureSpec",
    "IdSpec",
    "SegmentationSpec",
    "SpecError",
    "load_spec",
    "normalise_header",
]

BUNDLED_SPECS = ("mall", "mall-full", "rfm")
_LEVEL_WORDS = {"low": "Low", "mid": "Mid", "high": "High"}


class SpecError(ValueError):
    """A spec file is missing, not TOML, or breaks the spec schema."""


def normalise_header(header: str) -> str:
    """Lower-case a column header and squeeze everything but letters and digits to ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(header).strip().lower()).strip("_")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    aliases: tuple[str, ...] = ()
    description: str = "Customer identifier."
    max_length: int = Field(128, ge=1, le=4096)


class LevelWords(_Strict):
    low: str
    mid: str
    high: str


class FeatureSpec(_Strict):
    """One column of the customer file.

    ``role="cluster"`` features take part in the distance; ``role="profile"`` features are
    only described per segment. ``business`` marks the feature that measures spending or
    income, which drives the suggested marketing action.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["numeric", "categorical"]
    role: Literal["cluster", "profile"]
    label: str | None = None
    unit: str | None = None
    description: str = ""
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    business: Literal["income", "spending"] | None = None
    words: LevelWords | None = None
    transform: Literal["log1p"] | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> FeatureSpec:
        if self.transform is not None and (self.kind != "numeric" or self.role != "cluster"):
            raise ValueError("'transform' applies to numeric cluster features only")
        if self.transform == "log1p" and (self.min is None or self.min < 0):
            raise ValueError("transform 'log1p' needs min >= 0")
        if self.kind == "categorical":
            if not self.allowed:
                raise ValueError("a categorical feature needs a non-empty 'allowed' list")
            if self.min is not None or self.max is not None:
                raise ValueError("'min'/'max' apply to numeric features only")
        elif self.allowed is not None:
            raise ValueError("'allowed' applies to categorical features only")
        elif self.role == "cluster" and (self.min is None or self.max is None):
            # Unbounded inputs overflow the squared distances (1e200 ** 2 = inf).
            raise ValueError("a numeric cluster feature needs both 'min' and 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min={self.min} should be <= max={self.max}")
        return self

    @property
    def display(self) -> str:
        return self.label or self.name.replace("_", " ")

    def level_word(self, level: Literal["low", "mid", "high"]) -> str:
        if self.words is not None:
            return str(getattr(self.words, level))
        return f"{_LEVEL_WORDS[level]} {self.display}"


class SegmentationSpec(_Strict):
    name: str
    description: str = ""
    id: IdSpec
    features: tuple[FeatureSpec, ...] = Field(min_length=1)
    transactions: TransactionsSpec | None = None

    @model_validator(mode="after")
    def _check_features(self) -> SegmentationSpec:
        names = [self.id.name, *(f.name for f in self.features)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"column names must be unique; repeated: {', '.join(dupes)}")
        if not self.cluster_features:
            raise ValueError("at least one feature needs role = 'cluster'")
        return self

    @property
    def cluster_features(self) -> tuple[FeatureSpec, ...]:
        return tuple(f for f in self.features if f.role == "cluster")

    @property
    def numeric_cluster(self) -> list[str]:
        return [f.name for f in self.cluster_features if f.kind == "numeric"]

    @property
    def transformed(self) -> list[str]:
        """Numeric cluster features with a ``transform``, in spec order."""
        return [f.name for f in self.cluster_features if f.transform is not None]

    @property
    def categorical_cluster(self) -> list[str]:
        return [f.name for f in self.cluster_features if f.kind == "categorical"]

    def feature(self, name: str) -> FeatureSpec:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def header_map(self) -> dict[str, str]:
        """Map every normalised alias (and each canonical name) to its canonical column."""
        mapping: dict[str, str] = {}
        for name, aliases in [(self.id.name, self.id.aliases)] + [
            (f.name, f.aliases) for f in self.features
        ]:
            for alias in (name, *aliases):
                mapping[normalise_header(alias)] = name
        return mapping


def _format_error(source: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    key = ".".join(
        f"[{part}]" if isinstance(part, int) else str(part) for part in first["loc"]
    ).replace(".[", "[")
    return f"spec {source}: {key or '(top level)'}: {first['msg']}"


def parse_spec(data: dict[str, Any], source: str = "<dict>") -> SegmentationSpec:
    """Validate a spec already parsed from TOML (or copied from a manifest)."""
    try:
        return SegmentationSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_format_error(source, exc)) from None


def load_spec(name_or_path: str | Path) -> SegmentationSpec:
    """Load a bundled spec by name (``mall``, ``mall-full``) or a TOML spec file by path."""
    text: str
    source = str(name_or_path)
    if str(name_or_path) in BUNDLED_SPECS:
        text = (resources.files("training") / "specs" / f"{name_or_path}.toml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise SpecError(
                f"spec {source!r} is neither a bundled spec ({', '.join(BUNDLED_SPECS)}) "
                "nor an existing file"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"spec {source}: cannot read it as UTF-8 text: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec {source}: not valid TOML: {exc}") from None
    return parse_spec(data, source)
