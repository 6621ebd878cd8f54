// The `mlp` model: input checks, min-max scaling fitted on the training rows, training on
// log1p(spend) (prediction max(0, expm1(output))), and the mlp.json file holding the architecture,
// hyperparameters, scaler and every weight as round-trip numbers.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/models/mlp/mlp.h"
#include "cltv/models/point_model.h"
#include "input_layer.h"
#include "network.h"
#include "scaler.h"
#include "training.h"

namespace cltv::models {
namespace {

using mlp::Activation;
using mlp::LayerSpec;

constexpr size_t kMinTrainRows = 2;
constexpr Eigen::Index kPredictChunkRows = 4096;
constexpr const char* kModelFile = "mlp.json";
constexpr const char* kDefaultHidden = "4:relu,8:relu,8:tanh,8:tanh";
constexpr int kFormatVersion = 1;
constexpr const char* kRetrainHint = "build the features with the same settings as for training";

std::string row_label(const Dataset& data, size_t row) {
  if (row < data.customer_ids.size()) return fmt::format("row {} (customer {})", row + 1, data.customer_ids[row]);
  return fmt::format("row {}", row + 1);
}

void check_features(const Dataset& data, std::string_view role) {
  if (data.features.size() != data.rows * data.cols) {
    throw_input(fmt::format("mlp: {} data holds {} feature values, expected {} rows x {} columns", role,
                            data.features.size(), data.rows, data.cols));
  }
  if (!data.feature_names.empty() && data.feature_names.size() != data.cols) {
    throw_input(
        fmt::format("mlp: {} data names {} feature columns but has {}", role, data.feature_names.size(), data.cols));
  }
  if (data.rows > 0 && data.cols == 0) throw_input(fmt::format("mlp: {} data has no feature columns", role));
  const auto bad = std::find_if(data.features.begin(), data.features.end(), [](double v) { return !std::isfinite(v); });
  if (bad != data.features.end()) {
    const auto index = static_cast<size_t>(bad - data.features.begin());
    const size_t col = index % data.cols;
    const std::string name = col < data.feature_names.size() ? data.feature_names[col] : fmt::format("#{}", col + 1);
    throw_input(fmt::format("mlp: {} feature '{}' is {} at {}", role, name, *bad, row_label(data, index / data.cols)),
                "features must be finite: fill or drop missing values before modelling");
  }
}

const std::vector<double>& checked_target(const Dataset& data, std::string_view role) {
  const std::vector<double>& target = data.target_log1p;
  if (target.empty()) {
    throw_input(fmt::format("mlp: {} data has no target_log1p", role),
                "the targets exist only when the data reaches the end of the target period");
  }
  if (target.size() != data.rows) {
    throw_input(fmt::format("mlp: {} data has {} target_log1p values for {} rows", role, target.size(), data.rows));
  }
  const auto bad = std::find_if(target.begin(), target.end(), [](double v) { return !std::isfinite(v); });
  if (bad != target.end()) {
    throw_input(fmt::format("mlp: {} target_log1p is {} at {}", role, *bad,
                            row_label(data, static_cast<size_t>(bad - target.begin()))));
  }
  return target;
}

void check_columns(const Dataset& data, size_t cols, const std::vector<std::string>& names, std::string_view role) {
  if (data.cols != cols) {
    throw_input(fmt::format("mlp: {} data has {} feature columns, the model was trained on {}", role, data.cols, cols),
                kRetrainHint);
  }
  if (names.empty() || data.feature_names.empty()) return;
  for (size_t col = 0; col < cols; ++col) {
    if (data.feature_names[col] != names[col]) {
      throw_input(fmt::format("mlp: {} feature column {} is '{}', the model was trained with '{}' there", role, col + 1,
                              data.feature_names[col], names[col]),
                  kRetrainHint);
    }
  }
}

Eigen::Index padded_cols(size_t cols) { return mlp::padded(static_cast<Eigen::Index>(cols), mlp::kInputColumnBlock); }

// DATA's features scaled to float in zero-padded rows, and its target as float.
struct ScaledData {
  Eigen::Index stride = 0;
  std::vector<float> features, target;
  mlp::ScaledRows rows() const {
    return {features.data(), stride, target.data(), static_cast<Eigen::Index>(target.size())};
  }
};

ScaledData scale(const Dataset& data, const std::vector<double>& target, const mlp::MinMaxScaler& scaler) {
  ScaledData scaled;
  scaled.stride = padded_cols(data.cols);
  scaled.features.assign(data.rows * static_cast<size_t>(scaled.stride), 0.0F);
  scaler.transform(data.features.data(), static_cast<Eigen::Index>(data.rows), scaled.features.data(), scaled.stride);
  scaled.target.assign(target.begin(), target.end());
  return scaled;
}

class MlpModel final : public PointModel {
 public:
  std::string kind() const override { return "mlp"; }

  void declare_params(ParamSet& params) override {
    params.add_int("epochs", epochs_, 800, 1, 1'000'000, "training epochs (passes over the training rows)");
    params.add_int("batch-size", batch_size_, 512, 1, 1 << 24, "rows per mini-batch (one Adam step each)");
    hidden_ = mlp::parse_hidden(kDefaultHidden);
    params.add_custom({"hidden", "LAYERS",
                       "hidden layers as UNITS:ACTIVATION, comma-separated (relu, tanh, sigmoid, linear); "
                       "a 1-unit linear output follows",
                       kDefaultHidden, false, false,
                       [this](const std::string& text) { hidden_ = mlp::parse_hidden(text); }});
    params.add_choice("loss", loss_, "mae", {"mae", "mse", "huber"}, "training loss on log1p(spend)");
    params.add_number("huber-delta", huber_delta_, 1.0, 1e-9, 1e9, "delta of the huber loss, in log1p units");
    params.add_number("learning-rate", learning_rate_, 1e-3, 1e-9, 10.0, "Adam learning rate");
    params.add_int("patience", patience_, 0, 0, 1'000'000,
                   "early stopping: stop after N epochs without a better validation loss and keep the best "
                   "epoch's weights (0: off)");
  }

  FitReport fit_point(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) override {
    check_features(train, "training");
    const std::vector<double>& train_target = checked_target(train, "training");
    if (train.rows < kMinTrainRows) {
      throw_model(fmt::format("mlp training data: {} rows, at least {} are needed to fit", train.rows, kMinTrainRows),
                  "use a longer history or a larger population");
    }
    const auto [low, high] = std::minmax_element(train_target.begin(), train_target.end());
    if (*low == *high) {
      throw_model(fmt::format("mlp: the training target target_log1p is constant ({}), nothing to learn", *low),
                  "check the target period and the population");
    }
    const bool has_valid = valid.rows > 0;
    if (has_valid) {
      check_features(valid, "validation");
      check_columns(valid, train.cols, train.feature_names, "validation");
    }
    const std::vector<double>* valid_target = has_valid ? &checked_target(valid, "validation") : nullptr;
    if (patience_ > 0 && !has_valid) {
      throw_config(fmt::format("mlp: --patience {} needs validation rows, and the validation set is empty", patience_),
                   "use --patience 0 or a split with a validation window");
    }

    const auto cols = static_cast<Eigen::Index>(train.cols);
    mlp::MinMaxScaler scaler =
        mlp::MinMaxScaler::fit(train.features.data(), static_cast<Eigen::Index>(train.rows), cols);
    const ScaledData scaled_train = scale(train, train_target, scaler);
    const ScaledData scaled_valid = has_valid ? scale(valid, *valid_target, scaler) : ScaledData{};

    mlp::TrainSettings settings;
    settings.epochs = epochs_;
    settings.batch_size = batch_size_;
    settings.loss = {mlp::parse_loss(loss_, "--loss"), static_cast<float>(huber_delta_)};
    settings.learning_rate = learning_rate_;
    settings.patience = patience_;
    settings.progress = context.progress;
    mlp::Layout layout(cols, hidden_);
    mlp::TrainedNetwork trained = mlp::train_network(layout, settings, scaled_train.rows(), scaled_valid.rows(), seed);

    layout_ = std::move(layout);
    params_ = std::move(trained.params);
    scaler_ = std::move(scaler);
    cols_ = train.cols;
    feature_names_ = train.feature_names;
    report_ = FitReport{};
    report_.curve = std::move(trained.curve);
    report_.loss_name = fmt::format("{}_log1p", loss_);
    report_.best_step = trained.best_epoch;
    return report_;
  }

  std::vector<double> predict_point(const Dataset& data) const override {
    if (params_.size() == 0) throw_model("mlp model used before fit or load");
    check_features(data, "prediction");
    check_columns(data, cols_, feature_names_, "prediction");
    const auto rows = static_cast<Eigen::Index>(data.rows);
    const auto cols = static_cast<Eigen::Index>(cols_);
    const Eigen::Index chunk = std::min(kPredictChunkRows, rows);
    const Eigen::Index stride = padded_cols(cols_);
    mlp::Network<float> network(layout_, chunk);
    std::vector<float> scaled(static_cast<size_t>(chunk * stride), 0.0F);
    std::vector<double> spend(data.rows);
    for (Eigen::Index start = 0; start < rows; start += chunk) {
      const Eigen::Index n = std::min(chunk, rows - start);
      scaler_.transform(data.features.data() + start * cols, n, scaled.data(), stride);
      const auto output = network.forward(scaled.data(), stride, nullptr, n, params_);
      Eigen::Map<Eigen::ArrayXd>(spend.data() + start, n) = output.cast<double>().expm1().max(0.0);
    }
    return spend;
  }

  void save_point(const std::string& dir) const override {
    if (params_.size() == 0) throw_model("mlp model saved before fit or load");
    nlohmann::json layers = nlohmann::json::array();
    for (size_t layer = 0; layer < layout_.layers().size(); ++layer) {
      const Eigen::Index in = layout_.layer_inputs(layer);
      const Eigen::Index units = layout_.layers()[layer].units;
      const float* kernel = params_.data() + layout_.kernel_offset(layer);
      const float* bias = params_.data() + layout_.bias_offset(layer);
      nlohmann::json kernel_rows = nlohmann::json::array();
      for (Eigen::Index i = 0; i < in; ++i) {
        nlohmann::json row = nlohmann::json::array();
        for (Eigen::Index u = 0; u < units; ++u) row.push_back(kernel[u * in + i]);
        kernel_rows.push_back(std::move(row));
      }
      layers.push_back({{"units", units},
                        {"activation", mlp::activation_name(layout_.layers()[layer].activation)},
                        {"kernel", std::move(kernel_rows)},
                        {"bias", std::vector<float>(bias, bias + units)}});
    }
    const nlohmann::json json = {{"kind", kind()},
                                 {"format_version", kFormatVersion},
                                 {"hyperparameters",
                                  {{"epochs", epochs_},
                                   {"batch_size", batch_size_},
                                   {"hidden", mlp::format_hidden(hidden_)},
                                   {"loss", loss_},
                                   {"huber_delta", huber_delta_},
                                   {"learning_rate", learning_rate_},
                                   {"patience", patience_}}},
                                 {"feature_count", cols_},
                                 {"feature_names", feature_names_},
                                 {"scaler", {{"min", scaler_.min()}, {"max", scaler_.max()}}},
                                 {"layers", std::move(layers)},
                                 {"loss_name", report_.loss_name},
                                 {"best_step", report_.best_step}};
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) throw_io(fmt::format("cannot create model directory {}: {}", dir, error.message()));
    io::write_file_atomically((std::filesystem::path(dir) / kModelFile).string(), json.dump(2) + "\n");
  }

  void load_point(const std::string& dir) override {
    const std::string path = (std::filesystem::path(dir) / kModelFile).string();
    const std::string text = io::read_whole_file(path);
    try {
      const nlohmann::json json = nlohmann::json::parse(text);
      const std::string found = json.at("kind").get<std::string>();
      if (found != kind()) throw_model(fmt::format("{} holds a '{}' model, expected 'mlp'", path, found));
      const int version = json.at("format_version").get<int>();
      if (version != kFormatVersion) {
        throw_model(fmt::format("{} has format version {}, this build reads version {}", path, version, kFormatVersion),
                    "save the model again with this build");
      }
      const nlohmann::json& hyper = json.at("hyperparameters");
      epochs_ = hyper.at("epochs").get<int64_t>();
      batch_size_ = hyper.at("batch_size").get<int64_t>();
      hidden_ = mlp::parse_hidden(hyper.at("hidden").get<std::string>());
      loss_ = mlp::loss_name(mlp::parse_loss(hyper.at("loss").get<std::string>(), path));
      huber_delta_ = hyper.at("huber_delta").get<double>();
      learning_rate_ = hyper.at("learning_rate").get<double>();
      patience_ = hyper.at("patience").get<int64_t>();
      cols_ = json.at("feature_count").get<size_t>();
      feature_names_ = json.at("feature_names").get<std::vector<std::string>>();
      scaler_ = mlp::MinMaxScaler(json.at("scaler").at("min").get<std::vector<double>>(),
                                  json.at("scaler").at("max").get<std::vector<double>>());
      if (static_cast<size_t>(scaler_.cols()) != cols_ || scaler_.max().size() != cols_) {
        malformed(path, "the scaler does not have one minimum and maximum per feature");
      }
      layout_ = mlp::Layout(static_cast<Eigen::Index>(cols_), hidden_);
      params_ = read_weights(json.at("layers"), path);
      report_ = FitReport{};
      report_.loss_name = json.at("loss_name").get<std::string>();
      report_.best_step = json.at("best_step").get<int>();
    } catch (const nlohmann::json::exception& e) {
      params_.resize(0);
      malformed(path, e.what());
    } catch (...) {
      params_.resize(0);
      throw;
    }
  }

 private:
  [[noreturn]] static void malformed(const std::string& path, std::string_view what) {
    throw_io(fmt::format("model file {} is malformed: {}", path, what), "save the model again");
  }

  // The weights of JSON's layers, checked against layout_.
  Eigen::VectorXf read_weights(const nlohmann::json& layers, const std::string& path) const {
    if (layers.size() != layout_.layers().size()) {
      malformed(path, fmt::format("{} layers, the architecture has {}", layers.size(), layout_.layers().size()));
    }
    Eigen::VectorXf params(layout_.parameter_count());
    for (size_t layer = 0; layer < layers.size(); ++layer) {
      const nlohmann::json& entry = layers[layer];
      const Eigen::Index in = layout_.layer_inputs(layer);
      const LayerSpec& spec = layout_.layers()[layer];
      const nlohmann::json& kernel = entry.at("kernel");
      const nlohmann::json& bias = entry.at("bias");
      if (entry.at("units").get<Eigen::Index>() != spec.units ||
          mlp::parse_activation(entry.at("activation").get<std::string>(), path) != spec.activation ||
          static_cast<Eigen::Index>(kernel.size()) != in || static_cast<Eigen::Index>(bias.size()) != spec.units) {
        malformed(path, fmt::format("layer {} does not match the architecture {} on {} features", layer + 1,
                                    mlp::format_hidden(hidden_), cols_));
      }
      float* kernel_out = params.data() + layout_.kernel_offset(layer);
      for (Eigen::Index i = 0; i < in; ++i) {
        const nlohmann::json& row = kernel[static_cast<size_t>(i)];
        if (static_cast<Eigen::Index>(row.size()) != spec.units) {
          malformed(path, fmt::format("layer {} kernel row {} has {} values, expected {}", layer + 1, i + 1, row.size(),
                                      spec.units));
        }
        for (Eigen::Index u = 0; u < spec.units; ++u) {
          kernel_out[u * in + i] = row[static_cast<size_t>(u)].get<float>();
        }
      }
      float* bias_out = params.data() + layout_.bias_offset(layer);
      for (Eigen::Index u = 0; u < spec.units; ++u) bias_out[u] = bias[static_cast<size_t>(u)].get<float>();
    }
    if (!params.allFinite()) malformed(path, "a weight is not finite");
    return params;
  }

  int64_t epochs_ = 800;
  int64_t batch_size_ = 512;
  std::vector<LayerSpec> hidden_ = mlp::parse_hidden(kDefaultHidden);
  std::string loss_ = "mae";
  double huber_delta_ = 1.0;
  double learning_rate_ = 1e-3;
  int64_t patience_ = 0;

  mlp::Layout layout_;
  Eigen::VectorXf params_;
  mlp::MinMaxScaler scaler_;
  size_t cols_ = 0;
  std::vector<std::string> feature_names_;
  FitReport report_;
};

}  // namespace

std::unique_ptr<Model> make_mlp_model() { return std::make_unique<MlpModel>(); }

}  // namespace cltv::models
