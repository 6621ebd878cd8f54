"""Shared test helpers: the CLI binary to compare with, the shared data (a test skips when it is
missing, except under CI=true where it fails), and session-wide reads of the shared files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CLTV_SHARED_DATA_DIR", REPO.parent / "shared" / "data"))
CLI = Path(os.environ.get("CLTV_BINARY", REPO / "build" / "release" / "cltv"))


def shared_file(relative: str) -> Path:
    """The shared data file RELATIVE, or a skip (a failure under CI=true) when it is missing."""
    path = SHARED / relative
    if not path.exists():
        message = f"shared data {path} is missing"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return path


def cli(*args: object) -> str:
    """The standard output of the cltv command line with ARGS."""
    return subprocess.run([str(CLI), *map(str, args)], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def retail_path() -> Path:
    return shared_file("online-retail/online_retail.csv")


@pytest.fixture(scope="session")
def retail(retail_path: Path):
    import cltv

    return cltv.read_transactions(retail_path, schema="online-retail")


@pytest.fixture(scope="session")
def cdnow_summary():
    import pandas as pd

    return pd.read_csv(shared_file("cdnow/cdnow_customers_summary.csv"), index_col="ID", float_precision="round_trip")


@pytest.fixture(scope="session")
def cdnow_spend():
    import pandas as pd

    return pd.read_csv(shared_file("cdnow/cdnow_customers_summary_with_transactions.csv"), index_col="ID", float_precision="round_trip")
