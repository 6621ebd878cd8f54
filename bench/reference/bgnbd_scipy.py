#!/usr/bin/python3
"""Reference for the BG/NBD fit benchmark: a straightforward scipy implementation of the BG/NBD
log-likelihood (Fader, Hardie and Lee 2005, as lifetimes writes it), minimised with L-BFGS-B over
the log-parameters from lifetimes' start (all ones), one term per customer, numerical gradient.

Used by bench/python_bench.py; on its own: /usr/bin/python3 bench/reference/bgnbd_scipy.py RFM.csv
(columns frequency, recency, T) prints the parameters r, alpha, a, b.
"""
from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln


def negative_log_likelihood(log_params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """The mean negative log-likelihood of the customers (x, t_x, T) at exp(LOG_PARAMS)."""
    r, alpha, a, b = np.exp(log_params)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(t_x + alpha)
    top = np.maximum(a3, a4)
    log_sum = np.log(np.exp(a3 - top) + (x > 0) * np.exp(a4 - top)) + top
    return -np.mean(a1 + a2 + log_sum)


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The maximum-likelihood r, alpha, a, b."""
    result = minimize(negative_log_likelihood, np.zeros(4), args=(x, t_x, T), method="L-BFGS-B",
                      options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 10000})
    if not result.success:
        raise RuntimeError(f"L-BFGS-B did not converge: {result.message}")
    return np.exp(result.x)


if __name__ == "__main__":
    import pandas as pd

    rfm = pd.read_csv(sys.argv[1])
    print(dict(zip(["r", "alpha", "a", "b"], fit(*(rfm[c].to_numpy(float) for c in ("frequency", "recency", "T"))))))
