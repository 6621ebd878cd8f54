// XGBoost C API wrappers: dense matrices passed as __array_interface__ JSON (doubles, no copy on
// our side), booster training steps, prediction, SHAP contributions, feature scores and JSON model
// text.
#include "booster.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include "cltv/error.h"

namespace cltv::models::xgb {
namespace {

// __array_interface__ of a row-major ROWS x COLS block of doubles.
std::string dense_interface(const double* data, size_t rows, size_t cols) {
  return fmt::format(R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f8", "version": 3}})",
                     reinterpret_cast<uintptr_t>(data), rows, cols);
}

// The RESULT of a prediction on ROWS rows, checked to hold PER_ROW values a row.
std::vector<double> copy_scores(const bst_ulong* shape, bst_ulong dim, const float* result, size_t rows,
                                size_t per_row, std::string_view call) {
  size_t count = 1;
  for (bst_ulong i = 0; i < dim; ++i) count *= static_cast<size_t>(shape[i]);
  if (count != rows * per_row) {
    throw_model(fmt::format("{} returned {} values for {} rows, expected {} a row", call, count, rows, per_row),
                "the booster must have a single-target objective");
  }
  return std::vector<double>(result, result + count);
}

// Prediction types of XGBoost's predict configuration.
constexpr int kPredictValue = 0;
constexpr int kPredictContributions = 2;

std::string predict_config(int type) {
  return fmt::format(
      R"({{"type": {}, "training": false, "cache_id": 0, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "missing": NaN}})",
      type);
}

}  // namespace

void check(int rc, std::string_view call) {
  if (rc != 0) {
    const char* last = XGBGetLastError();
    throw_model(fmt::format("XGBoost {} failed: {}", call, last != nullptr ? last : "(no message)"));
  }
}

DMatrix::DMatrix(const double* data, size_t rows, size_t cols, int threads) : rows_(rows) {
  const std::string config = fmt::format(R"({{"missing": NaN, "nthread": {}}})", threads);
  check(XGDMatrixCreateFromDense(dense_interface(data, rows, cols).c_str(), config.c_str(), &handle_),
        "XGDMatrixCreateFromDense");
}

DMatrix::~DMatrix() {
  if (handle_ != nullptr) XGDMatrixFree(handle_);
}

void DMatrix::set_labels(const std::vector<double>& labels) {
  const std::vector<float> values(labels.begin(), labels.end());
  check(XGDMatrixSetFloatInfo(handle_, "label", values.data(), static_cast<bst_ulong>(values.size())),
        "XGDMatrixSetFloatInfo(label)");
}

Booster::Booster(const DMatrix& train, const DMatrix* valid) {
  DMatrixHandle cache[2] = {train.handle(), valid != nullptr ? valid->handle() : nullptr};
  check(XGBoosterCreate(cache, valid != nullptr ? 2 : 1, &handle_), "XGBoosterCreate");
}

Booster::Booster(std::string_view json_model) {
  Booster loaded;  // frees the handle if loading fails
  check(XGBoosterCreate(nullptr, 0, &loaded.handle_), "XGBoosterCreate");
  check(XGBoosterLoadModelFromBuffer(loaded.handle_, json_model.data(), static_cast<bst_ulong>(json_model.size())),
        "XGBoosterLoadModelFromBuffer");
  handle_ = std::exchange(loaded.handle_, nullptr);
}

Booster::~Booster() {
  if (handle_ != nullptr) XGBoosterFree(handle_);
}

Booster::Booster(Booster&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void Booster::set_param(const std::string& name, const std::string& value) {
  check(XGBoosterSetParam(handle_, name.c_str(), value.c_str()), fmt::format("XGBoosterSetParam({}={})", name, value));
}

void Booster::update(int iteration, const DMatrix& train) {
  check(XGBoosterUpdateOneIter(handle_, iteration, train.handle()), "XGBoosterUpdateOneIter");
}

std::string Booster::evaluate(int iteration, const DMatrix& train, const DMatrix* valid) {
  DMatrixHandle sets[2] = {train.handle(), valid != nullptr ? valid->handle() : nullptr};
  const char* names[2] = {"train", "valid"};
  const char* out = nullptr;
  check(XGBoosterEvalOneIter(handle_, iteration, sets, names, valid != nullptr ? 2 : 1, &out),
        "XGBoosterEvalOneIter");
  return out;
}

Booster Booster::first_rounds(int rounds) const {
  Booster sliced;
  check(XGBoosterSlice(handle_, 0, rounds, 1, &sliced.handle_), fmt::format("XGBoosterSlice(0, {})", rounds));
  return sliced;
}

int Booster::boosted_rounds() const {
  int rounds = 0;
  check(XGBoosterBoostedRounds(handle_, &rounds), "XGBoosterBoostedRounds");
  return rounds;
}

size_t Booster::feature_count() const {
  bst_ulong count = 0;
  check(XGBoosterGetNumFeature(handle_, &count), "XGBoosterGetNumFeature");
  return static_cast<size_t>(count);
}

std::vector<double> Booster::contributions(const DMatrix& data) const {
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  check(XGBoosterPredictFromDMatrix(handle_, data.handle(), predict_config(kPredictContributions).c_str(), &shape,
                                    &dim, &result),
        "XGBoosterPredictFromDMatrix");
  return copy_scores(shape, dim, result, data.rows(), feature_count() + 1, "XGBoosterPredictFromDMatrix");
}

std::vector<double> Booster::predict_dense(const double* data, size_t rows, size_t cols) const {
  if (rows == 0) return {};
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  check(XGBoosterPredictFromDense(handle_, dense_interface(data, rows, cols).c_str(),
                                  predict_config(kPredictValue).c_str(), nullptr, &shape, &dim, &result),
        "XGBoosterPredictFromDense");
  return copy_scores(shape, dim, result, rows, 1, "XGBoosterPredictFromDense");
}

std::vector<double> Booster::total_gain(size_t cols) const {
  bst_ulong n_features = 0;
  const char** names = nullptr;
  bst_ulong dim = 0;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  check(XGBoosterFeatureScore(handle_, R"({"importance_type": "total_gain"})", &n_features, &names, &dim, &shape,
                              &scores),
        "XGBoosterFeatureScore");
  // Without feature names XGBoost names column i "f<i>" and lists only the columns it split on.
  std::vector<double> gain(cols, 0.0);
  for (bst_ulong i = 0; i < n_features; ++i) {
    const std::string_view name = names[i];
    size_t column = 0;
    const auto [ptr, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), column);
    if (name.empty() || name[0] != 'f' || ec != std::errc() || ptr != name.data() + name.size() || column >= cols) {
      throw_model(fmt::format("XGBoosterFeatureScore returned feature '{}', expected f0..f{}", name, cols - 1));
    }
    gain[column] = static_cast<double>(scores[i]);
  }
  return gain;
}

std::string Booster::save_json() const {
  bst_ulong length = 0;
  const char* bytes = nullptr;
  check(XGBoosterSaveModelToBuffer(handle_, R"({"format": "json"})", &length, &bytes), "XGBoosterSaveModelToBuffer");
  return std::string(bytes, static_cast<size_t>(length));
}

}  // namespace cltv::models::xgb
