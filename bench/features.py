"""Benchmark: transactions -> per-customer features, ours (DuckDB SQL) against pandas.

Generates a log of about ``--lines`` lines (default 10,000,000 for ~500,000 customers,
with the sample generator's personas, ~20 lines each), then in separate processes:
our recipe (``compute_features``), a pandas ``groupby`` of the same features, and the
whole ``segments train --transactions --spec rfm`` (report included). Prints time and peak
memory of each and the ratio.

    .venv/bin/python bench/features.py [--lines 10000000] [--keep DIR]

Targets (2-core machine, full scale): >= 5x faster than pandas, <= 1.5 GB peak, the whole
train <= 45 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINES_PER_CUSTOMER = 20
CHUNK = 50_000

OURS = """
import json, sys, time
def peak_mb():
    # VmHWM: this process's own peak RSS (ru_maxrss survives fork + exec on Linux).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from pathlib import Path
from training.features import compute_features
from training.recipe import TransactionsSpec
start = time.perf_counter()
result = compute_features(Path(sys.argv[1]), TransactionsSpec())
print(json.dumps({"seconds": time.perf_counter() - start, "customers": len(result.features),
                  "lines": result.lines_read,
                  "peak_mb": peak_mb()}))
"""

PANDAS = """
import json, sys, time
def peak_mb():
    # VmHWM: this process's own peak RSS (ru_maxrss survives fork + exec on Linux).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import numpy as np, pandas as pd
start = time.perf_counter()
f = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
ts = pd.to_datetime(f["InvoiceDate"], format="%Y-%m-%d %H:%M", errors="coerce")
value = pd.to_numeric(f["Quantity"], errors="coerce") * pd.to_numeric(
    f["UnitPrice"], errors="coerce")
ok = ts.notna() & value.notna() & (f["CustomerID"] != "")
f = pd.DataFrame({"c": f["CustomerID"], "day": ts.dt.normalize(), "value": value,
                  "order": f["InvoiceNo"], "online": f["Channel"] == "online",
                  "coupon": f["Coupon"] != ""})[ok]
as_of = f["day"].max() + pd.Timedelta(days=1)
cancel = f["order"].str.startswith("C")
f["signed"] = np.where(cancel, -f["value"].abs(), f["value"])
buy = ~cancel & (f["value"] >= 0)
b = f[buy].assign(q=f["day"].dt.quarter, month=f["day"].dt.to_period("M"),
                  weekend=f["day"].dt.dayofweek >= 5)
g = b.groupby("c")
out = pd.DataFrame({"frequency": g["order"].nunique(), "gross": g["signed"].sum(),
                    "first": g["day"].min(), "last": g["day"].max(),
                    "active_months": g["month"].nunique()})
out["returned"] = (-f[~buy].groupby("c")["signed"].sum()).reindex(out.index, fill_value=0)
quarters = b.pivot_table(index="c", columns="q", values="signed", aggfunc="sum", fill_value=0)
out["weekend"] = b[b["weekend"]].groupby("c")["order"].nunique().reindex(out.index, fill_value=0)
out["online"] = b[b["online"]].groupby("c")["signed"].sum().reindex(out.index, fill_value=0)
out["coupon"] = b[b["coupon"]].groupby("c")["order"].nunique().reindex(out.index, fill_value=0)
res = pd.DataFrame(index=out.index)
res["recency_days"] = (as_of - out["last"]).dt.days
res["frequency"] = out["frequency"]
res["monetary"] = (out["gross"] - out["returned"]).clip(lower=0)
res["avg_order_value"] = res["monetary"] / res["frequency"]
res["tenure_days"] = (as_of - out["first"]).dt.days
gaps = (out["last"] - out["first"]).dt.days / (out["frequency"] - 1)
res["mean_days_between_orders"] = gaps.where(out["frequency"] > 1)
res["active_months"] = out["active_months"]
res["return_rate"] = out["returned"] / out["gross"].replace(0, np.nan)
res["peak_quarter_share"] = quarters.max(axis=1).reindex(out.index) / out["gross"]
res["q4_share"] = quarters.get(4, 0).reindex(out.index) / out["gross"]
res["weekend_share"] = out["weekend"] / out["frequency"]
res["online_share"] = out["online"] / out["gross"]
res["coupon_share"] = out["coupon"] / out["frequency"]
print(json.dumps({"seconds": time.perf_counter() - start, "customers": len(res),
                  "peak_mb": peak_mb()}))
"""


def _run(code: str, *args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _generate(path: Path, lines: int) -> None:
    from training.sample_transactions import generate_transactions

    customers = max(lines // LINES_PER_CUSTOMER, 1)
    scale = LINES_PER_CUSTOMER / 12.9  # the generator's personas average ~12.9 lines
    with path.open("w", newline="") as handle:
        for n, first in enumerate(range(0, customers, CHUNK)):
            size = min(CHUNK, customers - first)
            frame, _ = generate_transactions(size, seed=n, first_id=first + 1, order_scale=scale)
            frame.to_csv(handle, index=False, header=n == 0)


def _train(path: Path, models: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "segments"),
            "train",
            "--transactions",
            str(path),
            "--spec",
            "rfm",
            "--models-dir",
            str(models),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    print(next(line for line in done.stdout.splitlines() if line.startswith("timings:")))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated log and models here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "transactions.csv"
        start = time.perf_counter()
        _generate(log, args.lines)
        print(f"generated {log.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - start:.1f}s")
        ours = _run(OURS, str(log))
        base = _run(PANDAS, str(log))
        print(
            f"lines {ours['lines']:,.0f}, customers {ours['customers']:,.0f} "
            f"(pandas: {base['customers']:,.0f})"
        )
        print(f"ours (DuckDB):   {ours['seconds']:7.2f} s  peak {ours['peak_mb']:7.0f} MB")
        print(f"pandas groupby:  {base['seconds']:7.2f} s  peak {base['peak_mb']:7.0f} MB")
        print(f"speed-up: {base['seconds'] / ours['seconds']:.1f}x")
        seconds = _train(log, folder / "models")
        print(f"segments train --transactions --spec rfm (report included): {seconds:.1f} s")


if __name__ == "__main__":
    main()
