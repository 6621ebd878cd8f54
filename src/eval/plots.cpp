// The evaluation and calibration charts: each writes the numbers it draws to a CSV, then has gnuplot
// plot that CSV.
#include "cltv/eval/plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "gnuplot.h"

namespace cltv::eval {
namespace {

// Shared look: CSV input with a header row (skipped by `every ::1`), grid, key outside the data.
std::string common_settings(const std::string& title, const std::string& xlabel, const std::string& ylabel) {
  return fmt::format(
      "set datafile separator ','\n"
      "set title {}\n"
      "set xlabel {}\n"
      "set ylabel {}\n"
      "set grid lc rgb '#dddddd'\n"
      "set border lc rgb '#444444'\n",
      detail::gnuplot_quote(title), detail::gnuplot_quote(xlabel), detail::gnuplot_quote(ylabel));
}

// Shares or rates on both axes: the unit square at equal scale.
constexpr const char* unit_square_settings = "set size ratio -1\nset xrange [0:1]\nset yrange [0:1]\n";

// The line y = x as a plot element (to follow the data in a plot command), titled TITLE.
std::string diagonal(const std::string& title) {
  return fmt::format("x with lines lw 1 dt 2 lc rgb '#7f7f7f' title {}", detail::gnuplot_quote(title));
}

PlotFiles write_and_render(const std::string& csv_text, const std::string& plot_commands,
                           const std::string& out_prefix, const std::string& gnuplot) {
  const std::string csv = out_prefix + ".csv";
  io::write_file_atomically(csv, csv_text);
  PlotFiles files = detail::render_chart(gnuplot, plot_commands, out_prefix);
  files.csv = csv;
  return files;
}

}  // namespace

PlotFiles plot_learning_curve(const std::vector<LossPoint>& points, const std::string& loss_name,
                              const std::string& out_prefix) {
  if (points.empty()) throw_input("learning curve: there are no training steps to plot");
  bool has_valid = false;
  for (const LossPoint& p : points) {
    if (!std::isfinite(p.train_loss) || std::isinf(p.valid_loss)) {
      throw_input(fmt::format("learning curve: step {} has a non-finite loss (train {}, valid {})", p.step,
                              p.train_loss, p.valid_loss),
                  "the model diverged; lower the learning rate");
    }
    has_valid = has_valid || !std::isnan(p.valid_loss);
  }
  const std::string gnuplot = detail::find_gnuplot();

  std::string csv = "step,train_loss,valid_loss\n";
  for (const LossPoint& p : points) {
    csv += std::isnan(p.valid_loss) ? fmt::format("{},{},\n", p.step, p.train_loss)
                                    : fmt::format("{},{},{}\n", p.step, p.train_loss, p.valid_loss);
  }
  const std::string data = detail::gnuplot_quote(out_prefix + ".csv");
  std::string commands = common_settings(fmt::format("Learning curve ({})", loss_name), "step", loss_name);
  commands += "set key top right box opaque\n";
  commands += fmt::format(
      "plot {} using 1:2 every ::1 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#1f77b4' title 'train'", data);
  if (has_valid) {
    commands += ", '' using 1:3 every ::1 with linespoints lw 2 pt 7 ps 0.5 lc rgb '#d62728' title 'validation'";
  }
  commands += "\n";
  return write_and_render(csv, commands, out_prefix, gnuplot);
}

PlotFiles plot_predicted_vs_actual(const std::vector<double>& actual_spend,
                                   const std::vector<double>& predicted_spend, const std::string& out_prefix,
                                   size_t max_points) {
  const size_t n = actual_spend.size();
  if (n == 0) throw_input("predicted vs actual chart: there are no customers to plot");
  if (predicted_spend.size() != n) {
    throw_input(fmt::format("predicted vs actual chart: {} predictions for {} customers", predicted_spend.size(), n),
                "pass one prediction per customer, in the same order");
  }
  if (max_points == 0) throw_config("predicted vs actual chart: the number of points to draw must be positive");
  const std::string gnuplot = detail::find_gnuplot();

  const size_t shown = std::min(n, max_points);
  std::string csv = "actual,predicted,log1p_actual,log1p_predicted\n";
  double axis_max = 1;
  for (size_t k = 0; k < shown; ++k) {
    const size_t i = shown == n ? k : k * n / shown;
    const double a = actual_spend[i], p = predicted_spend[i];
    if (!std::isfinite(a) || !std::isfinite(p)) {
      throw_input(fmt::format("predicted vs actual chart: customer index {} has a non-finite value (actual {}, "
                              "predicted {})", i, a, p));
    }
    const double log_a = std::log1p(std::max(a, 0.0)), log_p = std::log1p(std::max(p, 0.0));
    axis_max = std::max({axis_max, log_a, log_p});
    csv += fmt::format("{},{},{},{}\n", a, p, log_a, log_p);
  }
  axis_max = std::ceil(axis_max * 1.05);

  const std::string title = shown == n ? fmt::format("Predicted vs actual spend ({} customers)", n)
                                       : fmt::format("Predicted vs actual spend ({} of {} customers, evenly spaced)", shown, n);
  std::string commands = common_settings(title, "actual spend, ln(1 + spend)", "predicted spend, ln(1 + spend)");
  commands += fmt::format("set size ratio -1\nset xrange [0:{0}]\nset yrange [0:{0}]\n", axis_max);
  commands += "set key top left box opaque\n";
  commands += fmt::format(
      "plot {} using 3:4 every ::1 with points pt 7 ps 0.4 lc rgb '#801f77b4' title 'customer', "
      "x with lines lw 2 lc rgb '#d62728' title 'y = x'\n",
      detail::gnuplot_quote(out_prefix + ".csv"));
  return write_and_render(csv, commands, out_prefix, gnuplot);
}

PlotFiles plot_deciles(const std::vector<DecileRow>& deciles, const std::string& out_prefix) {
  if (deciles.empty()) throw_input("decile chart: there are no deciles to plot");
  const std::string gnuplot = detail::find_gnuplot();

  std::string csv = "decile,count,mean_predicted,mean_actual\n";
  for (const DecileRow& row : deciles) {
    csv += fmt::format("{},{},{},{}\n", row.decile, row.count, row.mean_predicted, row.mean_actual);
  }
  const std::string data = detail::gnuplot_quote(out_prefix + ".csv");
  std::string commands = common_settings("Mean spend by decile of predicted spend",
                                         "decile of predicted spend (1 = highest predictions)", "mean spend");
  commands +=
      "set style data histogram\n"
      "set style histogram clustered gap 1\n"
      "set style fill solid 0.85 border -1\n"
      "set boxwidth 0.9\n"
      "set format y '%.0f'\n"
      "set key top right box opaque\n";
  commands += fmt::format(
      "plot {} using 3:xtic(1) every ::1 lc rgb '#1f77b4' title 'mean predicted', "
      "'' using 4 every ::1 lc rgb '#ff7f0e' title 'mean actual'\n",
      data);
  return write_and_render(csv, commands, out_prefix, gnuplot);
}

PlotFiles plot_reliability(const std::vector<ReliabilityBin>& bins, const std::string& what,
                           const std::string& out_prefix) {
  if (bins.empty()) throw_input(fmt::format("reliability chart of {}: there are no bins to plot", what));
  const std::string gnuplot = detail::find_gnuplot();

  std::string csv = "bin,lower,upper,count,mean_predicted,observed_rate\n";
  for (const ReliabilityBin& b : bins) {
    csv += fmt::format("{},{},{},{},{},{}\n", b.bin, b.lower, b.upper, b.count, b.mean_predicted, b.observed_rate);
  }
  std::string commands = common_settings(fmt::format("Reliability of {}", what), fmt::format("mean predicted {}", what),
                                         "observed rate");
  commands += unit_square_settings;
  commands += "set key top left box opaque\n";
  commands += fmt::format(
      "plot {} using 5:6 every ::1 with linespoints lw 2 pt 7 ps 0.8 lc rgb '#1f77b4' title 'bins', {}\n",
      detail::gnuplot_quote(out_prefix + ".csv"), diagonal("perfect calibration"));
  return write_and_render(csv, commands, out_prefix, gnuplot);
}

PlotFiles plot_gain(const std::vector<GainPoint>& curve, const std::string& out_prefix) {
  if (curve.empty()) throw_input("gain chart: there are no points to plot");
  const std::string gnuplot = detail::find_gnuplot();

  std::string csv = "customer_share,spend_share\n";
  for (const GainPoint& p : curve) csv += fmt::format("{},{}\n", p.customer_share, p.spend_share);
  std::string commands = common_settings("Gain curve: share of actual spend by share of customers",
                                         "share of customers, ranked by prediction (highest first)",
                                         "share of actual spend");
  commands += unit_square_settings;
  commands += "set key bottom right box opaque\n";
  commands += fmt::format("plot {} using 1:2 every ::1 with lines lw 2 lc rgb '#1f77b4' title 'model', {}\n",
                          detail::gnuplot_quote(out_prefix + ".csv"), diagonal("random ranking"));
  return write_and_render(csv, commands, out_prefix, gnuplot);
}

PlotFiles plot_holdout_calibration(const std::vector<HoldoutCalibrationRow>& rows, const std::string& out_prefix) {
  if (rows.empty()) throw_input("holdout calibration chart: there are no frequency groups to plot");
  const std::string gnuplot = detail::find_gnuplot();

  std::string csv = "frequency,open_ended,count,mean_expected,mean_actual\n";
  for (const HoldoutCalibrationRow& row : rows) {
    csv += fmt::format("{},{},{},{},{}\n", row.frequency, row.open_ended ? 1 : 0, row.count, row.mean_expected,
                       row.mean_actual);
  }
  std::string commands = common_settings("Expected vs actual purchases in the holdout period",
                                         "repeat purchases in the calibration period",
                                         "mean purchases in the holdout period");
  commands +=
      "set offsets 0.5, 0.5, 0, 0\n"
      "set yrange [0:*]\n"
      "set key top left box opaque\n";
  // The open-ended group's tick reads "7+"; the others their frequency.
  commands += fmt::format(
      "plot {} using 1:4:xtic($2 == 1 ? sprintf('%d+', $1) : sprintf('%d', $1)) every ::1 "
      "with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'mean expected (model)', "
      "'' using 1:5 every ::1 with linespoints lw 2 pt 5 lc rgb '#ff7f0e' title 'mean actual'\n",
      detail::gnuplot_quote(out_prefix + ".csv"));
  return write_and_render(csv, commands, out_prefix, gnuplot);
}

}  // namespace cltv::eval
