"""The training run: load -> clean -> choose k -> fit -> profile -> publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from training import artifact
from training.artifact import DataSummary, Manifest, Profile, Selection
from training.comparison import ComparisonResult, compare
from training.data import CleanResult, clean, load_table
from training.features import FeatureResult
from training.lineage import PreviousModel, build_lineage, fresh_lineage, load_previous
from training.manifest import Algorithm, CovarianceType, FinalFit, Lineage, Recipe
from training.pipeline import (
    DEFAULT_N_INIT,
    DEFAULT_RANDOM_STATE,
    GMM_N_INIT,
    build_pipeline,
    model_step,
)
from training.profiling import load_names, profile_segments
from training.scoring import Scorer
from training.selection import select_k
from training.spec import SegmentationSpec, load_spec

if TYPE_CHECKING:
    import pandas as pd

    from training.report.inputs import ReportInputs

__all__ = ["TrainOptions", "TrainResult", "TrainingError", "train"]

MIN_ROWS_PER_K = 2
MIN_ROWS = 20


class TrainingError(ValueError):
    """Training cannot go on with these options or this data."""


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
    pipeline: Pipeline,
    frame: pd.DataFrame,
    labels: np.ndarray,
    k: int,
) -> Lineage:
    sizes = np.bincount(labels, minlength=k)
    if previous is None:
        why = "--no-previous" if options.no_previous else "first model in this models folder"
        return fresh_lineage(k, sizes, f"fresh ids 0..{k - 1}: {why}")
    new = Scorer.from_pipeline(pipeline, spec, [np.inf] * k)
    return build_lineage(previous, new, frame[spec.id.name].array, labels)


def _percentiles(
    distances: np.ndarray, labels: np.ndarray, ids: list[int]
) -> dict[str, dict[str, float]]:
    out = {}  # keyed by stable segment id
    for seg, sid in enumerate(ids):
        d = distances[labels == seg]
        qs = np.quantile(d, [0.5, 0.9, 0.95, 0.99]) if len(d) else [np.inf] * 4
        out[str(sid)] = {
            "p50": float(qs[0]),
            "p90": float(qs[1]),
            "p95": float(qs[2]),
            "p99": float(qs[3]),
            "max": float(d.max()) if len(d) else float("inf"),
        }
    return out


def _check_rows(cleaning: CleanResult, k_range: range) -> None:
    needed = max(MIN_ROWS, MIN_ROWS_PER_K * k_range.stop)
    if cleaning.rows_kept < needed:
        raise TrainingError(
            f"too few valid rows: {cleaning.rows_kept} of {cleaning.rows_read} remain after "
            f"cleaning, need at least {needed} for k in {k_range.start}..{k_range.stop - 1}"
        )


def _check_columns(cleaning: CleanResult, spec: SegmentationSpec) -> None:
    empty = [f.name for f in spec.features if cleaning.missing[f.name] == cleaning.rows_kept]
    if empty:
        raise TrainingError(
            f"column {empty[0]!r} has no valid value in any of the {cleaning.rows_kept} kept rows"
        )


def _check_distinct(X: np.ndarray, k_range: range) -> None:
    k_max = k_range.stop - 1
    # A million rows rarely need the full np.unique: a head with enough distinct rows will do.
    distinct = len(np.unique(X[:20_000], axis=0))
    if distinct < k_max:
        distinct = len(np.unique(X, axis=0))
    if distinct < k_max:
        raise TrainingError(
            f"only {distinct} distinct customers in the cluster features, need at least "
            f"{k_max} for k in {k_range.start}..{k_max}"
        )


@dataclass(frozen=True)
class Loaded:
    """The raw customer table an engine read (or made from a transactions log)."""

    raw: pd.DataFrame
    data_hash: str  # the input's fingerprint
    spec: SegmentationSpec  # the spec without the features the log cannot give
    transactions: FeatureResult | None = None  # how the log became the table
    recipe: Recipe | None = None


Load = Callable[[TrainOptions, SegmentationSpec], Loaded]
Fit = Callable[[Pipeline, pd.DataFrame, np.ndarray], FinalFit]  # fit in place on (frame, X)


def _fit_here(pipeline: Pipeline, frame: pd.DataFrame, X: np.ndarray) -> FinalFit:
    pipeline.fit(frame)
    return FinalFit()


def train(
    options: TrainOptions,
    *,
    on_stage: Callable[[str], None] | None = None,
    on_k: Callable[[int], None] | None = None,
    load: Load | None = None,
    fit: Fit = _fit_here,
) -> TrainResult:
    """Run a whole training and publish its artifact; returns what it made.

    ``load`` and ``fit`` are the engine's: this process by default; the Dask engine
    (:mod:`training.dask_train`) reads partitions and fits the final K-Means on a cluster.
    """
    timings: dict[str, float] = {}
    say = on_stage or (lambda _stage: None)
    spec = load_spec(options.spec)
    k_range = options.k_range()
    names = load_names(options.names) if options.names else None
    with _timed(timings, "lineage"):  # before the long stages: a bad --previous fails fast
        previous = (
            None if options.no_previous else load_previous(options.models_dir, options.previous)
        )
    say("load")
    with _timed(timings, "load"):
        loaded = (load or _load)(options, spec)
        raw, spec, data_hash = loaded.raw, loaded.spec, loaded.data_hash
        transactions, recipe = loaded.transactions, loaded.recipe
    say("clean")
    with _timed(timings, "clean"):
        cleaning = clean(raw, spec)
        _check_rows(cleaning, k_range)
        _check_columns(cleaning, spec)
        frame = cleaning.cleaned
        base = build_pipeline(spec, 2, random_state=options.random_state)
        X = base.named_steps["preprocess"].fit_transform(frame)
        _check_distinct(X, k_range)
    say("sweep")
    with _timed(timings, "sweep"):
        selection = select_k(
            X,
            k_range,
            forced_k=options.k,
            min_share=options.min_share,
            random_state=options.random_state,
            on_k=on_k,
            algorithm=options.algorithm,
            covariance_type=options.covariance_type,
        )
    say("fit")
    with _timed(timings, "fit"):
        pipeline, labels, distances, floor, final_fit = _fit(
            options, spec, frame, X, selection.chosen_k, fit
        )
    say("lineage")
    with _timed(timings, "lineage", add=True):
        lineage = _lineage(options, previous, spec, pipeline, frame, labels, selection.chosen_k)
    say("profile")
    with _timed(timings, "profile"):
        inherited = previous.lineage.names if previous else {}
        inherited = {k: v for k, v in inherited.items() if int(k) in lineage.kept}
        profile = profile_segments(
            frame,
            labels,
            spec,
            names,
            segment_ids=lineage.segment_ids,
            inherited=inherited,
            applied=lineage.names,
        )
    manifest = _manifest(options, spec, cleaning, data_hash, selection, distances, labels)
    manifest.log_likelihood_p01 = floor
    manifest.final_fit = final_fit
    comparison = None
    if options.compare:
        say("compare")
        with _timed(timings, "compare"):
            comparison = _compare(options, X, labels, selection.chosen_k)
        manifest.comparison = comparison.comparison
    if recipe is not None and transactions is not None and transactions.monthly is not None:
        from training.behaviour import monthly_by_segment

        ids = frame[spec.id.name]
        stable = np.asarray(lineage.segment_ids, dtype=np.int64)[labels]
        recipe.monthly_spend = monthly_by_segment(transactions.monthly, ids, stable)
    manifest.recipe = recipe
    manifest.lineage = lineage
    manifest.distance_percentiles = _percentiles(distances, labels, lineage.segment_ids)
    if floor is None:  # K-Means: atypical beyond the p99 distance (a mixture: below p01, 1 %)
        p99 = np.array([manifest.distance_percentiles[str(i)]["p99"] for i in lineage.segment_ids])
        manifest.atypical_share = float(np.mean(distances > p99[labels]))
    result = TrainResult(
        path=Path(),
        spec=spec,
        manifest=manifest,
        profile=profile,
        cleaning=cleaning,
        pipeline=pipeline,
        X=X,
        labels=labels,
        distances=distances,
        timings=timings,
        comparison=comparison,
        transactions=transactions,
    )
    say("publish")
    with _timed(timings, "publish"):
        result.path = artifact.publish(
            options.models_dir, manifest, lambda folder: _write_files(folder, result, options)
        )
    timings["publish"] -= timings.get("report", 0.0)  # the report is drawn inside publish
    return result


def _fit(
    options: TrainOptions,
    spec: SegmentationSpec,
    frame: pd.DataFrame,
    X: np.ndarray,
    k: int,
    fit: Fit = _fit_here,
) -> tuple[Pipeline, np.ndarray, np.ndarray, float | None, FinalFit]:
    """Fit the served pipeline; its labels, distances to the centres, a mixture's p1 floor,
    and how it was fitted (``fit``: here, or on a Dask cluster)."""
    pipeline = build_pipeline(
        spec,
        k,
        algorithm=options.algorithm,
        covariance_type=options.covariance_type,
        n_init=options.model_n_init,
        random_state=options.random_state,
    )
    final_fit = fit(pipeline, frame, X)
    model = model_step(pipeline)
    if options.algorithm == "kmeans":
        labels, centres, floor = model.labels_, model.cluster_centers_, None
    else:
        labels, centres = model.predict(X), model.means_
        floor = float(np.quantile(model.score_samples(X), 0.01))
        empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
        if len(empty):
            raise TrainingError(
                f"the Gaussian mixture left {len(empty)} of its k={k} components without "
                f"customers: choose a smaller --k"
            )
    distances = np.sqrt(((X - centres[labels]) ** 2).sum(axis=1))
    return pipeline, labels, distances, floor, final_fit


def _compare(options: TrainOptions, X: np.ndarray, labels: np.ndarray, k: int) -> ComparisonResult:
    return compare(
        X,
        labels,
        k=k,
        served=options.algorithm,
        covariance_type=options.covariance_type,
        n_init=DEFAULT_N_INIT,
        random_state=options.random_state,
    )


def _load(options: TrainOptions, spec: SegmentationSpec) -> Loaded:
    """The raw customer table: read from the file, or made from a transactions log."""
    if not options.transactions:
        raw = load_table(options.data)  # first: its errors name the problem
        return Loaded(raw, artifact.sha256_file(Path(options.data)), spec)
    from training.behaviour import table_for_training

    frame, used, result, recipe = table_for_training(Path(options.data), spec, options.as_of)
    return Loaded(frame, artifact.sha256_file(Path(options.data)), used, result, recipe)


def _manifest(
    options: TrainOptions,
    spec: SegmentationSpec,
    cleaning: CleanResult,
    data_hash: str,
    selection: Selection,
    distances: np.ndarray,
    labels: np.ndarray,
) -> Manifest:
    return Manifest(
        format_version=artifact.FORMAT_VERSION,
        created_at=datetime.now(UTC),
        libraries=artifact.library_versions(),
        spec=spec,
        data=DataSummary(
            source=Path(options.data).name,
            fingerprint=data_hash,
            rows_read=cleaning.rows_read,
            rows_kept=cleaning.rows_kept,
            rows_rejected=len(cleaning.rejected),
            duplicates=cleaning.duplicates,
            missing=cleaning.missing,
            rejection_reasons=cleaning.reason_counts(),
        ),
        selection=selection,
        n_clusters=selection.chosen_k,
        n_init=options.model_n_init,
        random_state=options.random_state,
        distance_percentiles={},
        has_report=options.report,
        algorithm=options.algorithm,
        covariance_type=options.covariance_type if options.algorithm == "gmm" else None,
    )


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
