"""Segment ids across retrains (training/lineage.py) on real trainings of the classic file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from service.config import Settings
from service.state import load_model
from training.artifact import ArtifactError
from training.batch import assign_file
from training.lineage import MATCH_THRESHOLD, _migration
from training.train import TrainOptions, TrainResult, train

INCOME, SPENDING = "Annual Income (k$)", "Spending Score (1-100)"


def _train(data: Path, models: Path, k: int = 5, **options: object) -> TrainResult:
    return train(
        TrainOptions(data=data, models_dir=models, k=k, k_max=6, report=False, **options)  # type: ignore[arg-type]
    )


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def base(classic_path: Path, models: Path) -> TrainResult:
    return _train(classic_path, models)


def _names(result: TrainResult) -> dict[int, str]:
    return {s.segment_id: s.name for s in result.profile.segments}


def test_train_first_model_gets_fresh_ids(base: TrainResult) -> None:
    lineage = base.manifest.lineage
    assert (lineage.previous_version, lineage.segment_ids, lineage.new) == (
        None,
        [0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4],
    )
    assert lineage.reason == "fresh ids 0..4: first model in this models folder"


def test_retrain_same_data_keeps_ids_names_and_ari_1(
    base: TrainResult, classic_path: Path, models: Path
) -> None:
    again = _train(classic_path, models)
    lineage = again.manifest.lineage
    assert lineage.previous_version == base.manifest.model_version
    assert (lineage.kept, lineage.new, lineage.retired) == ([0, 1, 2, 3, 4], [], [])
    assert _names(again) == _names(base)
    assert lineage.migration is not None
    assert (lineage.migration.ari, lineage.migration.changed_share) == (1.0, 0.0)
    assert lineage.migration.shared_customers == 200
    assert {s.since_version for s in lineage.segments} == {base.manifest.model_version}
    assert all(s.distance == pytest.approx(0.0, abs=1e-9) for s in lineage.segments)


def test_retrain_matches_customers_by_id_as_text(classic_path: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(classic_path)
    frame["CustomerID"] = [f"{i:05d}" for i in frame["CustomerID"]]  # "00001": not the number 1
    data = tmp_path / "padded.csv"
    frame.to_csv(data, index=False)
    _train(data, tmp_path / "models")
    migration = _train(data, tmp_path / "models").manifest.lineage.migration
    assert migration is not None
    assert (migration.shared_customers, migration.ari) == (200, 1.0)


def test_retrain_perturbed_copy_matches_every_segment(
    base: TrainResult, classic_path: Path, models: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    frame = pd.read_csv(classic_path, dtype={"CustomerID": str})
    frame = frame.sample(frac=0.9, random_state=7).reset_index(drop=True)
    for column in (INCOME, SPENDING):
        frame[column] = (frame[column] + rng.integers(-2, 3, len(frame))).clip(1, 100)
    copy = tmp_path / "perturbed.csv"
    frame.to_csv(copy, index=False)
    again = _train(copy, models)
    lineage = again.manifest.lineage
    assert (lineage.kept, lineage.new, lineage.retired) == ([0, 1, 2, 3, 4], [], [])
    assert all(s.distance is not None and s.distance < MATCH_THRESHOLD for s in lineage.segments)
    assert lineage.migration is not None
    assert lineage.migration.shared_customers == 180
    old = dict(
        zip(base.cleaning.cleaned["customer_id"], base.segment_ids[base.labels], strict=True)
    )
    moved = [
        old[c] != s
        for c, s in zip(
            again.cleaning.cleaned["customer_id"], again.segment_ids[again.labels], strict=True
        )
    ]
    assert lineage.migration.changed_share == pytest.approx(np.mean(moved))


def test_retrain_with_one_more_segment_adds_one_new_id(
    base: TrainResult, classic_path: Path, models: Path
) -> None:
    lineage = _train(classic_path, models, k=6).manifest.lineage
    assert (len(lineage.kept), lineage.new, lineage.retired) == (5, [5], [])
    assert lineage.ids_ever_used == [0, 1, 2, 3, 4, 5]


def test_retrain_with_one_less_segment_retires_one_id_never_reused(
    base: TrainResult, classic_path: Path, models: Path
) -> None:
    fewer = _train(classic_path, models, k=4).manifest.lineage
    assert (len(fewer.kept), fewer.new, len(fewer.retired)) == (4, [], 1)
    back = _train(classic_path, models, k=5).manifest.lineage
    assert back.previous_version is not None
    assert (back.kept, back.new, back.retired) == (fewer.kept, [5], [])
    assert back.ids_ever_used == [0, 1, 2, 3, 4, 5]


def test_retrain_keeps_names_from_a_names_file(
    classic_path: Path, models: Path, tmp_path: Path
) -> None:
    names = tmp_path / "names.toml"
    names.write_text('[2]\nname = "Careful spenders"\naction = "Coupons."\n')
    first = _train(classic_path, models, names=names)
    assert _names(first)[2] == "Careful spenders"
    again = _train(classic_path, models)  # no names file this time
    assert _names(again)[2] == "Careful spenders"
    assert again.manifest.lineage.names == {"2": {"name": "Careful spenders", "action": "Coupons."}}


def test_retrain_on_other_features_matches_nothing_and_says_why(
    base: TrainResult, classic_path: Path, models: Path
) -> None:
    full = _train(classic_path, models, spec="mall-full")
    lineage = full.manifest.lineage
    assert lineage.matched is False
    assert lineage.reason == (
        f"not matched to {base.manifest.model_version}: its cluster features (annual_income, "
        "spending_score) or their transforms differ from this model's, so segments cannot be "
        "compared; every segment is new and every previous id retired"
    )
    assert (lineage.kept, lineage.retired) == ([], [0, 1, 2, 3, 4])
    assert lineage.new == lineage.segment_ids == [5, 6, 7, 8, 9]


def test_train_previous_and_no_previous(
    base: TrainResult, classic_path: Path, models: Path
) -> None:
    six = _train(classic_path, models, k=6)
    pinned = _train(classic_path, models, previous=base.manifest.model_version)
    assert pinned.manifest.lineage.previous_version == base.manifest.model_version
    assert six.manifest.lineage.previous_version == base.manifest.model_version
    fresh = _train(classic_path, models, k=6, no_previous=True).manifest.lineage
    assert (fresh.previous_version, fresh.segment_ids) == (None, [0, 1, 2, 3, 4, 5])
    assert fresh.reason == "fresh ids 0..5: --no-previous"
    with pytest.raises(ArtifactError, match=r"^--previous nope: no such model version in "):
        _train(classic_path, models, previous="nope")


def test_serve_and_batch_answer_sparse_stable_ids(
    base: TrainResult, classic_path: Path, models: Path, tmp_path: Path
) -> None:
    _train(classic_path, models, k=4)
    sparse = _train(classic_path, models, k=5)  # ids: 4 kept + 5 (one id retired)
    ids = sparse.manifest.lineage.segment_ids
    assert sorted(ids) != list(range(5))
    model = load_model(Settings(models_dir=models, model_version=sparse.manifest.model_version))
    answers = model.assign(
        [model.requests.customer(customer_id="C-1", annual_income=120, spending_score=90)]
    )
    expected = int(
        sparse.segment_ids[
            sparse.pipeline.predict(
                pd.DataFrame(
                    {
                        "annual_income": [120.0],
                        "spending_score": [90.0],
                        "age": [np.nan],
                        "gender": [None],
                    }
                )
            )[0]
        ]
    )
    assert answers[0]["segment_id"] == expected
    assert answers[0]["segment_name"] == _names(sparse)[expected]
    output = tmp_path / "out.csv"
    assign_file(classic_path, output, models, sparse.manifest.model_version)
    batch = pd.read_csv(output)
    cleaned = pd.read_csv(sparse.path / "cleaned.csv")
    assert batch["segment_id"].tolist() == cleaned["segment"].tolist()
    assert set(batch["segment_id"]) == set(ids)


def test_migration_ari_equals_sklearn() -> None:
    rng = np.random.default_rng(3)
    before, after = rng.integers(0, 4, 500), rng.integers(0, 5, 500)
    after[:300] = before[:300]
    counts = np.zeros((4, 5), dtype=np.int64)
    np.add.at(counts, (before, after), 1)
    migration = _migration(counts, [0, 1, 2, 3], [0, 1, 2, 3, 4])
    assert migration.ari == pytest.approx(adjusted_rand_score(before, after))
    assert migration.changed_share == pytest.approx(np.mean(before != after))


def test_retrain_gaussian_mixture_keeps_ids(classic_path: Path, models: Path) -> None:
    first = _train(classic_path, models, algorithm="gmm", compare=False)
    again = _train(classic_path, models, algorithm="gmm", compare=False)
    lineage = again.manifest.lineage
    assert lineage.previous_version == first.manifest.model_version
    assert (lineage.kept, lineage.new, lineage.retired) == ([0, 1, 2, 3, 4], [], [])
    assert again.manifest.atypical_share is None  # a mixture's atypical rule is its own p01
