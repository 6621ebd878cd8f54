#!/usr/bin/python3
"""Reference for the ingestion benchmark: pandas.read_csv of the online-retail file.

Prints the best wall time of N runs in milliseconds. Run with Debian's python3 and python3-pandas
(`scripts/setup bench`): /usr/bin/python3 bench/reference/read_pandas.py PATH [RUNS]
"""
import sys
import time

import pandas as pd

path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
best = float("inf")
for _ in range(runs):
    start = time.perf_counter()
    frame = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str})
    best = min(best, time.perf_counter() - start)
print(f"pandas.read_csv rows={len(frame)} best_ms={best * 1000:.1f}")
