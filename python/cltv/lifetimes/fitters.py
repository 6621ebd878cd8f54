"""lifetimes' fitters (BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter): maximum-likelihood fits and
per-customer predictions by the core's code (include/cltv/btyd), with lifetimes' names."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .. import _cltv
from ..errors import ModelError

ArrayLike = Any  # a scalar, a sequence, a numpy array or a pandas Series


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.atleast_1d(np.asarray(value, dtype=float)) for value in values]


def _like(result: np.ndarray, *inputs: ArrayLike) -> Any:
    """RESULT shaped as lifetimes returns it: a Series on the first Series input's index, a float for
    scalar inputs, else an array."""
    for value in inputs:
        if isinstance(value, pd.Series) and len(value) == len(result):
            return pd.Series(result, index=value.index)
    if all(np.ndim(value) == 0 for value in inputs):
        return float(result[0])
    return result


def _horizon(t: ArrayLike, customers: int) -> np.ndarray:
    return np.full(customers, float(t)) if np.ndim(t) == 0 else np.asarray(t, dtype=float)


class _Fitter:
    """What every fitter shares: the penalizer, the fitted model and its parameter table."""

    _kind = ""
    _names: dict[str, str] = {}  # the core's parameter names to lifetimes'

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef
        self._model: Any = None

    def _fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike | None) -> None:
        self._model = _cltv.fit_btyd(self._kind, *_arrays(frequency, recency, T),
                                     None if monetary_value is None else _arrays(monetary_value)[0],
                                     float(self.penalizer_coef))
        if not self._model.converged:
            raise ModelError(f"the {self.__class__.__name__} fit did not converge: {self._model.status}",
                             "try a penalizer_coef > 0")
        if self._model.boundary:
            warnings.warn(f"{self.__class__.__name__}: {self._model.boundary}", stacklevel=3)

    @property
    def params_(self) -> pd.Series:
        """The fitted parameters under lifetimes' names."""
        self._check_fitted()
        return pd.Series(self._model.values, index=[self._names.get(n, n) for n in self._model.names], dtype=float)

    @property
    def summary(self) -> pd.DataFrame:
        """coef, se(coef) (from the inverse Hessian) and the 95% bounds, one row per parameter."""
        coef = self.params_
        se = pd.Series(self._model.standard_errors, index=coef.index)
        return pd.DataFrame({"coef": coef, "se(coef)": se, "lower 95% bound": coef - 1.96 * se,
                             "upper 95% bound": coef + 1.96 * se})

    @property
    def log_likelihood_(self) -> float:
        """The (unpenalised) log-likelihood at the fitted parameters."""
        self._check_fitted()
        return self._model.log_likelihood

    def _check_fitted(self) -> None:
        if self._model is None:
            raise ValueError(f"{self.__class__.__name__} is not fitted yet: call fit() first")

    def __repr__(self) -> str:
        if self._model is None:
            return f"<cltv.lifetimes.{self.__class__.__name__}: not fitted>"
        text = ", ".join(f"{name}: {value:.2f}" for name, value in self.params_.items())
        return f"<cltv.lifetimes.{self.__class__.__name__}: fitted with {self._model.customers:.0f} subjects, {text}>"


class _PurchaseFitter(_Fitter):
    """The purchase-count models: BG/NBD and Pareto/NBD."""

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> "_PurchaseFitter":
        """Fit on each customer's frequency (repeat purchases), recency and age T, in one time unit."""
        self._fit(frequency, recency, T, None)
        self.data = pd.DataFrame({"frequency": _arrays(frequency)[0], "recency": _arrays(recency)[0],
                                  "T": _arrays(T)[0]})
        return self

    def conditional_expected_number_of_purchases_up_to_time(self, t: ArrayLike, frequency: ArrayLike,
                                                            recency: ArrayLike, T: ArrayLike) -> Any:
        """E[purchases in (T, T + t]] given each customer's history."""
        self._check_fitted()
        x, t_x, age = _arrays(frequency, recency, T)
        return _like(_cltv.expected_purchases(self._model, _horizon(t, len(x)), x, t_x, age), frequency, recency, T)

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """P(the customer is still active at T) given the history."""
        self._check_fitted()
        return _like(_cltv.p_alive(self._model, *_arrays(frequency, recency, T)), frequency, recency, T)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> Any:
        """E[purchases in (0, t]] of a new customer (no history: frequency, recency and T all 0)."""
        self._check_fitted()
        horizon = np.atleast_1d(np.asarray(t, dtype=float))
        zeros = np.zeros(len(horizon))
        return _like(_cltv.expected_purchases(self._model, horizon, zeros, zeros, zeros), t)


class BetaGeoFitter(_PurchaseFitter):
    """BG/NBD (Fader, Hardie and Lee 2005): purchases at Poisson rate lambda ~ Gamma(r, alpha) until a
    dropout after any purchase with probability p ~ Beta(a, b).

    >>> bgf = BetaGeoFitter(penalizer_coef=0.0)
    >>> bgf.fit(summary["frequency"], summary["recency"], summary["T"])
    >>> bgf.params_            # r, alpha, a, b
    >>> bgf.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)
    """

    _kind = "bgnbd"


class ParetoNBDFitter(_PurchaseFitter):
    """Pareto/NBD (Schmittlein, Morrison and Colombo 1987): Poisson purchases at rate lambda ~
    Gamma(r, alpha), exponential lifetimes at rate mu ~ Gamma(s, beta). Same methods as
    BetaGeoFitter; parameters r, alpha, s, beta."""

    _kind = "pnbd"


class GammaGammaFitter(_Fitter):
    """Gamma-Gamma spend model (Fader, Hardie and Lee 2005): each customer's mean spend per purchase,
    parameters p, q, v; fitted on the customers with repeat purchases (frequency > 0)."""

    _kind = "gg"
    _names = {"gamma": "v"}

    def fit(self, frequency: ArrayLike, monetary_value: ArrayLike) -> "GammaGammaFitter":
        """Fit on each customer's frequency and mean spend of the repeat purchases."""
        x, zbar = _arrays(frequency, monetary_value)
        zeros = np.zeros(len(x))
        self._fit(x, zeros, zeros, zbar)
        self.data = pd.DataFrame({"monetary_value": zbar, "frequency": x})
        return self

    def conditional_expected_average_profit(self, frequency: ArrayLike | None = None,
                                            monetary_value: ArrayLike | None = None) -> Any:
        """E[spend per purchase] given each customer's history (default: the customers fitted)."""
        self._check_fitted()
        if frequency is None or monetary_value is None:
            frequency, monetary_value = self.data["frequency"], self.data["monetary_value"]
        return _like(_cltv.spend_per_purchase(self._model, *_arrays(frequency, monetary_value)), frequency,
                     monetary_value)

    def customer_lifetime_value(self, transaction_prediction_model: _PurchaseFitter, frequency: ArrayLike,
                                recency: ArrayLike, T: ArrayLike, monetary_value: ArrayLike, time: int = 12,
                                discount_rate: float = 0.01, freq: str = "D") -> Any:
        """Discounted CLV over ``time`` months: each month's expected purchases times the expected
        spend, discounted at ``discount_rate`` a month; ``freq`` is the unit of recency and T
        ("D" days, "W" weeks)."""
        self._check_fitted()
        transaction_prediction_model._check_fitted()
        units = {"D": "days", "W": "weeks"}
        if freq not in units:
            raise ValueError(f"freq '{freq}' is not supported: use 'D' or 'W'")
        values = _cltv.clv(transaction_prediction_model._model, self._model, *_arrays(frequency, recency, T,
                           monetary_value), int(time), float(discount_rate), units[freq])
        result = _like(values, frequency, recency, T, monetary_value)
        return result.rename("clv") if isinstance(result, pd.Series) else result
