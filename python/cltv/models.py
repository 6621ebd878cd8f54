"""Spend models: train, load, save, predict, evaluate, compare, and the whole run, by the calls of
``cltv train / predict / evaluate / compare / run``. Settings are those commands' flags by name."""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from . import _cltv
from ._call import call, flags
from .transactions import PathLike, Source, source


class Model:
    """A trained spend model bundle (what ``cltv train --out`` writes).

    Get one from :func:`train` or :func:`load`; ``predict`` scores customers, ``evaluate`` compares
    predictions with what customers spent, ``save`` writes the bundle.
    """

    def __init__(self, core: Any) -> None:
        self._core = core

    @property
    def kind(self) -> str:
        """The model's registry name, e.g. ``"stack"``."""
        return self._core.kind

    @property
    def feature_names(self) -> list[str]:
        """The feature contract: the feature columns the model reads, in order."""
        return self._core.feature_names

    @property
    def pipeline(self) -> dict[str, Any]:
        """The manifest's pipeline settings and results (cleaning, features, split, metrics...)."""
        return self._core.pipeline

    @property
    def metrics(self) -> dict[str, Any]:
        """Training, validation and test metrics by set name, as the manifest records them."""
        return self.pipeline.get("metrics", {})

    def __repr__(self) -> str:
        return f"<cltv.Model {self.kind}: {len(self.feature_names)} features>"

    def save(self, path: PathLike, *, s3_endpoint: str | None = None) -> None:
        """Write the bundle to the directory (or ``s3://`` location) PATH, as ``cltv train --out``."""
        self._core.save(str(path), flags(dict(s3_endpoint=s3_endpoint)))

    def predict(self, transactions: Source, as_of: Any = None, *, schema: str | None = None,
                progress: bool = False, **settings: Any) -> pd.DataFrame:
        """Score every customer as ``cltv predict`` does: one row per customer id with
        expected_spend, p_buy, p10, p50, p90, current_monthly_spend, current_level,
        predicted_level, p_down, p_same, p_up, trend, spend_at_risk (and p_alive,
        expected_purchases, next_purchase_date for the "buy 'til you die" models).

        ``as_of`` defaults to the day after the last complete month of data. Other settings:
        ``allow_partial_window``, ``allow_unit_mismatch``, ``levels``, ``threads``... The as-of,
        its note, warnings and level cuts are in ``frame.attrs``.
        """
        table, input_settings = source(transactions, schema)
        result = call(self._core.predict, table, flags(dict(input_settings, as_of=as_of, **settings)),
                      progress=progress)
        columns = result.pop("columns")
        frame = pd.DataFrame(columns, copy=False).set_index("customer_id")
        frame.attrs.update(result)
        return frame

    def evaluate(self, transactions: Source, as_of: Any, *, schema: str | None = None, progress: bool = False,
                 **settings: Any) -> dict[str, Any]:
        """Metrics of the model on the window at ``as_of`` against actual spend, as ``cltv evaluate
        --json`` (``plots=DIR`` also writes its charts)."""
        table, input_settings = source(transactions, schema)
        return call(self._core.evaluate, table, flags(dict(input_settings, as_of=as_of, **settings)),
                    progress=progress)


def train(transactions: Source, model: str = "stack", train_as_of: Any = None, *, schema: str | None = None,
          progress: bool = False, **settings: Any) -> Model:
    """Train MODEL on a time split as ``cltv train`` does (without writing: call ``save``).

    ``transactions`` is a file location (then ``schema`` is required) or a DataFrame of
    :func:`cltv.read_transactions`. Settings are ``cltv train``'s flags with ``_`` for ``-``:
    ``valid_as_of``, ``test_as_of``, ``train_windows``, ``feature_months``, ``seed``, ``levels``
    and every model's hyperparameters (``cltv train --help``). ``cltv.model_names()`` lists models.
    """
    table, input_settings = source(transactions, schema)
    settings = flags(dict(input_settings, train_as_of=train_as_of, **settings))
    return Model(call(_cltv.train, table, model, settings, progress=progress))


def load(location: PathLike, *, s3_endpoint: str | None = None) -> Model:
    """Load and verify a bundle: a bundle directory, a run directory or ``ARTIFACTS/models/LATEST``,
    local or ``s3://``."""
    return Model(_cltv.load(str(location), flags(dict(s3_endpoint=s3_endpoint))))


def compare(transactions: Source, models: Sequence[str] | None = None, *, train_as_of: Any, test_as_of: Any,
            schema: str | None = None, progress: bool = False, **settings: Any) -> pd.DataFrame:
    """Train and evaluate MODELS (default: every model) on one split, as ``cltv compare``: a
    leaderboard with one row per model (in the order given) and its test-set metrics; the split is
    in ``frame.attrs["split"]``."""
    table, input_settings = source(transactions, schema)
    settings = flags(dict(input_settings, train_as_of=train_as_of, test_as_of=test_as_of, **settings))
    names = list(models) if models is not None else _cltv.model_names()
    result = call(_cltv.compare, table, names, settings, progress=progress)
    rows = [{"model": row["model"], "fit_seconds": row["fit_seconds"],
             **{key: value for key, value in row["metrics"]["test"].items() if key != "deciles"}}
            for row in result["models"]]
    frame = pd.DataFrame(rows).set_index("model")
    frame.attrs["split"] = result["split"]
    return frame


def run(*, progress: bool = False, **settings: Any) -> dict[str, Any]:
    """The whole job of ``cltv run`` (read, clean, train, evaluate, score, publish), settings by its
    flag names (``source``, ``schema``, ``model``, ``work``, ``artifacts``, ``as_of``...).
    Returns the run id, its directory, where it was published, the LATEST pointer and its metrics.
    With ``progress=True`` the run's steps and bars are written to standard error."""
    return call(_cltv.run, flags(settings), progress, progress=False)


def model_names() -> list[str]:
    """The registered spend models, as ``cltv train --help`` lists them."""
    return _cltv.model_names()
