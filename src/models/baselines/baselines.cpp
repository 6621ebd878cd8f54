// Baseline spend models. naive: the feature window's mean monthly spend times the horizon in
// months. median: the training median of the horizon spend. linear: ridge regression of
// ln(1 + spend) on standardised features, solved in closed form, its predictions kept within the
// training range of ln(1 + spend).
#include "cltv/models/baselines.h"

#include <Eigen/Dense>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/models/point_model.h"

namespace cltv::models {
namespace {

void write_json(const std::string& dir, const std::string& name, const nlohmann::json& j) {
  io::write_file_atomically(dir + "/" + name, j.dump(2) + "\n");
}

nlohmann::json read_json(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  try {
    return nlohmann::json::parse(io::read_whole_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("'{}' is not a valid model file: {}", path, e.what()));
  }
}

void require_target(const Dataset& train, const char* model) {
  if (!train.has_target() || train.rows == 0) {
    throw_model(fmt::format("{}: training needs rows with a target", model));
  }
}

class NaiveModel final : public PointModel {
 public:
  std::string kind() const override { return "naive"; }
  void declare_params(ParamSet&) override {}
  FitReport fit_point(const Dataset&, const Dataset&, uint64_t, const FitContext&) override {
    return {{}, "none", 0, {}};
  }
  std::vector<double> predict_point(const Dataset& data) const override {
    if (data.feature_months <= 0 || data.window_amount.size() != data.rows) {
      throw_internal("naive model needs the window amount and the number of feature months");
    }
    std::vector<double> spend(data.rows);
    for (size_t r = 0; r < data.rows; ++r) {
      spend[r] = data.window_amount[r] / data.feature_months * data.horizon_months;
    }
    return spend;
  }
  void save_point(const std::string& dir) const override { write_json(dir, "naive.json", {{"kind", "naive"}}); }
  void load_point(const std::string& dir) override { read_json(dir, "naive.json"); }
};

class MedianModel final : public PointModel {
 public:
  std::string kind() const override { return "median"; }
  void declare_params(ParamSet&) override {}
  FitReport fit_point(const Dataset& train, const Dataset&, uint64_t, const FitContext&) override {
    require_target(train, "median");
    std::vector<double> values(train.target_amount);
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
    median_ = values[mid];
    if (values.size() % 2 == 0) {
      median_ = 0.5 * (median_ + *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid)));
    }
    return {{}, "none", 0, {}};
  }
  std::vector<double> predict_point(const Dataset& data) const override {
    return std::vector<double>(data.rows, median_);
  }
  void save_point(const std::string& dir) const override {
    write_json(dir, "median.json", {{"kind", "median"}, {"median", median_}});
  }
  void load_point(const std::string& dir) override { median_ = read_json(dir, "median.json").at("median").get<double>(); }

 private:
  double median_ = 0;
};

class LinearModel final : public PointModel {
 public:
  std::string kind() const override { return "linear"; }
  void declare_params(ParamSet& params) override {
    params.add_number("ridge-lambda", lambda_, 1.0, 0.0, 1e12,
                      "linear: L2 penalty on the standardised coefficients (intercept not penalised)");
  }

  FitReport fit_point(const Dataset& train, const Dataset& valid, uint64_t, const FitContext&) override {
    require_target(train, "linear");
    const size_t n = train.rows, d = train.cols;
    if (n < 2) throw_model("linear: training needs at least 2 rows");
    mean_.assign(d, 0.0);
    scale_.assign(d, 1.0);
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < d; ++c) mean_[c] += train.row(r)[c];
    }
    for (double& m : mean_) m /= static_cast<double>(n);
    std::vector<double> var(d, 0.0);
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < d; ++c) var[c] += (train.row(r)[c] - mean_[c]) * (train.row(r)[c] - mean_[c]);
    }
    for (size_t c = 0; c < d; ++c) {
      const double sd = std::sqrt(var[c] / static_cast<double>(n));
      scale_[c] = sd > 0 ? 1.0 / sd : 0.0;  // constant columns contribute nothing
    }
    // Centred target and standardised features: the intercept is the target mean.
    Eigen::MatrixXd x(n, d);
    Eigen::VectorXd y(n);
    double y_mean = 0;
    for (size_t r = 0; r < n; ++r) y_mean += train.target_log1p[r];
    y_mean /= static_cast<double>(n);
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < d; ++c) x(r, c) = (train.row(r)[c] - mean_[c]) * scale_[c];
      y(r) = train.target_log1p[r] - y_mean;
    }
    Eigen::MatrixXd gram = x.transpose() * x;
    gram.diagonal().array() += std::max(lambda_, 1e-9 * static_cast<double>(n));
    const Eigen::VectorXd beta = gram.ldlt().solve(x.transpose() * y);
    if (!beta.allFinite()) throw_model("linear: the ridge system could not be solved", "raise --ridge-lambda");
    coefficients_.assign(beta.data(), beta.data() + d);
    intercept_ = y_mean;
    // A linear score extrapolates without bound; spend is kept within the training range (log scale).
    max_log1p_ = *std::max_element(train.target_log1p.begin(), train.target_log1p.end());

    FitReport report;
    report.loss_name = "mae_log1p";
    report.curve.push_back({1, mae_log1p(train), valid.rows > 0 && valid.has_target() ? mae_log1p(valid) : NAN});
    report.best_step = 1;
    for (size_t c = 0; c < d && c < train.feature_names.size(); ++c) {
      report.feature_importance.emplace_back(train.feature_names[c], std::abs(coefficients_[c]));
    }
    return report;
  }

  std::vector<double> predict_point(const Dataset& data) const override {
    if (data.cols != coefficients_.size()) {
      throw_model(fmt::format("linear: the model has {} features but the data has {}", coefficients_.size(), data.cols));
    }
    std::vector<double> spend(data.rows);
    for (size_t r = 0; r < data.rows; ++r) spend[r] = spend_of(raw(data.row(r)));
    return spend;
  }

  void save_point(const std::string& dir) const override {
    write_json(dir, "linear.json",
               {{"kind", "linear"}, {"ridge_lambda", lambda_}, {"intercept", intercept_}, {"max_log1p", max_log1p_}, {"mean", mean_},
                {"scale", scale_}, {"coefficients", coefficients_}});
  }
  void load_point(const std::string& dir) override {
    const nlohmann::json j = read_json(dir, "linear.json");
    lambda_ = j.at("ridge_lambda").get<double>();
    intercept_ = j.at("intercept").get<double>();
    max_log1p_ = j.at("max_log1p").get<double>();
    mean_ = j.at("mean").get<std::vector<double>>();
    scale_ = j.at("scale").get<std::vector<double>>();
    coefficients_ = j.at("coefficients").get<std::vector<double>>();
    if (mean_.size() != coefficients_.size() || scale_.size() != coefficients_.size()) {
      throw_model(fmt::format("'{}/linear.json' has inconsistent lengths", dir));
    }
  }

 private:
  double raw(const double* x) const {
    double z = intercept_;
    for (size_t c = 0; c < coefficients_.size(); ++c) z += coefficients_[c] * (x[c] - mean_[c]) * scale_[c];
    return z;
  }
  double spend_of(double log1p_score) const { return std::expm1(std::clamp(log1p_score, 0.0, max_log1p_)); }
  double mae_log1p(const Dataset& data) const {
    double sum = 0;
    for (size_t r = 0; r < data.rows; ++r) {
      sum += std::abs(std::log1p(spend_of(raw(data.row(r)))) - data.target_log1p[r]);
    }
    return sum / static_cast<double>(std::max<size_t>(1, data.rows));
  }

  double lambda_ = 1.0;
  double intercept_ = 0;
  double max_log1p_ = 0;
  std::vector<double> mean_, scale_, coefficients_;
};

}  // namespace

std::unique_ptr<Model> make_naive_model() { return std::make_unique<NaiveModel>(); }
std::unique_ptr<Model> make_median_model() { return std::make_unique<MedianModel>(); }
std::unique_ptr<Model> make_linear_model() { return std::make_unique<LinearModel>(); }

}  // namespace cltv::models
