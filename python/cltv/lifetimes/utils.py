"""lifetimes.utils: RFM summaries of a transaction DataFrame, by the core's summary (``cltv btyd
summary``) with lifetimes' conventions (purchases on one day are one period; no cleaning)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _cltv
from ..errors import ConfigError
from ..transactions import to_table

_UNITS = {"D": "days", "W": "weeks"}


def _seconds(moment: Any) -> int:
    return int(pd.Timestamp(moment).value // 1_000_000_000)


def _summary(transactions: pd.DataFrame, customer_id_col: str, datetime_col: str, monetary_value_col: str | None,
             datetime_format: str | None, calibration_end: Any, holdout_end: Any, freq: str) -> tuple[dict, pd.Index]:
    """The core's summary of TRANSACTIONS and the customer ids (their original values) of its rows."""
    if freq not in _UNITS:
        raise ConfigError(f"freq '{freq}' is not supported", "use 'D' (days) or 'W' (weeks)")
    times = pd.to_datetime(transactions[datetime_col], format=datetime_format)
    codes, uniques = pd.factorize(transactions[customer_id_col])
    ids = pd.Index(uniques).astype(str)
    amount = transactions[monetary_value_col] if monetary_value_col is not None else np.zeros(len(transactions))
    frame = pd.DataFrame({"customer": pd.Categorical.from_codes(codes, categories=ids), "time": times,
                          "amount": amount}, copy=False)
    end = times.max() if calibration_end is None else calibration_end
    summary = _cltv.summarize(to_table(frame), _seconds(end), None if holdout_end is None else _seconds(holdout_end),
                              _UNITS[freq])
    index = pd.Index(uniques[ids.get_indexer(summary["ids"])], name=customer_id_col)
    return summary, index


def summary_data_from_transaction_data(transactions: pd.DataFrame, customer_id_col: str, datetime_col: str,
                                       monetary_value_col: str | None = None, datetime_format: str | None = None,
                                       observation_period_end: Any = None, freq: str = "D") -> pd.DataFrame:
    """Per customer: frequency (repeat purchase periods), recency (first to last purchase), T (first
    purchase to ``observation_period_end``, default the last transaction) and, with
    ``monetary_value_col``, monetary_value (mean spend of the repeat periods); ``freq`` "D" or "W"."""
    summary, index = _summary(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format,
                              observation_period_end, None, freq)
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if monetary_value_col is not None else [])
    return pd.DataFrame({name: summary[name] for name in columns}, index=index)


def calibration_and_holdout_data(transactions: pd.DataFrame, customer_id_col: str, datetime_col: str,
                                 calibration_period_end: Any, observation_period_end: Any = None, freq: str = "D",
                                 datetime_format: str | None = None,
                                 monetary_value_col: str | None = None) -> pd.DataFrame:
    """The summary at ``calibration_period_end`` (columns ``*_cal``) plus the holdout up to
    ``observation_period_end`` (default the last transaction): frequency_holdout, with
    ``monetary_value_col`` monetary_value_holdout, and duration_holdout."""
    if observation_period_end is None:
        observation_period_end = pd.to_datetime(transactions[datetime_col], format=datetime_format).max()
    summary, index = _summary(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format,
                              calibration_period_end, observation_period_end, freq)
    money = monetary_value_col is not None
    frame = pd.DataFrame({"frequency_cal": summary["frequency"], "recency_cal": summary["recency"],
                          "T_cal": summary["T"]}, index=index)
    if money:
        frame["monetary_value_cal"] = summary["monetary_value"]
    frame["frequency_holdout"] = summary["frequency_holdout"]
    if money:
        frame["monetary_value_holdout"] = summary["monetary_value_holdout"]
    frame["duration_holdout"] = summary["duration_holdout"]
    return frame
