"""The training run: load -> clean -> choose k -> fit -> profile -> publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from training import artifact
from training.artifact import Manifest, Profile
from training.comparison import ComparisonResult
from training.data import CleanResult, clean, load_table
from training.features import FeatureResult
from training.lineage import PreviousModel, build_lineage, fresh_lineage, load_previous
from training.manifest import Algorithm, CovarianceType, Lineage, Recipe
from training.pipeline import (
    DEFAULT_N_INIT,
    DEFAULT_RANDOM_STATE,
    GMM_N_INIT,
    build_pipeline,
)
from training.profiling import load_names, profile_segments
from training.scoring import Scorer
from training.spec import SegmentationSpec, load_spec
from training.train_checks import TrainingError, check_cleaned, check_distinct
from training.train_manifest import Fitted, base_manifest, finish_manifest
from training.train_model import Fit, compare_served, fit_here, fit_served, sweep

if TYPE_CHECKING:
    import pandas as pd

    from training.report.inputs import ReportInputs

__all__ = ["TrainOptions", "TrainResult", "TrainingError", "train"]


@dataclass(frozen=True)
class TrainOptions:
    data: Path
    spec: str = "mall"
    k: int | None = None
    k_min: int = 2
    k_max: int = 10
    models_dir: Path = Path("models")
    names: Path | None = None
    min_share: float = 0.05
    n_init: int | None = None  # None: 10 for K-Means, 3 for a Gaussian mixture
    random_state: int = DEFAULT_RANDOM_STATE
    report: bool = True
    previous: str | None = None  # match segment ids to this version (default: LATEST)
    no_previous: bool = False  # start a new lineage: ids 0..k-1
    algorithm: Algorithm = "kmeans"
    covariance_type: CovarianceType = "full"
    compare: bool = True

    @property
    def model_n_init(self) -> int:
        if self.n_init is not None:
            return self.n_init
        return GMM_N_INIT if self.algorithm == "gmm" else DEFAULT_N_INIT

    transactions: bool = False  # ``data`` is a transactions log (features made first)
    as_of: date | None = None

    def k_range(self) -> range:
        if self.k_min < 2 or self.k_max < self.k_min:
            raise TrainingError(
                f"k range {self.k_min}..{self.k_max} is invalid: need 2 <= k_min <= k_max"
            )
        if self.k is not None and self.k < 2:
            raise TrainingError(f"--k {self.k} is invalid: need k >= 2")
        return range(self.k_min, max(self.k_max, self.k or 0) + 1)


@dataclass
class TrainResult:
    """Everything a training run produced; the report is drawn from this."""

    path: Path
    spec: SegmentationSpec
    manifest: Manifest
    profile: Profile
    cleaning: CleanResult
    pipeline: Pipeline
    X: np.ndarray
    labels: np.ndarray
    distances: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    comparison: ComparisonResult | None = None
    transactions: FeatureResult | None = None  # how the log became the customer table

    def report_inputs(self) -> ReportInputs:
        """What the report is drawn from (train builds it: the report never imports train)."""
        from training.report.inputs import ReportInputs

        return ReportInputs.from_fit(
            self.spec,
            self.manifest,
            self.profile,
            self.cleaning,
            self.pipeline,
            self.X,
            self.labels,
            self.comparison,
        )

    @property
    def segment_ids(self) -> np.ndarray:
        """Stable id of each fitted label (``training.lineage``)."""
        ids = self.manifest.lineage.segment_ids or range(self.manifest.n_clusters)
        return np.asarray(ids, dtype=np.int64)


@contextmanager
def _timed(timings: dict[str, float], stage: str, *, add: bool = False) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - start + (timings.get(stage, 0.0) if add else 0.0)


def _lineage(
    options: TrainOptions,
    previous: PreviousModel | None,
    spec: SegmentationSpec,
    fitted: Fitted,
    frame: pd.DataFrame,
    k: int,
) -> Lineage:
    sizes = np.bincount(fitted.labels, minlength=k)
    if previous is None:
        why = "--no-previous" if options.no_previous else "first model in this models folder"
        return fresh_lineage(k, sizes, f"fresh ids 0..{k - 1}: {why}")
    new = Scorer.from_pipeline(fitted.pipeline, spec, [np.inf] * k)
    return build_lineage(previous, new, frame[spec.id.name].array, fitted.labels)


@dataclass(frozen=True)
class Loaded:
    """The raw customer table an engine read (or made from a transactions log)."""

    raw: pd.DataFrame
    data_hash: str  # the input's fingerprint
    spec: SegmentationSpec  # the spec without the features the log cannot give
    transactions: FeatureResult | None = None  # how the log became the table
    recipe: Recipe | None = None


Load = Callable[[TrainOptions, SegmentationSpec], Loaded]


def train(
    options: TrainOptions,
    *,
    on_stage: Callable[[str], None] | None = None,
    on_k: Callable[[int], None] | None = None,
    load: Load | None = None,
    fit: Fit = fit_here,
) -> TrainResult:
    """Run a whole training and publish its artifact; returns what it made.

    ``load`` and ``fit`` are the engine's: this process by default; the Dask engine
    (:mod:`training.dask_train`) reads partitions and fits the final K-Means on a cluster.
    """
    timings: dict[str, float] = {}
    say = on_stage or (lambda _stage: None)
    k_range = options.k_range()
    names = load_names(options.names) if options.names else None
    with _timed(timings, "lineage"):  # before the long stages: a bad --previous fails fast
        previous = (
            None if options.no_previous else load_previous(options.models_dir, options.previous)
        )
    say("load")
    with _timed(timings, "load"):
        loaded = (load or _load)(options, load_spec(options.spec))
    spec = loaded.spec
    say("clean")
    with _timed(timings, "clean"):
        cleaning, X = _clean(loaded, options, k_range)
    frame = cleaning.cleaned
    say("sweep")
    with _timed(timings, "sweep"):
        selection = sweep(options, X, k_range, on_k)
    say("fit")
    with _timed(timings, "fit"):
        fitted = fit_served(options, spec, frame, X, selection.chosen_k, fit)
    say("lineage")
    with _timed(timings, "lineage", add=True):
        lineage = _lineage(options, previous, spec, fitted, frame, selection.chosen_k)
    say("profile")
    with _timed(timings, "profile"):
        profile = _profile(frame, fitted.labels, spec, names, previous, lineage)
    comparison = None
    if options.compare:
        say("compare")
        with _timed(timings, "compare"):
            comparison = compare_served(options, X, fitted.labels, selection.chosen_k)
    manifest = base_manifest(options, spec, cleaning, loaded.data_hash, selection)
    log = (loaded.transactions, loaded.recipe) if loaded.recipe and loaded.transactions else None
    finish_manifest(manifest, fitted, lineage, comparison, log, frame[spec.id.name])
    result = TrainResult(
        Path(), spec, manifest, profile, cleaning, fitted.pipeline, X, fitted.labels,
        fitted.distances, timings, comparison, loaded.transactions,
    )  # fmt: skip
    say("publish")
    with _timed(timings, "publish"):
        result.path = artifact.publish(
            options.models_dir, manifest, lambda folder: _write_files(folder, result, options)
        )
    timings["publish"] -= timings.get("report", 0.0)  # the report is drawn inside publish
    return result


def _clean(loaded: Loaded, options: TrainOptions, k_range: range) -> tuple[CleanResult, np.ndarray]:
    """The cleaned table, checked for ``k_range``, and its features as the model sees them."""
    cleaning = clean(loaded.raw, loaded.spec)
    check_cleaned(cleaning, loaded.spec, k_range)
    base = build_pipeline(loaded.spec, 2, random_state=options.random_state)
    X = base.named_steps["preprocess"].fit_transform(cleaning.cleaned)
    check_distinct(X, k_range)
    return cleaning, X


def _profile(
    frame: pd.DataFrame,
    labels: np.ndarray,
    spec: SegmentationSpec,
    names: Mapping[str, Mapping[str, str]] | None,
    previous: PreviousModel | None,
    lineage: Lineage,
) -> Profile:
    """Each segment in business words; names kept from the previous model where its id is."""
    inherited = previous.lineage.names if previous else {}
    inherited = {k: v for k, v in inherited.items() if int(k) in lineage.kept}
    return profile_segments(
        frame,
        labels,
        spec,
        names,
        segment_ids=lineage.segment_ids,
        inherited=inherited,
        applied=lineage.names,
    )


def _load(options: TrainOptions, spec: SegmentationSpec) -> Loaded:
    """The raw customer table: read from the file, or made from a transactions log."""
    if not options.transactions:
        raw = load_table(options.data)  # first: its errors name the problem
        return Loaded(raw, artifact.sha256_file(Path(options.data)), spec)
    from training.behaviour import table_for_training

    frame, used, result, recipe = table_for_training(Path(options.data), spec, options.as_of)
    return Loaded(frame, artifact.sha256_file(Path(options.data)), used, result, recipe)


def _write_files(folder: Path, result: TrainResult, options: TrainOptions) -> None:
    artifact.write_model_files(
        folder,
        result.pipeline,
        result.profile,
        result.cleaning.cleaned,
        result.segment_ids[result.labels],
        result.cleaning.rejected,
        None if result.transactions is None else result.transactions.rejected,
    )
    if options.report:
        from training.report import write_report  # matplotlib: only when a report is wanted

        with _timed(result.timings, "report"):
            write_report(folder, result.report_inputs())
