"""Benchmark: `segments assign` on a 1,000,000-row CSV, against baselines run in the same run.

Each measurement runs in its own process (time of the work, and peak memory):

    io floor:  pyarrow reads the CSV and writes it back (no cleaning, no scoring)
    pandas:    the common approach: read_csv, to_numeric, Pipeline.predict, to_csv
    ours:      training.batch.assign_file (load and verify the model, clean each chunk,
               score, write, side file)

Every run imports what it uses before its clock starts (the pandas run loads its model
before it, too: skops' first import walks every scikit-learn estimator, about 1 s).

plus ours on a quarter of the file, to show that peak memory does not grow with the file.

    .venv/bin/python bench/assign_file.py [--rows 1000000]

Targets (issue 10): ours <= 3x the io floor and faster than pandas, in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"

PRELUDE = """
import json, sys, time
from pathlib import Path
source, output, models = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
"""
# VmHWM, not ru_maxrss: the latter survives exec, so a child would report its parent's peak.
EPILOGUE = """
seconds = time.perf_counter() - start
status = Path("/proc/self/status").read_text()
peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
"""
RUNS = {
    "io floor": """
import pyarrow.csv as pacsv
start = time.perf_counter()
pacsv.write_csv(pacsv.read_csv(source), output)
""",
    "pandas": """
import pandas as pd
from training.artifact import load_artifact
pipeline = load_artifact(models).pipeline
start = time.perf_counter()
frame = pd.read_csv(source)
X = pd.DataFrame({
    "annual_income": pd.to_numeric(frame["Annual Income (k$)"], errors="coerce"),
    "spending_score": pd.to_numeric(frame["Spending Score (1-100)"], errors="coerce"),
})
frame.assign(segment=pipeline.predict(X))[["CustomerID", "segment"]].to_csv(output, index=False)
""",
    "ours": """
from training.artifact import load_artifact
from training.batch import assign_file
load_artifact(models)  # its imports (skops: ~1 s) before the clock, as in the pandas run
start = time.perf_counter()
result = assign_file(source, output, models, overwrite=True)  # loads and verifies the model
""",
}


def _measure(name: str, source: Path, models: Path) -> dict[str, float]:
    code = PRELUDE + RUNS[name] + EPILOGUE
    output = OUT / f"assigned-{name.replace(' ', '-')}.csv"
    done = subprocess.run(
        [sys.executable, "-c", code, str(source), str(output), str(models)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def _inputs(rows: int) -> tuple[Path, Path, Path]:
    sys.path.insert(0, str(ROOT))
    from training.sample import generate_customers
    from training.train import TrainOptions, train

    OUT.mkdir(parents=True, exist_ok=True)
    models = OUT / "assign-models"
    if not (models / "LATEST").is_file():
        sample = ROOT / "data" / "sample_customers.csv"
        train(TrainOptions(data=sample, models_dir=models, report=False))
    source, quarter = OUT / f"customers-{rows}.csv", OUT / f"customers-{rows // 4}.csv"
    if not source.is_file():
        frame = generate_customers(rows, seed=3, dirty=True)
        frame.to_csv(source, index=False)
        frame.head(rows // 4).to_csv(quarter, index=False)
    return source, quarter, models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    source, quarter, models = _inputs(args.rows)
    results = {name: _measure(name, source, models) for name in RUNS}
    small = _measure("ours", quarter, models)
    for name, r in results.items():
        print(f"{name:<9} {args.rows:>9} rows  {r['seconds']:6.2f} s  peak {r['peak_mb']:6.0f} MB")
    quarter_rows = args.rows // 4
    print(
        f"{'ours':<9} {quarter_rows:>9} rows  {small['seconds']:6.2f} s  "
        f"peak {small['peak_mb']:6.0f} MB"
    )
    ours, floor, pandas = results["ours"], results["io floor"], results["pandas"]
    print(
        f"ours / io floor {ours['seconds'] / floor['seconds']:4.1f}x time;  "
        f"ours / pandas {ours['seconds'] / pandas['seconds']:4.2f}x time "
        f"(pandas neither cleans nor writes rejected rows);  "
        f"peak memory at 1/4 of the rows: {small['peak_mb'] / ours['peak_mb']:.0%} of the "
        "full file's"
    )
    met = ours["seconds"] <= 3 * floor["seconds"] and ours["seconds"] < pandas["seconds"]
    print(f"targets (<= 3x the io floor, faster than pandas): {'met' if met else 'missed'}")


if __name__ == "__main__":
    main()
