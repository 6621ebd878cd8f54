"""The package on the shared online-retail file against the CLI on the same file: the reader's
columns and accounting (`cltv inspect --json`), the features (`cltv features`), a model's
predictions and metrics (`cltv train`, `predict`, `evaluate`), compare, save and load, and a
KeyboardInterrupt stopping a long call."""

from __future__ import annotations

import _thread
import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cltv
from cltv import _cltv

from conftest import cli

SPLIT = {"train_as_of": "2011-10-01", "test_as_of": "2011-11-01"}


def test_read_matches_inspect(retail: pd.DataFrame, retail_path: Path) -> None:
    report = json.loads(cli("inspect", "--input", retail_path, "--schema", "online-retail", "--json"))
    accounting = retail.attrs["accounting"]
    for key in ("read", "accepted", "rejected", "dropped", "rejected_by_reason", "dropped_by_reason"):
        assert accounting["rows_read" if key == "read" else key] == report["rows"][key], key
    assert list(retail.columns) == [*cltv.COLUMNS, "row_hash"] and len(retail) == report["rows"]["accepted"]
    for column, count in (("customer", "customers"), ("basket", "baskets"), ("unit", "units"), ("product", "products")):
        assert len(retail[column].cat.categories) == report[count], column
    assert str(retail["time"].min()) == report["first_time"] and str(retail["time"].max()) == report["last_time"]
    months = retail.groupby(retail["time"].dt.strftime("%Y-%m")).agg(rows=("amount", "size"), amount=("amount", "sum"),
                                                                      customers=("customer", "nunique"))
    expected = pd.DataFrame(report["months"]).set_index("month")
    np.testing.assert_array_equal(months["rows"], expected["rows"])
    np.testing.assert_array_equal(months["customers"], expected["customers"])
    np.testing.assert_allclose(months["amount"], expected["amount"], rtol=1e-9)
    assert retail.loc[0, "customer"] == "17850" and retail.loc[0, "basket"] == "536365"


def test_features_equal_the_cli(retail: pd.DataFrame, retail_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.csv"
    cli("features", "--input", retail_path, "--schema", "online-retail", "--as-of", "2011-11-01", "--out", out)
    expected = pd.read_csv(out, index_col="customer_id", dtype={"customer_id": str}, float_precision="round_trip")
    from_path = cltv.features(retail_path, as_of="2011-11-01", schema="online-retail")
    pd.testing.assert_frame_equal(from_path, expected, check_exact=True, check_dtype=False)
    from_frame = cltv.features(retail, as_of="2011-11-01")
    pd.testing.assert_frame_equal(from_frame, expected, check_exact=True, check_dtype=False)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, retail_path: Path) -> Path:
    """A bgnbd-gg bundle trained by the CLI."""
    out = tmp_path_factory.mktemp("bundle") / "model"
    cli("train", "--input", retail_path, "--schema", "online-retail", "--model", "bgnbd-gg",
        "--train-as-of", SPLIT["train_as_of"], "--test-as-of", SPLIT["test_as_of"], "--out", out)
    return out


def test_predictions_and_metrics_equal_the_cli(bundle: Path, retail: pd.DataFrame, retail_path: Path,
                                               tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    cli("predict", "--model", bundle, "--input", retail_path, "--schema", "online-retail", "--out", out)
    expected = pd.read_csv(out, index_col="customer_id", dtype={"customer_id": str, "next_purchase_date": str},
                           keep_default_na=False, float_precision="round_trip")
    model = cltv.load(bundle)
    predicted = model.predict(retail)
    pd.testing.assert_frame_equal(predicted, expected, check_exact=True, check_dtype=False)
    assert predicted.attrs["as_of"] == "2011-12-01"
    metrics = json.loads(cli("evaluate", "--model", bundle, "--input", retail_path, "--schema", "online-retail",
                             "--as-of", "2011-11-01", "--plots", "", "--json"))
    assert model.evaluate(retail_path, as_of="2011-11-01", schema="online-retail") == metrics


def test_train_save_load_and_compare(retail: pd.DataFrame, bundle: Path, tmp_path: Path) -> None:
    model = cltv.train(retail, model="bgnbd-gg", **SPLIT)
    assert model.kind == "bgnbd-gg" and model.feature_names == cltv.load(bundle).feature_names
    assert model.metrics["test"] == cltv.load(bundle).metrics["test"]
    model.save(tmp_path / "saved")
    assert (tmp_path / "saved" / "manifest.json").exists()
    pd.testing.assert_frame_equal(cltv.load(tmp_path / "saved").predict(retail), model.predict(retail))
    board = cltv.compare(retail, ["naive", "bgnbd-gg"], **SPLIT)
    assert list(board.index) == ["naive", "bgnbd-gg"]
    assert board.loc["bgnbd-gg", "mae_log1p"] == model.metrics["test"]["mae_log1p"]
    with pytest.raises(cltv.ConfigError):
        cltv.train(retail, model="no-such-model", **SPLIT)


def test_keyboard_interrupt_stops_training(retail: pd.DataFrame) -> None:
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cltv.train(retail, model="mlp", epochs=100000, **SPLIT)
    finally:
        timer.cancel()
    assert len(cltv.features(retail, as_of="2011-11-01")) > 0  # the package still works


def test_a_cancelled_read_runs_to_its_end(retail_path: Path) -> None:
    sink = _cltv.CallProgress()
    sink.cancel()  # parsing threads cannot stop midway: the read completes
    columns = _cltv.read([("input", str(retail_path)), ("schema", "online-retail")], sink)
    assert sink.state()[0] == "parse" and len(columns["amount"]) > 0
