"""How much the profile report adds to a training run, at 1,000,000 customers.

Baseline, measured in the same run: the whole training without a report
(``train(..., report=False)``: load, clean, sweep, fit, profile, publish). Then the report
is written from that run's result, exactly as ``train`` does inside its publish step, and
finally regenerated from the published artifact (``segments report``: reads cleaned.csv,
copies the artifact, draws). The issue's budget: the report adds at most 30 s.

    .venv/bin/python bench/report.py [--rows 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from training.report import regenerate_report, write_report
from training.sample import generate_customers
from training.train import TrainOptions, train

BUDGET_SECONDS = 30.0
OUT = Path(__file__).resolve().parent / "out"


def _data(rows: int, seed: int) -> Path:
    path = OUT / f"customers-{rows}-{seed}.csv"
    if not path.is_file():  # generating 1M rows takes a while: keep the file between runs
        OUT.mkdir(parents=True, exist_ok=True)
        generate_customers(rows, seed=seed).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    data = _data(args.rows, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        start = time.perf_counter()
        result = train(TrainOptions(data=data, models_dir=models, report=False))
        baseline = time.perf_counter() - start

        figures: dict[str, float] = {}
        start = time.perf_counter()
        write_report(Path(tmp), result.report_inputs(), timings=figures)
        report = time.perf_counter() - start

        start = time.perf_counter()
        regenerate_report(models, result.path.name)
        regenerated = time.perf_counter() - start

    print(f"rows: {args.rows:,} read, {result.cleaning.rows_kept:,} kept")
    print(f"training without report (baseline): {baseline:7.2f} s")
    print(
        f"report from the training result:     {report:7.2f} s   ratio {report / baseline:.2f}x"
        f"   budget {BUDGET_SECONDS:.0f} s: {'OK' if report <= BUDGET_SECONDS else 'OVER'}"
    )
    print(
        f"segments report (from the artifact): {regenerated:7.2f} s"
        f"   ratio {regenerated / baseline:.2f}x"
    )
    slowest = sorted(figures.items(), key=lambda kv: -kv[1])
    print("figures: " + ", ".join(f"{name} {s:.2f}s" for name, s in slowest))


if __name__ == "__main__":
    main()
