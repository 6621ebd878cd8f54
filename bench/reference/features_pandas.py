#!/usr/bin/python3
"""Reference for the feature benchmark: a straightforward pandas implementation of the feature
spec in docs/features.md (online-retail schema, default options), timed from reading the CSV to
writing the feature CSV.

Run with Debian's python3 and python3-pandas:
  /usr/bin/python3 bench/reference/features_pandas.py INPUT AS_OF OUT.csv [RUNS]
Prints the best wall time of RUNS runs (default 3) in milliseconds and the population size.
"""
import sys
import time

import numpy as np
import pandas as pd

FEATURE_MONTHS = 2
HORIZON_MONTHS = 1
RANDOMNESS_THRESHOLD = 13.0
ACTIVENESS_THRESHOLD = 8.0
DAY = 86400.0


def build(path, as_of_text, out_path):
    raw = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str})
    raw["CustomerID"] = raw["CustomerID"].str.removesuffix(".0")
    # 2. rows without a customer
    df = raw[raw["CustomerID"].notna() & (raw["CustomerID"] != "")].copy()
    customer_order = pd.unique(df["CustomerID"])
    df["amount"] = df["Quantity"] * df["UnitPrice"]
    # 3. amount <= 0
    df = df[df["amount"] > 0].copy()
    # 4. quantity 0 -> 1
    df.loc[df["Quantity"] == 0, "Quantity"] = 1
    # 5. exact duplicates of the input row
    df = df.drop_duplicates(subset=list(raw.columns))
    df["time"] = pd.to_datetime(df["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    df["StockCode"] = df["StockCode"].fillna("unknown")

    as_of = pd.Timestamp(as_of_text)
    starts = [as_of - pd.DateOffset(months=k) for k in range(1, FEATURE_MONTHS + 1)]
    target_end = as_of + pd.DateOffset(months=HORIZON_MONTHS)
    units = sorted(df["Country"].unique())

    window = df[(df["time"] >= starts[-1]) & (df["time"] < as_of)].copy()
    window["k"] = np.select([window["time"] >= s for s in starts], list(range(1, FEATURE_MONTHS + 1)))
    in_window = set(window["CustomerID"])
    customers = [c for c in customer_order if c in in_window]

    per_unit = window.groupby(["CustomerID", "k", "Country"]).agg(
        qty_sum=("Quantity", "sum"), amount_sum=("amount", "sum"), qty_mean=("Quantity", "mean"),
        amount_mean=("amount", "mean"), baskets=("InvoiceNo", "nunique"))
    wide = per_unit.unstack(["k", "Country"])
    columns, names = [], []
    for k in range(1, FEATURE_MONTHS + 1):
        for u in units:
            for stat in ["qty_sum", "amount_sum", "qty_mean", "amount_mean", "baskets"]:
                columns.append((stat, k, u))
                names.append(f"m{k}_{u}_{stat}")
    wide = wide.reindex(index=customers, columns=pd.MultiIndex.from_tuples(columns)).fillna(0.0)
    wide.columns = names
    f = wide

    f["window_amount"] = window.groupby("CustomerID")["amount"].sum().reindex(customers)
    basket_totals = window.groupby(["CustomerID", "InvoiceNo"])["amount"].sum()
    f["basket_amount_std"] = basket_totals.groupby(level=0).std(ddof=1).reindex(customers).fillna(0.0)
    s = pd.Series(0.0, index=customers)
    for k in range(1, FEATURE_MONTHS):
        for u in units:
            a, b = f[f"m{k}_{u}_amount_sum"], f[f"m{k + 1}_{u}_amount_sum"]
            term = ((a - b) ** 2 / (a + b)).where(a + b != 0, 0.0)
            s = s + term
    f["price_randomness"] = np.log1p(s)
    f["low_randomness"] = (f["price_randomness"] < RANDOMNESS_THRESHOLD).astype(float)
    f["high_randomness"] = 1.0 - f["low_randomness"]
    f["amount_x_lowrand"] = f["low_randomness"] * f["window_amount"]
    f["amount_x_highrand"] = f["high_randomness"] * f["window_amount"]
    times = window.groupby("CustomerID")["time"].agg(["min", "max"]).reindex(customers)
    f["recency_days"] = (as_of - times["max"]).dt.total_seconds() / DAY
    nbaskets = window.groupby("CustomerID")["InvoiceNo"].nunique().reindex(customers)
    f["cadence_days"] = (times["max"] - times["min"]).dt.total_seconds() / DAY / nbaskets
    f["activeness"] = f["cadence_days"] / f["recency_days"] + 1.0
    f["active"] = (f["activeness"] >= ACTIVENESS_THRESHOLD).astype(float)
    f["inactive"] = 1.0 - f["active"]
    for group in ["inactive", "active"]:
        for rand in ["low", "high"]:
            f[f"log_amount_{group}_{rand}rand"] = np.log1p(f[group] * f["window_amount"] * f[f"{rand}_randomness"])
    qty = window.groupby(["CustomerID", "StockCode"])["Quantity"].sum()
    share = qty / qty.groupby(level=0).transform("sum")
    f["product_hhi_log"] = np.log((share ** 2).groupby(level=0).sum().reindex(customers))
    f["product_count_log"] = np.log1p(window.groupby("CustomerID")["StockCode"].nunique().reindex(customers))

    if df["time"].max() >= as_of:
        target = df[(df["time"] >= as_of) & (df["time"] < target_end)]
        f["target_amount"] = target.groupby("CustomerID")["amount"].sum().reindex(customers).fillna(0.0)
        f["target_log1p"] = np.log1p(f["target_amount"])
    f.index.name = "customer_id"
    f.to_csv(out_path)  # floats are written with repr, which round-trips
    return len(f)


def main():
    path, as_of, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        customers = build(path, as_of, out_path)
        best = min(best, time.perf_counter() - start)
    print(f"pandas features customers={customers} best_ms={best * 1000:.1f}")


if __name__ == "__main__":
    main()
