"""cltv.lifetimes against lifetimes' own documentation (its quickstart on the CDNOW summary prints
the parameters, the five customers with the most expected purchases, one customer's prediction and
the Gamma-Gamma conditional spend), and against `cltv btyd fit` (the same library)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cltv
from cltv.lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from cltv.lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

from conftest import cli, shared_file


@pytest.fixture(scope="module")
def bgf(cdnow_summary: pd.DataFrame) -> BetaGeoFitter:
    return BetaGeoFitter(penalizer_coef=0.0).fit(cdnow_summary["frequency"], cdnow_summary["recency"],
                                                 cdnow_summary["T"])


def test_bgnbd_quickstart_parameters(bgf: BetaGeoFitter) -> None:
    # lifetimes quickstart, bgf.summary: coef of r, alpha, a, b (6 decimals printed).
    expected = pd.Series({"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752})
    assert list(bgf.params_.index) == ["r", "alpha", "a", "b"]
    np.testing.assert_allclose(bgf.params_, expected, rtol=2e-5)
    assert list(bgf.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    np.testing.assert_allclose(bgf.summary["se(coef)"], [0.012557, 0.378221, 0.185719, 0.705345], rtol=2e-3)


def test_bgnbd_quickstart_predictions(bgf: BetaGeoFitter, cdnow_summary: pd.DataFrame) -> None:
    # lifetimes quickstart: data.sort_values(by='predicted_purchases').tail(5) with t = 1.
    predicted = bgf.conditional_expected_number_of_purchases_up_to_time(
        1, cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    assert isinstance(predicted, pd.Series) and predicted.index.equals(cdnow_summary.index)
    top = predicted.sort_values().tail(5)
    assert list(top.index) == [509, 841, 1981, 157, 1516]
    np.testing.assert_allclose(top, [0.424877, 0.474738, 0.486526, 0.662396, 0.710623], atol=5e-6)
    one = cdnow_summary.loc[1]
    value = bgf.predict(39, one["frequency"], one["recency"], one["T"])
    assert isinstance(value, float)
    assert value == pytest.approx(1.226, abs=0.001)  # Fader, Hardie and Lee (2005): customer 1, 39 weeks


def test_bgnbd_alive_and_unconditional_expectation(bgf: BetaGeoFitter) -> None:
    assert bgf.conditional_probability_alive(0, 0, 10) == 1.0
    assert 0 < bgf.conditional_probability_alive(2, 5, 38.86) < bgf.conditional_probability_alive(2, 30.43, 38.86)
    r, alpha, a, b = bgf.params_
    t = 39.0
    # The closed form (Fader, Hardie and Lee 2005, eq. 7) through scipy's hypergeometric function.
    from scipy.special import hyp2f1

    closed = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    assert bgf.expected_number_of_purchases_up_to_time(t) == pytest.approx(closed, rel=1e-9)


def test_pareto_nbd_matches_the_published_fit(cdnow_summary: pd.DataFrame) -> None:
    pnbd = ParetoNBDFitter().fit(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    for name, published, tolerance in (("r", 0.553, 0.005), ("alpha", 10.578, 0.05), ("s", 0.606, 0.005),
                                       ("beta", 11.669, 0.05)):
        assert pnbd.params_[name] == pytest.approx(published, abs=tolerance), name
    assert pnbd.log_likelihood_ == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_quickstart(cdnow_spend: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    returning = cdnow_spend[cdnow_spend["x"] > 0]
    ggf = GammaGammaFitter(penalizer_coef=0).fit(returning["x"], returning["zbar"])
    # lifetimes quickstart: <lifetimes.GammaGammaFitter: fitted with 946 subjects, p: 6.25, q: 3.74, v: 15.45>
    np.testing.assert_allclose(ggf.params_[["p", "q", "v"]], [6.25, 3.74, 15.45], atol=0.006)
    profit = ggf.conditional_expected_average_profit(cdnow_spend["x"], cdnow_spend["zbar"])
    # lifetimes quickstart: ggf.conditional_expected_average_profit(...).head(10), printed to 6 decimals.
    # lifetimes' optimiser stops a little short of the maximum (its p, q, v differ from ours in the
    # fifth significant digit), which moves the customers without repeat purchases by 2e-5.
    np.testing.assert_allclose(profit.head(10), [24.658619, 18.911489, 35.170981, 35.170981, 35.170981,
                                                 71.462843, 18.911489, 35.170981, 27.282408, 35.170981], atol=3e-5)
    # "Expected conditional average profit: 35.2529588256, Average profit: 35.078551797"
    assert profit.mean() == pytest.approx(35.2529588256, abs=1e-5)
    assert returning["zbar"].mean() == pytest.approx(35.078551797, abs=1e-9)
    # lifetimes quickstart: ggf.customer_lifetime_value(bgf, ..., time=12, discount_rate=0.01).head(10),
    # with lifetimes' default freq "D" (as the quickstart calls it on this weekly data).
    published_clv = ggf.customer_lifetime_value(bgf, cdnow_spend["x"], cdnow_spend["t_x"], cdnow_spend["T"],
                                                cdnow_spend["zbar"], time=12, discount_rate=0.01)
    np.testing.assert_allclose(published_clv.head(10), [140.096211, 18.943467, 38.180574, 38.180574, 38.180574,
                                                        1003.868107, 28.109683, 38.180574, 167.418216, 38.180574],
                               atol=2e-5)
    clv = ggf.customer_lifetime_value(bgf, cdnow_spend["x"], cdnow_spend["t_x"], cdnow_spend["T"],
                                      cdnow_spend["zbar"], time=12, discount_rate=0.01, freq="W")
    assert clv.name == "clv" and clv.index.equals(cdnow_spend.index)
    monthly = [bgf.predict(4.345 * (m + 1), 2, 30.43, 38.86) - bgf.predict(4.345 * m, 2, 30.43, 38.86)
               for m in range(12)]
    by_hand = profit.iloc[0] * sum(n / 1.01 ** (m + 1) for m, n in enumerate(monthly))
    assert clv.iloc[0] == pytest.approx(by_hand, rel=1e-6)


def test_fits_equal_the_cli(tmp_path, cdnow_summary: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    summary = shared_file("cdnow/cdnow_customers_summary.csv")
    fitted = json.loads(cli("btyd", "fit", "--model", "bgnbd", "--rfm", summary, "--unit", "weeks", "--json",
                            "--out", tmp_path / "bgnbd.json"))
    assert [fitted["parameters"][name] for name in ("r", "alpha", "a", "b")] == list(bgf.params_)
    assert [fitted["standard_errors"][name] for name in ("r", "alpha", "a", "b")] == list(bgf.summary["se(coef)"])
    assert fitted["log_likelihood"] == bgf.log_likelihood_


def test_summary_of_cdnow_transactions_is_the_published_summary(cdnow_summary: pd.DataFrame) -> None:
    sample = pd.read_csv(shared_file("cdnow/CDNOW_sample.txt"), sep=r"\s+", header=None,
                         names=["customer", "id", "date", "cds", "dollars"])
    sample["date"] = pd.to_datetime(sample["date"].astype(str), format="%Y%m%d")
    summary = summary_data_from_transaction_data(sample, "id", "date", monetary_value_col="dollars",
                                                 observation_period_end="1997-09-30", freq="W")
    assert summary.index.name == "id" and len(summary) == 2357
    published = cdnow_summary.loc[summary.index]
    np.testing.assert_array_equal(summary["frequency"], published["frequency"])
    np.testing.assert_allclose(summary[["recency", "T"]], published[["recency", "T"]], atol=0.005 + 1e-9)
    holdout = calibration_and_holdout_data(sample, "id", "date", calibration_period_end="1997-09-30",
                                           observation_period_end="1998-06-30", freq="W")
    assert list(holdout.columns) == ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]
    np.testing.assert_array_equal(holdout["frequency_cal"], summary["frequency"])
    assert holdout["duration_holdout"].iloc[0] == pytest.approx(273 / 7)
    with pytest.raises(cltv.ConfigError):
        summary_data_from_transaction_data(sample, "id", "date", freq="H")
