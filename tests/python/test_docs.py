"""Runs the Python blocks of docs/python.md in order, from the repository root, so that the
walk-through cannot rot. A block importing matplotlib is skipped when matplotlib is missing."""

from __future__ import annotations

import importlib.util
import os
import re

from conftest import REPO, shared_file


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_walk_through_runs(monkeypatch) -> None:
    shared_file("online-retail/online_retail.csv")
    monkeypatch.chdir(REPO)
    os.environ.setdefault("MPLBACKEND", "Agg")
    blocks = python_blocks((REPO / "docs" / "python.md").read_text())
    assert len(blocks) >= 6
    namespace: dict = {}
    for block in blocks:
        if "import matplotlib" in block and importlib.util.find_spec("matplotlib") is None:
            continue
        exec(compile(block, "docs/python.md", "exec"), namespace)
    assert len(namespace["predictions"]) > 1000
    assert namespace["bgf"].params_["r"] > 0
