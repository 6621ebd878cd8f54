// The model registry: one explicit table of every spend model, by name. Unknown names are a
// config error that lists the valid ones.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cltv/models/model.h"

namespace cltv::models {

struct ModelEntry {
  const char* name;
  const char* description;
  std::unique_ptr<Model> (*make)();
};

const std::vector<ModelEntry>& model_registry();
std::vector<std::string> model_names();
std::unique_ptr<Model> make_model(const std::string& name);

}  // namespace cltv::models
