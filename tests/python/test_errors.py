"""The package's basics: the version, and the core's errors as Python exceptions with their
messages and hints (missing file, bad schema, unknown settings, NaN and wrong array lengths)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cltv
from cltv.lifetimes import BetaGeoFitter

from conftest import cli


def test_version_is_the_cli_version() -> None:
    assert cli("--version").strip() == f"cltv {cltv.__version__}"


def test_error_classes_share_a_base_and_carry_the_hint() -> None:
    for error in (cltv.InputError, cltv.IOError, cltv.ConfigError, cltv.ModelError, cltv.InternalError):
        assert issubclass(error, cltv.Error)
    error = cltv.ConfigError("bad value", "use another")
    assert (error.message, error.hint, str(error)) == ("bad value", "use another", "bad value\nhint: use another")


def test_missing_file_is_an_io_error(tmp_path) -> None:
    with pytest.raises(cltv.IOError) as caught:
        cltv.read_transactions(tmp_path / "absent.csv", schema="online-retail")
    assert "absent.csv" in caught.value.message


def test_bad_schema_and_unknown_setting_are_config_errors(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("id date qty amount\n1 20200101 1 10\n")
    with pytest.raises(cltv.ConfigError) as caught:
        cltv.read_transactions(path, schema="no-such-schema")
    assert "no-such-schema" in str(caught.value)
    with pytest.raises(cltv.ConfigError) as caught:
        cltv.features(path, as_of="2020-02-01", schema="cdnow", no_such_flag=1)
    assert "unknown parameter 'no-such-flag'" in caught.value.message


def test_malformed_rows_are_input_errors_with_line_numbers(tmp_path) -> None:
    path = tmp_path / "tx.txt"
    path.write_text("1 20200101 1 10\n2 2020013x 1 5\n")
    with pytest.raises(cltv.InputError) as caught:
        cltv.read_transactions(path, schema="cdnow")
    assert "tx.txt:2" in str(caught.value)
    skipped = cltv.read_transactions(path, schema="cdnow", on_bad_row="skip")
    assert len(skipped) == 1
    assert skipped.attrs["accounting"]["rejected"] == 1


def test_nan_and_wrong_lengths_are_input_errors() -> None:
    with pytest.raises(cltv.InputError):
        BetaGeoFitter().fit([1.0, np.nan], [1.0, 2.0], [3.0, 4.0])
    with pytest.raises(cltv.InputError) as caught:
        BetaGeoFitter().fit([1.0, 2.0], [1.0, 2.0], [3.0, 4.0, 5.0])
    assert "one value per customer" in caught.value.message
    frame = pd.DataFrame({"customer": ["a", "b"], "time": pd.to_datetime(["2020-01-01", "2020-01-02"]),
                          "amount": [1.0, np.nan]})
    with pytest.raises(cltv.InputError) as caught:
        cltv.to_table(frame)
    assert "column 'amount', row 1" in caught.value.message
