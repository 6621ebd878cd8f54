// Charts of an evaluation, rendered by gnuplot: each chart is written as OUT_PREFIX.svg (plus
// OUT_PREFIX.png when gnuplot has the pngcairo terminal) and OUT_PREFIX.csv holding the numbers
// drawn. Outputs are replaced atomically; a missing gnuplot is an io error pointing at scripts/setup.
#pragma once

#include <string>
#include <vector>

#include "cltv/eval/calibration.h"
#include "cltv/eval/metrics.h"

namespace cltv::eval {

// One step of training (epoch or boosting round); valid_loss is NaN when there is no validation set.
struct LossPoint {
  int step = 0;
  double train_loss = 0;
  double valid_loss = 0;
};

// The files a chart was written to; png is empty when the pngcairo terminal is unavailable.
struct PlotFiles {
  std::string csv;
  std::string svg;
  std::string png;
};

// Training and validation loss by step. CSV columns: step,train_loss,valid_loss (empty when NaN).
PlotFiles plot_learning_curve(const std::vector<LossPoint>& points, const std::string& loss_name,
                              const std::string& out_prefix);

// ln(1 + actual) against ln(1 + predicted) (negatives taken as 0) with the line y = x. Above
// MAX_POINTS customers an evenly spaced subset of MAX_POINTS is drawn (the same on every run).
// CSV columns: actual,predicted,log1p_actual,log1p_predicted for the drawn customers.
PlotFiles plot_predicted_vs_actual(const std::vector<double>& actual_spend,
                                   const std::vector<double>& predicted_spend, const std::string& out_prefix,
                                   size_t max_points = 20000);

// Mean predicted and mean actual spend per decile of predicted spend (Metrics::deciles).
// CSV columns: decile,count,mean_predicted,mean_actual.
PlotFiles plot_deciles(const std::vector<DecileRow>& deciles, const std::string& out_prefix);

// Observed rate against mean predicted probability per bin (reliability_bins), with the line y = x
// of perfect calibration; WHAT names the probability (e.g. "p_buy") in the title and axis.
// CSV columns: bin,lower,upper,count,mean_predicted,observed_rate.
PlotFiles plot_reliability(const std::vector<ReliabilityBin>& bins, const std::string& what,
                           const std::string& out_prefix);

// Gain curve (gain_curve) with the diagonal of a random ranking. CSV columns: customer_share,spend_share.
PlotFiles plot_gain(const std::vector<GainPoint>& curve, const std::string& out_prefix);

// Mean expected and mean actual holdout purchases by calibration frequency (holdout_calibration),
// the open-ended group labelled "7+". CSV columns: frequency,open_ended (1 or 0),count,mean_expected,mean_actual.
PlotFiles plot_holdout_calibration(const std::vector<HoldoutCalibrationRow>& rows, const std::string& out_prefix);

}  // namespace cltv::eval
