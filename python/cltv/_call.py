"""How the package calls the core: keyword settings become the CLI's flags, and long calls run on a
worker thread so that the caller can draw a progress bar and stop them with Ctrl-C."""

from __future__ import annotations

import datetime
import os
import sys
import threading
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import _cltv


def _text(value: Any) -> str:
    """The flag text of VALUE: dates as YYYY-MM-DD, sequences joined with commas."""
    if value is True:
        return "true"
    if isinstance(value, (datetime.date, np.datetime64, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, (list, tuple)):
        return ",".join(_text(item) for item in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def flags(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Settings by flag name (``feature_months`` is ``--feature-months``); None and False are left unset."""
    return [(key.replace("_", "-"), _text(value)) for key, value in settings.items()
            if value is not None and value is not False]


class _TerminalBar:
    """A one-line text bar on standard error."""

    def show(self, task: str, done: int, total: int, unit: str) -> None:
        if not task:
            return
        if total > 0:
            filled = int(30 * min(done, total) / total)
            line = f"{task} [{'#' * filled}{'.' * (30 - filled)}] {100 * done / total:5.1f}% of {total:,} {unit}"
        else:
            line = f"{task}: {done:,} {unit}"
        sys.stderr.write("\r" + line.ljust(78)[:78])
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


class _NotebookBar:
    """An ipywidgets progress bar."""

    def __init__(self, widgets: Any) -> None:
        from IPython.display import display

        self._bar = widgets.FloatProgress(min=0.0, max=1.0)
        self._label = widgets.Label()
        display(widgets.HBox([self._bar, self._label]))

    def show(self, task: str, done: int, total: int, unit: str) -> None:
        if task:
            self._bar.value = done / total if total > 0 else 0.0
            self._label.value = f"{task}: {done:,} of {total:,} {unit}" if total > 0 else f"{task}: {done:,} {unit}"

    def close(self) -> None:
        self._bar.bar_style = "success"


def _progress_bar() -> _TerminalBar | _NotebookBar | None:
    """A bar for where the caller works: a notebook with ipywidgets, else a terminal, else none."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if type(shell).__name__ == "ZMQInteractiveShell":
        try:
            import ipywidgets
        except ImportError:
            return None
        return _NotebookBar(ipywidgets)
    return _TerminalBar() if sys.stderr.isatty() else None


def call(function: Callable[..., Any], *args: Any, progress: bool = False) -> Any:
    """FUNCTION(*ARGS, sink) on a worker thread (the core releases the GIL), showing its progress
    when PROGRESS; a KeyboardInterrupt stops the work at its next progress report and is re-raised."""
    sink = _cltv.CallProgress()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = function(*args, sink)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    bar = _progress_bar() if progress else None
    worker = threading.Thread(target=work, name="cltv", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            if bar is not None:
                bar.show(*sink.state())
    except KeyboardInterrupt:
        sink.cancel()
        worker.join()
        raise
    finally:
        if bar is not None:
            bar.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
