// The model registry: the one table listing every spend model.
#include "cltv/models/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cltv/error.h"
#include "cltv/models/baselines.h"
#include "cltv/models/btyd_spend.h"
#include "cltv/models/mlp/mlp.h"
#include "cltv/models/xgboost/hurdle_model.h"
#include "cltv/models/xgboost/xgboost_model.h"

namespace cltv::models {

const std::vector<ModelEntry>& model_registry() {
  static const std::vector<ModelEntry> registry = {
      {"naive", "the feature window's mean monthly spend, carried forward", &make_naive_model},
      {"median", "the training median of next-period spend", &make_median_model},
      {"linear", "ridge regression of ln(1 + spend) on standardised features", &make_linear_model},
      {"mlp", "the original network: 4-8-8-8-1, MAE on ln(1 + spend), Adam (Eigen)", &make_mlp_model},
      {"xgboost", "gradient-boosted trees (XGBoost) on ln(1 + spend) or Tweedie on spend", &make_xgboost_model},
      {"hurdle", "P(buy) by a boosted classifier times spend-if-buying by a boosted regressor", &make_hurdle_model},
      {"stack", "hurdle with depth-3 trees on every monthly window, with the history and BG/NBD features",
       &make_stack_model, DataNeeds{.history_features = true, .all_windows = true}},
      {"bgnbd-gg", "BG/NBD expected purchases times Gamma-Gamma spend per purchase", &make_bgnbd_gg_model},
      {"pnbd-gg", "Pareto/NBD expected purchases times Gamma-Gamma spend per purchase", &make_pnbd_gg_model},
  };
  return registry;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& entry : model_registry()) names.emplace_back(entry.name);
  return names;
}

namespace {

const ModelEntry& find_entry(const std::string& name) {
  for (const auto& entry : model_registry()) {
    if (name == entry.name) return entry;
  }
  throw_config(fmt::format("unknown model '{}'", name), fmt::format("valid models: {}", fmt::join(model_names(), ", ")));
}

}  // namespace

std::unique_ptr<Model> make_model(const std::string& name) { return find_entry(name).make(); }

DataNeeds model_needs(const std::string& name) { return find_entry(name).needs; }

}  // namespace cltv::models
