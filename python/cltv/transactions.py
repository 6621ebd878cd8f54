"""Transactions in and features out: the reader and the feature set of the core, as DataFrames."""

from __future__ import annotations

import os
from typing import Any, Union

import numpy as np
import pandas as pd

from . import _cltv
from ._call import call, flags

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[PathLike, pd.DataFrame]

#: The canonical transaction columns, in order (read_transactions adds row_hash after them).
COLUMNS = ("customer", "basket", "time", "amount", "quantity", "unit", "product")


def _categorical(codes: np.ndarray, ids: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=object))


def read_transactions(path: PathLike, schema: str, on_bad_row: str = "fail", *, threads: int | None = None,
                      s3_endpoint: str | None = None, progress: bool = False) -> pd.DataFrame:
    """Read a transaction file as ``cltv inspect`` does.

    ``path`` is a local path, ``file://`` URI or ``s3://bucket/key``; ``schema`` a built-in schema
    (``lpoint``, ``online-retail``, ``cdnow``) or a JSON schema file; ``on_bad_row`` is ``"fail"``,
    ``"skip"`` or ``"quarantine=PATH"``. Returns one row per accepted line with the canonical columns
    (customer, basket, unit and product as categoricals, time as naive datetimes as written, amount
    and quantity as floats), then ``row_hash``, the hash of the line's fields in the file, which
    lets cleaning find exact duplicates as the CLI does. ``frame.attrs["accounting"]`` holds rows read, accepted, rejected and
    dropped by reason, and the first problems; ``frame.attrs["schema"]`` the schema.
    """
    settings = flags(dict(input=path, schema=schema, on_bad_row=on_bad_row, threads=threads, s3_endpoint=s3_endpoint))
    columns = call(_cltv.read, settings, progress=progress)
    frame = pd.DataFrame({
        "customer": _categorical(columns["customer"], columns["customer_ids"]),
        "basket": _categorical(columns["basket"], columns["basket_ids"]),
        "time": (columns["time"] * 1_000_000_000).view("datetime64[ns]"),
        "amount": columns["amount"],
        "quantity": columns["quantity"],
        "unit": _categorical(columns["unit"], columns["units"]),
        "product": _categorical(columns["product"], columns["products"]),
        "row_hash": columns["row_hash"],
    }, copy=False)
    frame.attrs["accounting"] = columns["report"]
    frame.attrs["schema"] = str(schema)
    return frame


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1: missing) and the text of each code."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), values.cat.categories.astype(str).tolist()
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques).astype(str).tolist()


def _constant(rows: int, text: str) -> tuple[np.ndarray, list[str]]:
    return np.zeros(rows, dtype=np.int64), [text]


def to_table(frame: pd.DataFrame, schema: str | None = None) -> Any:
    """The core's table of FRAME, which has at least customer, time and amount (see COLUMNS).

    Without basket, each customer's distinct times are baskets; without quantity, 1; without unit,
    ``"all"``; without product, ``"unknown"``; without row_hash (see :func:`read_transactions`),
    exact duplicates are rows with equal canonical columns. SCHEMA (default ``frame.attrs["schema"]``) gives the
    rule that marks returns. Missing values, NaN and infinite numbers are an InputError.
    """
    missing = [name for name in ("customer", "time", "amount") if name not in frame.columns]
    if missing:
        raise KeyError(f"the transactions lack the column(s) {missing}; expected {list(COLUMNS)}")
    rows = len(frame)
    customer = _codes(frame["customer"])
    times = pd.to_datetime(frame["time"]).to_numpy("datetime64[ns]").view(np.int64)
    if "basket" in frame.columns:
        basket = _codes(frame["basket"])
    else:
        keys = pd.DataFrame({"customer": customer[0], "time": times})
        groups = keys.groupby(["customer", "time"], sort=False).ngroup().to_numpy()
        basket = (groups, np.arange(int(groups.max(initial=-1)) + 1).astype(str).tolist())
    quantity = frame["quantity"].to_numpy(float) if "quantity" in frame.columns else np.ones(rows)
    unit = _codes(frame["unit"]) if "unit" in frame.columns else _constant(rows, "all")
    product = _codes(frame["product"]) if "product" in frame.columns else _constant(rows, "unknown")
    return _cltv.make_transactions(schema or frame.attrs.get("schema", ""), *customer, *basket, times,
                                   pd.to_numeric(frame["amount"]).to_numpy(float), quantity, *unit, *product,
                                   frame["row_hash"].to_numpy() if "row_hash" in frame.columns else None)


def source(transactions: Source, schema: str | None) -> tuple[Any, dict[str, Any]]:
    """The table (None for a file) and the input settings of a call given TRANSACTIONS."""
    if isinstance(transactions, pd.DataFrame):
        return to_table(transactions, schema), {"schema": schema or transactions.attrs.get("schema")}
    return None, {"input": transactions, "schema": schema}


def features(transactions: Source, as_of: Any, feature_months: int = 2, population: str = "window", *,
             schema: str | None = None, progress: bool = False, **settings: Any) -> pd.DataFrame:
    """The per-customer feature set of ``cltv features``, indexed by customer id.

    ``transactions`` is a file location (then ``schema`` is required) or a DataFrame of
    :func:`read_transactions`. ``as_of`` is the first day of the target period. Other settings are
    the flags of ``cltv features`` with ``_`` for ``-`` (``horizon_months``, ``returns``,
    ``drop_top_baskets``, ``keep_absurd_amounts``, ``threads``...). When the data reaches the target
    period the columns ``target_amount`` and ``target_log1p`` follow the features.
    """
    table, input_settings = source(transactions, schema)
    settings = flags(dict(input_settings, as_of=as_of, feature_months=feature_months, population=population,
                          **settings))
    result = call(_cltv.features, table, settings, progress=progress)
    frame = pd.DataFrame(result["values"], columns=result["names"],
                         index=pd.Index(result["customer_ids"], name="customer_id"), copy=False)
    if "target_amount" in result:
        frame["target_amount"] = result["target_amount"]
        frame["target_log1p"] = result["target_log1p"]
    return frame
