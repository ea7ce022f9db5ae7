"""Benchmark: batch assignment on a Dask LocalCluster against the single-process chunked path.

N customers (default 20,000,000) are generated once as Parquet partitions of
``--rows-per-file`` rows (row groups of 250,000), then assigned twice, each in its own
process:

    single:  training.batch.assign_file on each file in turn (the chunked pyarrow path)
    dask:    training.dask_assign.assign_dataset on a LocalCluster of --workers worker
             processes (1 thread each) limited to --memory-limit each

Both time the work only: the single process after its imports, the cluster after its
start-up and its workers' imports (reported apart). It prints time, rows/s, the ratio
dask / single, peak memory (the single process; each Dask worker, read from /proc at the
end) and whether a worker was restarted (a worker over its memory limit is killed by its
nanny and its tasks re-run elsewhere).

    .venv/bin/python bench/dask_assign.py [--rows 20000000] [--workers 2] [--memory-limit 1GB]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "dask"

SINGLE = """
import json, sys, time
from pathlib import Path
from training.batch import assign_file
source, output, models = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
output.mkdir(parents=True)
start, rows = time.perf_counter(), 0
for path in sorted(source.glob("*.parquet")):
    rows += assign_file(path, output / path.name, models).rows_read
seconds = time.perf_counter() - start
status = Path("/proc/self/status").read_text()
peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": [peak_kb / 1024]}))
"""

DASK = """
import json, os, sys, time
from pathlib import Path
from distributed import Client, LocalCluster
from training.dask_assign import assign_dataset

def peak_mb():
    status = Path("/proc/self/status").read_text()
    return int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM"))) / 1024

if __name__ == "__main__":
    source, output, models = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    workers, limit = int(sys.argv[4]), sys.argv[5]
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=limit,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.run(lambda: __import__("training.dask_assign"))  # imports: start-up, not work
        startup = time.perf_counter() - started
        before = client.run(os.getpid)
        start = time.perf_counter()
        result = assign_dataset(f"{source}/*.parquet", output, models, None, client)
        seconds = time.perf_counter() - start
        after = client.run(os.getpid)
        peaks = sorted(client.run(peak_mb).values())
    restarted = sorted(before.values()) != sorted(after.values())
    print(json.dumps({"seconds": seconds, "rows": result.rows_read, "peak_mb": peaks,
                      "startup": startup, "restarted": restarted}))
"""


def _inputs(rows: int, rows_per_file: int) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT))
    import pyarrow as pa
    import pyarrow.parquet as pq

    from training.sample import generate_customers
    from training.train import TrainOptions, train

    OUT.mkdir(parents=True, exist_ok=True)
    models = OUT / "models"
    if not (models / "LATEST").is_file():
        sample = ROOT / "data" / "sample_customers.csv"
        train(TrainOptions(data=sample, models_dir=models, report=False))
    source = OUT / f"customers-{rows}"
    if not source.is_dir():
        tmp = source.with_name(source.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for i, first in enumerate(range(0, rows, rows_per_file)):
            frame = generate_customers(min(rows_per_file, rows - first), seed=100 + i, dirty=True)
            frame["CustomerID"] = [f"{i:04d}-{n:08d}" for n in range(len(frame))]
            table = pa.Table.from_pandas(frame.astype("string"), preserve_index=False)
            pq.write_table(table, tmp / f"part-{i:04d}.parquet", row_group_size=250_000)
        tmp.rename(source)
    return source, models


def _run(code: str, source: Path, output: Path, models: Path, *extra: str) -> dict[str, object]:
    shutil.rmtree(output, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-c", code, str(source), str(output), str(models), *extra],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB")
    args = parser.parse_args()
    source, models = _inputs(args.rows, args.rows_per_file)
    single = _run(SINGLE, source, OUT / "single", models)
    dask = _run(DASK, source, OUT / "dask-out", models, str(args.workers), str(args.memory_limit))
    for name, r in (("single", single), ("dask", dask)):
        seconds, rows = float(str(r["seconds"])), int(str(r["rows"]))
        peaks = ", ".join(f"{p:.0f}" for p in r["peak_mb"])  # type: ignore[attr-defined]
        print(
            f"{name:<7} {rows:>11,} rows  {seconds:7.2f} s  {rows / seconds:>11,.0f} rows/s  "
            f"peak MB: {peaks}"
        )
    ratio = float(str(single["seconds"])) / float(str(dask["seconds"]))
    print(
        f"dask on {args.workers} workers x {args.memory_limit}: {ratio:.2f}x the single "
        f"process's speed (cluster start-up {float(str(dask['startup'])):.1f} s not counted); "
        f"worker restarted (memory limit): {'yes' if dask['restarted'] else 'no'}"
    )


if __name__ == "__main__":
    main()
