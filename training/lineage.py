"""Segment ids that survive a retrain: matching a new model's segments to the previous one's.

The rule
--------
1. **Same cluster features or nothing.** Segments are compared only when both models
   cluster on the same features (names, kinds and ``log1p`` transforms; a transformed
   feature is compared in its transformed units). Otherwise nothing is matched, every
   segment is new, every previous id is retired, and the lineage says why.
2. **Centroid distance in one yardstick.** Both models' centroids are taken back to
   original units (each through its own scaler) and then standardised with the *previous*
   model's scaler (one-hot columns stay category shares, as the pipeline sees them).
   Raw original units would let the widest feature (k$ against a 1-100 score) decide alone;
   each model's own standardisation would hide a shift of the whole population (both
   would be centred at 0). One fixed yardstick keeps features comparable and shifts visible.
3. **Optimal one-to-one matching**: ``scipy.optimize.linear_sum_assignment`` on that
   distance matrix (sum of distances minimal over all one-to-one pairings).
4. **Beyond ``MATCH_THRESHOLD`` (1.0 previous standard deviation) a pair is not a match**:
   the new segment is new and the old id retired. On the classic file the 5 segments'
   centres lie 1.6-3.4 SD apart, so 1.0 never joins two different segments, while a
   retrain on a copy jittered by up to 2 units with 10 % fewer rows moves them by at most
   0.12 SD (and splitting one segment in two, k 5 -> 6, moves the kept half by 0.3 SD).
5. **Confirmed by shared customers where ids allow**: when at least ``MIN_SHARED``
   customers of either segment of a pair are in both trainings, the pair is kept only if
   at least ``MIN_OVERLAP`` (half) of one side's shared customers are in the other
   (``overlap`` is the larger of the two shares, so a split or a merge still matches
   its main part).

A kept segment keeps its id, the version it exists since, and any name a names file gave
it; a new segment gets the next id never used in the lineage (``ids_ever_used``); a
previous id without a match is retired and never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from training.artifact import (
    SEGMENT_COLUMN,
    ArtifactError,
    load_artifact,
    read_cleaned,
    resolve_version,
)
from training.manifest import Lineage, Migration, Profile, SegmentLineage
from training.scoring import Scorer
from training.scoring_models import CentroidModel

__all__ = [
    "MATCH_THRESHOLD",
    "MIN_OVERLAP",
    "MIN_SHARED",
    "PreviousModel",
    "build_lineage",
    "load_previous",
]

IdArray = np.ndarray | pd.api.extensions.ExtensionArray
MATCH_THRESHOLD = 1.0
MIN_OVERLAP = 0.5
MIN_SHARED = 10


@dataclass(frozen=True)
class PreviousModel:
    """What matching needs of the previous model (read once, through the artifact module)."""

    version: str
    scorer: Scorer
    lineage: Lineage
    profile: Profile
    customers: pd.DataFrame  # columns: id (string), segment (stable id)

    @property
    def ids(self) -> list[int]:
        return self.lineage.segment_ids or list(range(self.scorer.n_clusters))

    def since(self, segment_id: int) -> str:
        for seg in self.lineage.segments:
            if seg.segment_id == segment_id and seg.since_version:
                return seg.since_version
        return self.version

    def size(self, segment_id: int) -> int:
        return next(s.size for s in self.profile.segments if s.segment_id == segment_id)


def load_previous(models_dir: Path, version: str | None) -> PreviousModel | None:
    """The model to match against: ``version``, else the one ``LATEST`` names.

    None when no model was published yet (and no version was asked for).
    """
    try:
        name = resolve_version(models_dir, version)
    except ArtifactError as exc:
        if version is None and exc.kind == "missing":  # nothing published yet
            return None
        raise
    if not (models_dir / name).is_dir():
        raise ArtifactError(f"--previous {name}: no such model version in {models_dir}", "missing")
    try:
        artifact = load_artifact(models_dir, name)
        customers = read_cleaned(artifact, columns=[artifact.spec.id.name, SEGMENT_COLUMN])
    except (ArtifactError, OSError, ValueError, KeyError) as exc:
        raise ArtifactError(
            f"previous model {name} cannot be read for segment matching ({exc}); "
            "pass --previous VERSION or --no-previous"
        ) from None
    return PreviousModel(
        version=artifact.version,
        scorer=Scorer.from_artifact(artifact),
        lineage=artifact.manifest.lineage,
        profile=artifact.profile,
        customers=customers.set_axis(["id", SEGMENT_COLUMN], axis=1),
    )


def _same_features(previous: Scorer, new: Scorer) -> bool:
    """Same cluster features, of the same kinds, with the same transform (``log1p``)."""

    def transformed(scorer: Scorer) -> set[tuple[str, bool]]:
        flags = scorer.log1p if len(scorer.log1p) else np.zeros(len(scorer.numeric), bool)
        return set(zip(scorer.numeric, flags.tolist(), strict=True))

    return transformed(previous) == transformed(new) and set(previous.categorical) == set(
        new.categorical
    )


def _model_centres(scorer: Scorer) -> np.ndarray:
    """K-Means centroids or a Gaussian mixture's means, shape (n_clusters, n_out)."""
    model = scorer.model
    centres: np.ndarray = model.centroids if isinstance(model, CentroidModel) else model.means
    return centres


def _centres(scorer: Scorer, yardstick: Scorer, unions: dict[str, list[str]]) -> np.ndarray:
    """``scorer``'s centroids in ``yardstick``'s standard units, shape (n_clusters, n_out).

    Numeric columns in ``yardstick``'s order; per categorical feature the share of each
    category of ``unions[name]`` (0 for a category the model never saw).
    """
    n_num = len(scorer.numeric)
    centres = _model_centres(scorer)
    original = centres[:, :n_num] * scorer.scale + scorer.mean
    order = [scorer.numeric.index(name) for name in yardstick.numeric]
    parts = [(original[:, order] - yardstick.mean) / yardstick.scale]
    start = n_num
    columns: dict[tuple[str, str], np.ndarray] = {}
    for name, cats in zip(scorer.categorical, scorer.categories, strict=True):
        for j, cat in enumerate(cats):
            columns[name, cat] = centres[:, start + j]
        start += len(cats)
    zero = np.zeros(scorer.n_clusters)
    for name in yardstick.categorical:
        parts.append(np.column_stack([columns.get((name, c), zero) for c in unions[name]]))
    return np.hstack(parts)


def centroid_distances(previous: Scorer, new: Scorer) -> np.ndarray:
    """Centroid distances (n_previous, n_new) in the previous model's standard deviations."""
    new_cats = dict(zip(new.categorical, new.categories, strict=True))
    unions = {
        name: sorted(set(cats) | set(new_cats[name]))
        for name, cats in zip(previous.categorical, previous.categories, strict=True)
    }
    a, b = _centres(previous, previous, unions), _centres(new, previous, unions)
    distances: np.ndarray = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    return distances


def _shared_counts(
    previous: PreviousModel, customer_ids: IdArray, labels: np.ndarray, k: int
) -> np.ndarray | None:
    """Customers in both trainings, counted by (previous position, new label).

    Ids are compared as text with pyarrow's hash lookup (about 3x a pandas merge at 1M ids;
    both trainings keep one row per id, so a lookup is a join).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pd.Series(customer_ids, copy=False).astype("string").array
    known = pa.array(previous.customers["id"].astype("string").array)
    where = pc.fill_null(pc.index_in(pa.array(ids), value_set=known), -1).to_numpy()
    shared = where >= 0
    if not shared.any():
        return None
    before = previous.customers[SEGMENT_COLUMN].to_numpy(dtype=np.int64)[where[shared]]
    lookup = np.full(max(max(previous.ids), int(before.max())) + 1, -1, dtype=np.int64)
    lookup[previous.ids] = np.arange(len(previous.ids))
    rows = lookup[before]
    if (rows < 0).any():  # an id the model does not have: no overlap
        return None
    n_previous = len(previous.ids)
    flat = np.bincount(rows * k + labels[shared], minlength=n_previous * k)
    return flat.reshape(n_previous, k).astype(np.int64)


def _pairs(n: np.ndarray) -> float:
    return float((n * (n - 1) / 2).sum())


def _migration(counts: np.ndarray, old_ids: list[int], new_ids: list[int]) -> Migration:
    """The migration in stable ids; ARI from the contingency table (as sklearn computes it)."""
    total = int(counts.sum())
    same = sum(
        int(counts[r, c]) for r, a in enumerate(old_ids) for c, b in enumerate(new_ids) if a == b
    )
    cells, before, after = _pairs(counts), _pairs(counts.sum(1)), _pairs(counts.sum(0))
    expected = before * after / max(_pairs(np.array([total])), 1.0)
    top = (before + after) / 2 - expected
    rows, cols = np.argsort(old_ids), np.argsort(new_ids)  # both axes by id
    return Migration(
        shared_customers=total,
        previous_ids=[old_ids[i] for i in rows],
        ids=[new_ids[i] for i in cols],
        counts=counts[np.ix_(rows, cols)].tolist(),
        changed_share=1.0 - same / total,
        ari=1.0 if top == 0 else (cells - expected) / top,
    )


def _overlap(counts: np.ndarray | None, r: int, c: int) -> float | None:
    if counts is None or max(counts[r].sum(), counts[:, c].sum()) < MIN_SHARED:
        return None
    both = counts[r, c]
    return float(max(both / max(counts[r].sum(), 1), both / max(counts[:, c].sum(), 1)))


def _match(
    distances: np.ndarray, counts: np.ndarray | None
) -> dict[int, tuple[int, float, float | None]]:
    """new label -> (previous position, distance, overlap) for every accepted pair."""
    matches = {}
    for r, c in zip(*linear_sum_assignment(distances), strict=True):
        overlap = _overlap(counts, r, c)
        if distances[r, c] <= MATCH_THRESHOLD and (overlap is None or overlap >= MIN_OVERLAP):
            matches[int(c)] = (int(r), float(distances[r, c]), overlap)
    return matches


def fresh_lineage(n_clusters: int, sizes: np.ndarray, reason: str) -> Lineage:
    """Ids 0..k-1 for a model that starts a lineage."""
    ids = list(range(n_clusters))
    return Lineage(
        reason=reason,
        segment_ids=ids,
        segments=[
            SegmentLineage(segment_id=i, status="new", size_after=int(sizes[i])) for i in ids
        ],
        new=ids,
        ids_ever_used=ids,
    )


def build_lineage(
    previous: PreviousModel, new: Scorer, customer_ids: IdArray, labels: np.ndarray
) -> Lineage:
    """Match ``new`` (fitted labels 0..k-1 of ``customer_ids``) to ``previous``.

    Parameters
    ----------
    previous : PreviousModel
    new : Scorer
        The new model's scorer (without stable ids yet).
    customer_ids : array of shape (n_samples,)
        The training's ids; a pandas string array is used as is (no copy).
    labels : ndarray of shape (n_samples,)
        Fitted label of each row, 0..k-1.
    """
    k = new.n_clusters
    sizes = np.bincount(labels, minlength=k)
    used = set(previous.lineage.ids_ever_used or previous.ids)
    same = _same_features(previous.scorer, new)
    distances = centroid_distances(previous.scorer, new) if same else None
    old_ids = previous.ids
    counts = _shared_counts(previous, customer_ids, labels, k)
    matches = _match(distances, counts) if distances is not None else {}
    next_id = max(used, default=-1) + 1
    ids: list[int] = []
    segments: list[SegmentLineage] = []
    for label in range(k):
        if label in matches:
            r, distance, overlap = matches[label]
            sid = old_ids[r]
            segments.append(
                SegmentLineage(
                    segment_id=sid,
                    status="kept",
                    since_version=previous.since(sid),
                    distance=distance,
                    overlap=overlap,
                    size_before=previous.size(sid),
                    size_after=int(sizes[label]),
                )
            )
        else:
            sid, next_id = next_id, next_id + 1
            segments.append(
                SegmentLineage(segment_id=sid, status="new", size_after=int(sizes[label]))
            )
        ids.append(sid)
    migration = None if counts is None else _migration(counts, old_ids, ids)
    kept = sorted(s.segment_id for s in segments if s.status == "kept")
    return Lineage(
        previous_version=previous.version,
        matched=same,
        reason=_reason(previous, same),
        threshold=MATCH_THRESHOLD if same else None,
        segment_ids=ids,
        segments=segments,
        kept=kept,
        new=sorted(s.segment_id for s in segments if s.status == "new"),
        retired=sorted(set(old_ids) - set(kept)),
        ids_ever_used=sorted(used | set(ids)),
        migration=migration,
        previous_segments={str(s.segment_id): s.name for s in previous.profile.segments},
        previous_sizes={str(s.segment_id): s.size for s in previous.profile.segments},
    )


def _reason(previous: PreviousModel, same: bool) -> str:
    if same:
        return (
            f"matched to {previous.version}: one-to-one on centroid distance (in the previous "
            f"model's standard deviations, at most {MATCH_THRESHOLD}), confirmed by shared "
            f"customers (at least {MIN_OVERLAP:.0%} overlap) where there are {MIN_SHARED} or more"
        )
    before = ", ".join((*previous.scorer.numeric, *previous.scorer.categorical))
    return (
        f"not matched to {previous.version}: its cluster features ({before}) or their "
        "transforms differ from this model's, so segments cannot be compared; every segment "
        "is new and every previous id retired"
    )
