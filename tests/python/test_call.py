"""How calls reach the core: keyword settings as flags, and the terminal progress bar."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest

from cltv import _call


def test_settings_become_flags() -> None:
    settings = {"feature_months": 3, "as_of": datetime.date(2011, 11, 1), "allow_partial_window": True,
                "keep_absurd_amounts": False, "levels": [100, 250.5], "out": Path("/tmp/x"), "seed": None,
                "valid_as_of": pd.Timestamp("2011-09-01 10:00")}
    assert _call.flags(settings) == [("feature-months", "3"), ("as-of", "2011-11-01"), ("allow-partial-window", "true"),
                                     ("levels", "100,250.5"), ("out", "/tmp/x"), ("valid-as-of", "2011-09-01")]


def test_terminal_bar(capsys: pytest.CaptureFixture[str]) -> None:
    bar = _call._TerminalBar()
    bar.show("parse", 50, 200, "bytes")
    bar.close()
    assert "parse [#######......" in capsys.readouterr().err
