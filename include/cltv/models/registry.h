// The model registry: one explicit table of every spend model, by name. Unknown names are a
// config error that lists the valid ones.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cltv/models/model.h"

namespace cltv::models {

// What a model needs from the pipeline beyond the base features of one training window.
struct DataNeeds {
  bool history_features = false;  // the history feature columns (pipeline/history_features.h)
  // Unless --train-windows says otherwise, every training window stacked, the last one validating.
  bool all_windows = false;
};

struct ModelEntry {
  const char* name;
  const char* description;
  std::unique_ptr<Model> (*make)();
  DataNeeds needs{};
};

const std::vector<ModelEntry>& model_registry();
std::vector<std::string> model_names();
std::unique_ptr<Model> make_model(const std::string& name);
// The needs of the model NAME (config error for unknown names, as make_model).
DataNeeds model_needs(const std::string& name);

}  // namespace cltv::models
