"""`assign --engine dask` with a model whose stable segment ids are sparse (after retrains)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from distributed import Client

from training.batch import assign_file
from training.dask_assign import assign_dataset
from training.train import TrainOptions, train


def test_assign_dask_answers_sparse_stable_ids_as_the_single_path(
    classic_path: Path, tmp_path: Path, client: Client
) -> None:
    models = tmp_path / "models"
    options = TrainOptions(data=classic_path, models_dir=models, k=5, report=False, compare=False)
    train(options)
    train(TrainOptions(**(vars(options) | {"k": 4})))
    model = train(options)  # ids: 4 kept, one new (5), one retired
    assert model.manifest.lineage.new == [5]
    single = assign_file(classic_path, tmp_path / "single.parquet", models)
    result = assign_dataset(str(classic_path), tmp_path / "out", models, None, client)
    got = pd.read_parquet(tmp_path / "out" / "assignments")
    expected = pd.read_parquet(tmp_path / "single.parquet")
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["segment_id"]) == set(model.manifest.lineage.segment_ids)
    assert result.segments == single.segments
    assert sum(result.segments.values()) == 200
