// RAII wrappers over the XGBoost C API (libxgboost 1.7): a dense DMatrix over our row-major
// doubles and a Booster. Every C API call goes through check(), which turns a non-zero return
// into cltv::Error(model) carrying XGBGetLastError(). A Booster must be freed before the program
// exits (XGBoost's thread-local store is destroyed before static objects): never keep one, or a
// model holding one, in static storage.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cltv::models::xgb {

// Throws a model error naming CALL and XGBoost's last error when RC is non-zero.
void check(int rc, std::string_view call);

class DMatrix {
 public:
  // Copies ROWS x COLS row-major doubles into XGBoost's own storage; NaN would mean "missing".
  DMatrix(const double* data, size_t rows, size_t cols, int threads);
  ~DMatrix();
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;

  void set_labels(const std::vector<double>& labels);
  void* handle() const { return handle_; }
  size_t rows() const { return rows_; }

 private:
  void* handle_ = nullptr;
  size_t rows_ = 0;
};

class Booster {
 public:
  // A booster caching TRAIN (and VALID when not null) for incremental evaluation.
  Booster(const DMatrix& train, const DMatrix* valid);
  // A booster restored from XGBoost's JSON model text.
  explicit Booster(std::string_view json_model);
  ~Booster();
  Booster(Booster&& other) noexcept;
  Booster& operator=(Booster&& other) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;

  void set_param(const std::string& name, const std::string& value);
  void update(int iteration, const DMatrix& train);
  // XGBoost's evaluation line for one iteration, e.g. "[3]\ttrain-mae:0.41\tvalid-mae:0.44".
  std::string evaluate(int iteration, const DMatrix& train, const DMatrix* valid);
  // A booster holding the trees of the first ROUNDS boosting rounds.
  Booster first_rounds(int rounds) const;
  int boosted_rounds() const;
  size_t feature_count() const;

  // Transformed predictions (response scale) of every tree, in place on row-major doubles.
  std::vector<double> predict_dense(const double* data, size_t rows, size_t cols) const;
  // SHAP contributions (TreeSHAP) on the margin scale, before the objective's transformation:
  // DATA's rows x (feature_count() + 1) row-major, each row's last value the bias; a row's values
  // sum to its margin prediction. On a DMatrix only: XGBoost 1.7's in-place prediction rejects them.
  std::vector<double> contributions(const DMatrix& data) const;

  // Total gain per feature column (0 for columns never split on), COLS long.
  std::vector<double> total_gain(size_t cols) const;

  std::string save_json() const;

 private:
  Booster() = default;
  void* handle_ = nullptr;
};

}  // namespace cltv::models::xgb
