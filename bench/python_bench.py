#!/usr/bin/python3
"""Benchmarks of the Python package against references measured in the same run (docs/benchmarks.md):

1. cltv.read_transactions of online retail vs pandas.read_csv of the same file (target >= 4x faster);
2. cltv.lifetimes.BetaGeoFitter().fit on the CDNOW master summary vs the scipy L-BFGS-B reference
   (bench/reference/bgnbd_scipy.py; target >= 50x faster, same parameters to 1e-4);
3. Model.predict on 1,000 online-retail customers vs the library call it makes, timed alone in the
   same process, and vs the `cltv predict` process on the same file (target: within 2x).

Usage, from the repository root after the release build:
  PYTHONPATH=build/release/python:python /usr/bin/python3 bench/python_bench.py [RUNS]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

import cltv
from cltv.lifetimes import BetaGeoFitter
from cltv.lifetimes.utils import summary_data_from_transaction_data

sys.path.insert(0, str(Path(__file__).parent / "reference"))
import bgnbd_scipy  # noqa: E402

DATA = Path("../shared/data")
RETAIL = DATA / "online-retail" / "online_retail.csv"
CLI = Path("build/release/cltv")


def best(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The best wall time of RUNS calls of WORK, in seconds, and its last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def report(name: str, ours: float, reference: float, reference_name: str) -> None:
    """One line: both times and how many times faster ours is (below 1: slower)."""
    print(f"{name}: {ours * 1000:.1f} ms vs {reference_name} {reference * 1000:.1f} ms: "
          f"{reference / ours:.2f}x")


def bench_read(runs: int) -> None:
    """read_transactions vs pandas.read_csv of online retail."""
    ours, frame = best(runs, lambda: cltv.read_transactions(RETAIL, schema="online-retail"))
    reference, _ = best(runs, lambda: pd.read_csv(RETAIL, dtype={"CustomerID": str, "InvoiceNo": str,
                                                                 "StockCode": str}))
    report(f"read_transactions ({len(frame)} lines)", ours, reference, "pandas.read_csv")


def bench_bgnbd(runs: int) -> None:
    """BetaGeoFitter.fit vs the scipy reference on the CDNOW master summary (23,570 customers, weeks)."""
    master = cltv.read_transactions(DATA / "cdnow" / "CDNOW_master.txt", schema="cdnow")
    summary = summary_data_from_transaction_data(master, "customer", "time", observation_period_end="1997-09-30",
                                                 freq="W")
    x, t_x, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    ours, fitter = best(runs, lambda: BetaGeoFitter().fit(x, t_x, T))
    reference, params = best(max(1, runs // 2), lambda: bgnbd_scipy.fit(x, t_x, T))
    report(f"BetaGeoFitter.fit ({len(summary)} customers)", ours, reference, "scipy L-BFGS-B")
    difference = np.max(np.abs(fitter.params_.to_numpy() - params))
    print(f"  parameters {dict(fitter.params_.round(6))} vs scipy {np.round(params, 6).tolist()}: "
          f"max abs difference {difference:.1e}")


def bench_predict(runs: int) -> None:
    """Model.predict of 1,000 customers active in the feature window vs the library and the CLI."""
    frame = pd.read_csv(RETAIL, dtype=str)
    dates = pd.to_datetime(frame["InvoiceDate"])
    active = frame.loc[(dates >= "2011-10-01") & (dates < "2011-12-01"), "CustomerID"].dropna().unique()[:1000]
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "retail_1000.csv"
        frame[frame["CustomerID"].isin(active)].to_csv(small, index=False)
        bundle = Path(tmp) / "model"
        subprocess.run([CLI, "train", "--input", small, "--schema", "online-retail", "--model", "bgnbd-gg",
                        "--train-as-of", "2011-10-01", "--out", bundle], check=True, capture_output=True)
        model = cltv.load(bundle)
        ours, predictions = best(runs, lambda: model.predict(small, schema="online-retail"))
        settings = [("input", str(small)), ("schema", "online-retail")]
        library, _ = best(runs, lambda: model._core.predict(None, settings, None))
        report(f"Model.predict ({len(predictions)} customers)", ours, library, "the library call alone")
        command = [CLI, "predict", "--model", bundle, "--input", small, "--schema", "online-retail",
                   "--out", Path(tmp) / "p.csv"]
        process, _ = best(runs, lambda: subprocess.run(command, check=True, capture_output=True))
        report("Model.predict", ours, process, "the cltv predict process")
        table = cltv.read_transactions(small, schema="online-retail")
        in_memory, _ = best(runs, lambda: model.predict(table))
        report("Model.predict of a DataFrame", in_memory, process, "the cltv predict process")


if __name__ == "__main__":
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"cltv {cltv.__version__}, Python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__}")
    bench_read(repeats)
    bench_bgnbd(repeats)
    bench_predict(repeats)
