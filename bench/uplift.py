"""Benchmark: ``segments uplift`` on 1,000,000 assignments, against reading the same files.

Writes an assignments file (id, segment_id, segment_name, campaigns: two campaigns per
customer, holdout 10 %) and simulated outcomes (converted and revenue) for ``--rows``
customers, then times the whole command (a fresh process: start-up, imports, reading,
joining, statistics, CSV, HTML and two figures) against a pyarrow read of both files in
this process.

    .venv/bin/python bench/uplift.py [--rows 1000000]

Target: under 10 s for 1,000,000 assignments.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "uplift"
sys.path.insert(0, str(ROOT))

from training.campaigns import arm  # noqa: E402
from training.outcomes_sim import simulate_outcomes  # noqa: E402


def _write_inputs(rows: int) -> tuple[Path, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"C-{i:07d}" for i in range(rows)], dtype=object)
    segments = np.random.default_rng(0).integers(0, 5, rows)
    arms = np.array([arm("spring-vip", i, 0.10) for i in ids], dtype=object)
    other = np.array([arm("winter", i, 0.10) for i in ids], dtype=object)
    assigned = pd.DataFrame(
        {
            "customer_id": ids,
            "segment_id": segments,
            "segment_name": np.array(["a", "b", "c", "d", "e"], dtype=object)[segments],
            "campaigns": "winter=" + other + ";spring-vip=" + arms,
        }
    )
    assignments, outcomes = OUT / "assigned.csv", OUT / "outcomes.csv"
    assigned.to_csv(assignments, index=False)
    simulate_outcomes(ids, segments, arms, seed=1).to_csv(outcomes, index=False)
    return assignments, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    assignments, outcomes = _write_inputs(args.rows)
    start = time.perf_counter()
    pacsv.read_csv(assignments)
    pacsv.read_csv(outcomes)
    read = time.perf_counter() - start
    command = [
        str(Path(sys.executable).with_name("segments")), "uplift", "--assignments",
        str(assignments), "--outcomes", str(outcomes), "--campaign", "spring-vip",
        "--out", str(OUT / "report"),
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    total = time.perf_counter() - start
    print(
        f"segments uplift, {args.rows:,} assignments: {total:.2f} s (target < 10 s for "
        f"1,000,000); pyarrow read of both files {read:.2f} s; ratio {total / read:.1f}x"
    )


if __name__ == "__main__":
    main()
