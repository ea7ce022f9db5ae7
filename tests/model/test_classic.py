"""Behaviour of a real model trained on the classic Mall Customers file."""

from __future__ import annotations

from pathlib import Path

from training.train import TrainOptions, TrainResult, train


def test_train_classic_chooses_five_segments(
    classic_path: Path, classic_model: TrainResult
) -> None:
    selection = classic_model.manifest.selection
    assert selection.chosen_k == 5
    row = next(r for r in selection.table if r.k == 5)
    assert row.silhouette >= 0.55
    assert row.silhouette == max(r.silhouette for r in selection.table)
    assert row.davies_bouldin == min(r.davies_bouldin for r in selection.table)
    assert "k=5" in selection.reason


def test_train_classic_names_are_distinct_and_say_who_buys(
    classic_path: Path, classic_model: TrainResult
) -> None:
    names = [s.name for s in classic_model.profile.segments]
    assert sorted(names) == sorted(
        [
            "High income · High spending",
            "High income · Low spending",
            "Low income · High spending",
            "Low income · Low spending",
            "Mid income · Mid spending",
        ]
    )
    by_name = {s.name: s for s in classic_model.profile.segments}
    assert "buy more than most" in by_name["High income · High spending"].description
    assert "buy less than most" in by_name["High income · Low spending"].description


def test_train_mall_full_spec(classic_path: Path, tmp_path: Path) -> None:
    result = train(
        TrainOptions(data=classic_path, spec="mall-full", models_dir=tmp_path, report=False)
    )
    assert result.manifest.spec.name == "mall-full"
    assert 2 <= result.manifest.n_clusters <= 10
    assert result.X.shape == (200, 5)  # age, income, spending + 2 one-hot gender columns
    names = [s.name for s in result.profile.segments]
    assert len(set(names)) == len(names)
