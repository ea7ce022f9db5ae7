"""Benchmark: features from transactions on a Dask LocalCluster against the single-machine recipe.

A log of about ``--lines`` lines (default 20,000,000, ~1,000,000 customers) is generated
once as Parquet files of ``--lines-per-file`` lines (row groups of 250,000), then its
features are computed twice, each in its own process:

    single:  training.features.compute_features on the log as one file (DuckDB, every core)
    dask:    training.dask_features.dask_features on a LocalCluster of --workers worker
             processes (1 thread each) limited to --memory-limit each: read, shuffle by
             customer id, the same recipe per partition

Both time the work only (the cluster's start-up is reported apart). It prints time,
lines/s, the ratio, peak memory (the single process; each Dask worker), whether a worker
was restarted (over its memory limit), and whether the two feature tables are identical.

    .venv/bin/python bench/dask_features.py [--lines 20000000] [--workers 2] [--memory-limit 1GB]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "dask-features"
LINES_PER_CUSTOMER = 20

PEAK = """
def peak_mb():
    status = open("/proc/self/status").read()
    return int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM"))) / 1024
"""

SINGLE = (
    PEAK
    + """
import json, sys, time
from pathlib import Path
import pyarrow.parquet as pq
from training.features import compute_features
from training.recipe import TransactionsSpec
source, output = Path(sys.argv[1]), Path(sys.argv[2])
whole = output / "log.parquet"  # the single path reads one file: the parts as one
with pq.ParquetWriter(whole, pq.read_schema(next(iter(sorted(source.glob("*.parquet")))))) as w:
    for path in sorted(source.glob("*.parquet")):
        w.write_table(pq.read_table(path))
start = time.perf_counter()
result = compute_features(whole, TransactionsSpec())
seconds = time.perf_counter() - start
result.features.to_parquet(output / "features.parquet")
print(json.dumps({"seconds": seconds, "lines": result.lines_read, "peak_mb": [peak_mb()]}))
"""
)

DASK = (
    PEAK
    + """
import json, os, sys, time
from pathlib import Path
from distributed import Client, LocalCluster
from training.dask_features import dask_features
from training.recipe import TransactionsSpec

if __name__ == "__main__":
    source, output = Path(sys.argv[1]), Path(sys.argv[2])
    workers, limit = int(sys.argv[3]), sys.argv[4]
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=limit,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.run(lambda: __import__("training.dask_features"))  # start-up, not work
        startup = time.perf_counter() - started
        before = client.run(os.getpid)
        start = time.perf_counter()
        result = dask_features(f"{source}/*.parquet", TransactionsSpec(), client)
        seconds = time.perf_counter() - start
        after = client.run(os.getpid)
        peaks = sorted(client.run(peak_mb).values())
    result.features.to_parquet(output / "features.parquet")
    restarted = sorted(before.values()) != sorted(after.values())
    print(json.dumps({"seconds": seconds, "lines": result.lines_read, "peak_mb": peaks,
                      "startup": startup, "restarted": restarted}))
"""
)


def _log(lines: int, lines_per_file: int) -> Path:
    sys.path.insert(0, str(ROOT))
    import pyarrow as pa
    import pyarrow.parquet as pq

    from training.sample_transactions import generate_transactions

    source = OUT / f"log-{lines}-{lines_per_file}"
    if source.is_dir():
        return source
    tmp = source.with_name(source.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written, part = 0, 0
    while written < lines:
        customers = max(1, (lines_per_file // LINES_PER_CUSTOMER))
        frame, _ = generate_transactions(customers, seed=100 + part, first_id=1 + part * customers)
        frame = frame.iloc[: lines - written]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, tmp / f"part-{part:04d}.parquet", row_group_size=250_000)
        written, part = written + len(frame), part + 1
    tmp.rename(source)
    return source


def _run(code: str, source: Path, output: Path, *extra: str) -> dict[str, object]:
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", code, str(source), str(output), *extra],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000_000)
    # 2,000,000-line files stalled 1 GB workers (idle, never restarted): keep partitions small.
    parser.add_argument("--lines-per-file", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB")
    args = parser.parse_args()
    source = _log(args.lines, args.lines_per_file)
    single = _run(SINGLE, source, OUT / "single")
    dask = _run(DASK, source, OUT / "dask", str(args.workers), str(args.memory_limit))
    for name, r in (("single", single), ("dask", dask)):
        seconds, lines = float(str(r["seconds"])), int(str(r["lines"]))
        peaks = ", ".join(f"{p:.0f}" for p in r["peak_mb"])  # type: ignore[attr-defined]
        print(
            f"{name:<7} {lines:>11,} lines  {seconds:7.2f} s  {lines / seconds:>11,.0f} lines/s"
            f"  peak MB: {peaks}"
        )
    import pandas as pd

    same = pd.read_parquet(OUT / "single" / "features.parquet").equals(
        pd.read_parquet(OUT / "dask" / "features.parquet")
    )
    ratio = float(str(single["seconds"])) / float(str(dask["seconds"]))
    print(
        f"dask on {args.workers} workers x {args.memory_limit}: {ratio:.2f}x the single "
        f"process's speed (cluster start-up {float(str(dask['startup'])):.1f} s not counted); "
        f"worker restarted (memory limit): {'yes' if dask['restarted'] else 'no'}; "
        f"identical features: {'yes' if same else 'NO'}"
    )


if __name__ == "__main__":
    main()
