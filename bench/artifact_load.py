"""What format 2 costs at load: the skops model file against the pickle it replaces.

Trains one model (default spec, no report) on a synthetic file, then times, in the same
run: ``joblib.load`` of the pipeline pickled (format 1's way, the baseline), the checked
skops load of the same pipeline (type check + ``skops.io.loads``), and the whole
``load_artifact`` (manifest, signature, every sha256, the model, the profile), unsigned and
signed.

    .venv/bin/python bench/artifact_load.py [--rows 2000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import joblib

from training import artifact_model
from training.artifact import copy_files, load_artifact, publish
from training.sample import generate_customers
from training.train import TrainOptions, train


def _median_ms(job: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models, data = Path(tmp) / "models", Path(tmp) / "customers.csv"
        generate_customers(args.rows, seed=0).to_csv(data, index=False)
        result = train(TrainOptions(data=data, models_dir=models, k_min=2, k_max=6, report=False))
        buffer = io.BytesIO()
        joblib.dump(result.pipeline, buffer)
        pickled, skops_bytes = buffer.getvalue(), artifact_model.dump_pipeline(result.pipeline)
        pickle_ms = _median_ms(lambda: joblib.load(io.BytesIO(pickled)), args.repeat)
        skops_ms = _median_ms(lambda: artifact_model.load_pipeline(skops_bytes), args.repeat)
        whole_ms = _median_ms(lambda: load_artifact(models), args.repeat)
        source = load_artifact(models)
        os.environ["SEG_MODEL_SIGNING_KEY"] = "bench-" + "k" * 32
        names = list(source.manifest.files)
        signed = publish(
            models,
            source.manifest.model_copy(update={"files": {}}),
            lambda folder: copy_files(source, folder, names),
            update_latest=False,
        ).name
        signed_ms = _median_ms(lambda: load_artifact(models, signed), args.repeat)
    print(f"{args.rows} rows, k={result.manifest.n_clusters}, median of {args.repeat}")
    print(f"pickle load (baseline)      {pickle_ms:8.2f} ms  {len(pickled):>8} bytes")
    print(f"skops load, types checked   {skops_ms:8.2f} ms  {len(skops_bytes):>8} bytes  "
          f"x{skops_ms / pickle_ms:.1f}")  # fmt: skip
    print(f"load_artifact, unsigned     {whole_ms:8.2f} ms")
    print(f"load_artifact, signed       {signed_ms:8.2f} ms")


if __name__ == "__main__":
    main()
