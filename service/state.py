"""The model being served: loaded, verified, and held in one swappable reference.

A :class:`LoadedModel` is immutable. :class:`ModelHolder` keeps the current one; a (re)load
builds a whole new one and then swaps the reference, so a request sees one model from
start to end, and a failed load keeps serving what was there.

A reload candidate is loaded and verified (checksums, library versions, scorer ==
``Pipeline.predict``), must keep the serving model's feature schema (the request contract:
a schema change needs a restart), and is warmed with one real assignment before the swap.
A refused candidate is remembered and not tried again until ``LATEST`` names another
version or a reload is forced.

The checks beyond verification live in :mod:`service.candidate`.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from anyio import CapacityLimiter, to_thread
from pydantic import BaseModel, ValidationError

from service.batch_json import BatchDecoder
from service.candidate import check_same_schema, refusal_kind
from service.config import Settings
from service.drift import DriftBook, DriftLayout, DriftRecorder
from service.examples import synthetic_customers
from service.request_models import RequestModels, build_request_models
from training.artifact import (
    Artifact,
    ArtifactError,
    load_artifact,
    resolve_version,
)
from training.scoring import Assignments, Scorer, load_scorer
from training.spec import SegmentationSpec

__all__ = [
    "LoadedModel",
    "ModelEvents",
    "ModelHolder",
    "NoClusterFeatureError",
    "Refusal",
    "ReloadOutcome",
    "load_model",
]

logger = logging.getLogger(__name__)


class NoClusterFeatureError(ValueError):
    """Customers (by position) without any cluster feature: nothing to assign them by."""

    def __init__(self, rows: list[int]) -> None:
        super().__init__(f"no cluster feature in rows {rows}")
        self.rows = rows


@dataclass(frozen=True)
class LoadedModel:
    """A verified artifact with everything a request needs, derived once at load."""

    artifact: Artifact
    scorer: Scorer
    spec: SegmentationSpec
    requests: RequestModels
    decoder: BatchDecoder  # JSON batches straight into columns (service.batch_json)
    segment_names: tuple[str, ...]  # indexed by segment id ("" for ids not in this model)
    drift: DriftRecorder | None = None  # counts what it scores (service.drift)

    @property
    def version(self) -> str:
        return self.artifact.version

    @property
    def report_path(self) -> Path | None:
        """The report's HTML file, when this artifact has one."""
        return self.artifact.report_path

    def figure_path(self, name: str) -> Path | None:
        """A figure of the report, only if the manifest lists it (no path can escape)."""
        return self.artifact.figure_path(name)

    def assign(self, customers: Sequence[BaseModel]) -> list[dict[str, Any]]:
        """Assign validated customers; one assignment record each, in order.

        Raises :class:`NoClusterFeatureError` when a customer has no cluster feature.
        """
        columns = {name: [getattr(c, name) for c in customers] for name in self.scorer_columns}
        return self.assign_columns([getattr(c, self.spec.id.name) for c in customers], columns)

    def assign_columns(
        self, ids: Sequence[str], columns: Mapping[str, Sequence[Any] | np.ndarray]
    ) -> list[dict[str, Any]]:
        """Assign customers given as columns (see :meth:`assign`)."""
        return self.score(columns).records(ids, self.segment_names)

    def score(self, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> Assignments:
        """The scorer's arrays for customers given as columns (see :meth:`assign`)."""
        result = self.scorer.assign(columns)
        masks = list(result.imputed.values())
        if len(result.segment) == 1:  # one customer: no numpy calls on one-element arrays
            if masks and all(mask[0] for mask in masks):
                raise NoClusterFeatureError([0])
        elif masks and (empty := np.flatnonzero(np.logical_and.reduce(masks))).size:
            raise NoClusterFeatureError(empty.tolist())
        if self.drift is not None:
            self.drift.record(result.segment, result.atypical, columns)
        return result

    @property
    def scorer_columns(self) -> tuple[str, ...]:
        return (*self.scorer.numeric, *self.scorer.categorical)

    def warm(self) -> None:
        """One real assignment through the request path, so the first request pays nothing."""
        example = next(iter(self.requests.examples.values()), None)
        if example is not None:
            customer = example["value"]
        else:  # no complete training row among the first ones: the training centre will do
            customer = {self.spec.id.name: "warm-up"}
            customer |= dict(zip(self.scorer.numeric, self.scorer.mean.tolist(), strict=True))
            customer |= dict(
                zip(self.scorer.categorical, self.scorer.fill_categorical, strict=True)
            )
        batch = self.requests.batch.model_validate_json(json.dumps({"customers": [customer]}))
        self.assign(batch.customers)  # type: ignore[attr-defined]

    @property
    def drift_layout(self) -> DriftLayout:
        """What the drift buckets count: its segment ids and numeric cluster features."""
        ids = tuple(s.segment_id for s in self.artifact.profile.segments)
        return DriftLayout(segment_ids=ids, features=tuple(self.scorer.numeric))


def _describe(exc: Exception) -> str:
    """Why a model was refused, fit for logs and /health/ready: never an input value."""
    if isinstance(exc, ValidationError):  # its str() quotes input values: customer data
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(map(str, first["loc"]))
        return f"{exc.title} validation failed at {where}: {first['msg']}"
    return str(exc) if isinstance(exc, ArtifactError) else f"{type(exc).__name__}: {exc}"


def load_model(settings: Settings) -> LoadedModel:
    """Load, verify and prepare the configured artifact; raise ``ArtifactError`` if unfit."""
    artifact = load_artifact(settings.models_dir.resolve(), settings.model_version)
    scorer = load_scorer(artifact)
    spec = artifact.spec
    ids = [s.segment_id for s in artifact.profile.segments]
    expected = artifact.manifest.lineage.segment_ids or list(range(scorer.n_clusters))
    if ids != expected:
        raise ArtifactError(
            f"{artifact.path}: profile.json describes segments {ids}, the model has {expected}"
        )
    examples = synthetic_customers(artifact.profile, spec, scorer)
    return LoadedModel(
        artifact=artifact,
        scorer=scorer,
        spec=spec,
        requests=build_request_models(spec, examples, settings.max_batch),
        decoder=BatchDecoder(spec, settings.max_batch),
        segment_names=tuple(artifact.profile.names_by_id),
    )


@dataclass(frozen=True)
class Refusal:
    """A candidate that was not swapped in, and why (``version`` None: LATEST unreadable)."""

    version: str | None
    reason: str
    kind: str


@dataclass(frozen=True)
class ReloadOutcome:
    """What one reload did: ``loaded`` (swapped), ``unchanged`` (already serving the
    candidate), ``skipped`` (refused before; not forced), ``refused`` (kept the old one)."""

    status: Literal["loaded", "unchanged", "skipped", "refused"]
    candidate: str | None
    model_version: str | None
    refusal: Refusal | None = None


class ModelEvents(Protocol):
    """Who wants to know about swaps and refusals (the metrics)."""

    def swapped(self, old: LoadedModel | None, new: LoadedModel) -> None: ...

    def refused(self, refusal: Refusal) -> None: ...


class ModelHolder:
    """The one reference to the model being served, why there is none, what was refused.

    Every (re)load goes through :meth:`reload`, one at a time per process.
    """

    def __init__(
        self,
        settings: Settings,
        events: ModelEvents | None = None,
        drift: DriftBook | None = None,
    ) -> None:
        self.settings = settings
        self.events = events
        self.drift = drift
        self.current: LoadedModel | None = None
        self.error = "the model has not been loaded yet"
        self.refused: Refusal | None = None
        # What was tried last, not retried unforced: a candidate version, or LATEST's error.
        self._tried: tuple[Literal["version", "latest_error"], str] | None = None
        self._lock = threading.Lock()

    def load(self) -> LoadedModel | None:
        """Load the configured model and swap it in; on failure keep the current one."""
        return self.current if self.reload(force=True).status == "loaded" else None

    async def reload_async(self, *, force: bool = False) -> ReloadOutcome:
        """:meth:`reload` in a thread of its own: never the event loop, never a request's."""
        job = functools.partial(self.reload, force=force)
        # A limiter of its own: a reload never waits behind request threads for a token
        # (self._lock is what serialises reloads).
        return await to_thread.run_sync(job, limiter=CapacityLimiter(1))

    def reload(self, *, force: bool = False) -> ReloadOutcome:
        """Swap in the version LATEST (or SEG_MODEL_VERSION) names, if it passes every check.

        Unless ``force``, the version being served and the last refused one are left alone.
        """
        with self._lock:
            current = self.current
            serving = current.version if current else None
            try:
                candidate = resolve_version(
                    self.settings.models_dir.resolve(), self.settings.model_version
                )
            except Exception as exc:  # no LATEST, unreadable LATEST: keep what is served
                if not force and self._tried == ("latest_error", str(exc)):
                    return ReloadOutcome("skipped", None, serving)
                self._tried = ("latest_error", str(exc))
                return self._refuse(None, exc, serving)
            if not force and candidate == serving:
                return ReloadOutcome("unchanged", candidate, serving)
            if not force and self._tried == ("version", candidate):
                return ReloadOutcome("skipped", candidate, serving, self.refused)
            self._tried = ("version", candidate)
            try:
                model = self._prepare(candidate, current)
            except Exception as exc:
                return self._refuse(candidate, exc, serving)
            self._swap(current, model)
            return ReloadOutcome("loaded", candidate, model.version)

    def _prepare(self, candidate: str, current: LoadedModel | None) -> LoadedModel:
        model = load_model(self.settings.model_copy(update={"model_version": candidate}))
        if current is not None:
            check_same_schema((current.version, current.spec), (model.version, model.spec))
        model.warm()
        if self.drift is not None:  # after the warm-up: only real traffic is counted
            model = replace(model, drift=self.drift.recorder(model.version, model.drift_layout))
        return model

    def _swap(self, old: LoadedModel | None, new: LoadedModel) -> None:
        self.current, self.error, self.refused = new, "", None
        logger.info("serving model %s (spec %s)", new.version, new.spec.name)
        if self.events is not None:
            self.events.swapped(old, new)

    def _refuse(self, candidate: str | None, exc: Exception, serving: str | None) -> ReloadOutcome:
        # Whatever is wrong with a candidate, the process keeps serving liveness (and the
        # current model, if any); readiness says why.
        expected = isinstance(exc, ArtifactError | ValidationError)
        reason = _describe(exc)
        self.error = self._public(reason)
        self.refused = Refusal(candidate, self.error, refusal_kind(exc))
        if serving is None:
            logger.warning("model not loaded: %s", reason, exc_info=not expected)
        else:
            logger.warning(
                "model %s refused, still serving %s: %s",
                candidate,
                serving,
                reason,
                exc_info=not expected,
            )
        if self.events is not None:
            self.events.refused(self.refused)
        return ReloadOutcome("refused", candidate, serving, self.refused)

    def _public(self, reason: str) -> str:
        # Where the models folder lives is the server's business, not the client's.
        return reason.replace(str(self.settings.models_dir.resolve()), "SEG_MODELS_DIR")
