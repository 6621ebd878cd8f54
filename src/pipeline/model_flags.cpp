// ModelFlags: one flag per distinct model hyperparameter.
#include "cltv/pipeline/model_flags.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "cltv/error.h"
#include "cltv/models/registry.h"

namespace cltv::pipeline {

ModelFlags::ModelFlags() {
  for (const auto& entry : models::model_registry()) {
    prototypes_.push_back(entry.make());
    prototype_params_.emplace_back();
    prototypes_.back()->declare_params(prototype_params_.back());
    for (const auto& p : prototype_params_.back().params()) takers_[p.name].push_back(entry.name);
  }
}

ModelFlags::~ModelFlags() = default;

std::string ModelFlags::defaults_text(const std::string& name) const {
  // Each distinct default with the models that have it, in registry order.
  std::vector<std::pair<std::string, std::vector<std::string>>> defaults;
  for (size_t m = 0; m < prototypes_.size(); ++m) {
    for (const auto& p : prototype_params_[m].params()) {
      if (p.name != name) continue;
      auto it = std::find_if(defaults.begin(), defaults.end(), [&](const auto& d) { return d.first == p.default_text; });
      if (it == defaults.end()) it = defaults.insert(defaults.end(), {p.default_text, {}});
      it->second.push_back(prototypes_[m]->kind());
    }
  }
  if (defaults.size() == 1) return defaults.front().first;
  std::vector<std::string> parts;
  for (const auto& [text, models] : defaults) parts.push_back(fmt::format("{} ({})", text, fmt::join(models, ", ")));
  return fmt::format("{}", fmt::join(parts, "; "));
}

void ModelFlags::declare(ParamSet& params) {
  std::map<std::string, bool> declared;
  for (const auto& set : prototype_params_) {
    for (const auto& p : set.params()) {
      if (declared[p.name]) continue;
      declared[p.name] = true;
      ParamSet::Param flag = p;
      flag.description = fmt::format("({}) {}", fmt::join(takers_.at(p.name), ", "), p.description);
      flag.default_text = defaults_text(p.name);
      const auto check = p.apply;  // validates against the first model declaring it
      auto record = [this, name = p.name, check](const std::string& text) {
        check(text);
        given_[name] = text;
      };
      if (params.contains(p.name)) {
        shared_.insert(p.name);
        params.also_apply(p.name, std::move(record));  // e.g. --threads: parsing and the model
      } else {
        flag.apply = std::move(record);
        params.add_custom(std::move(flag));
      }
    }
  }
}

void ModelFlags::apply_to(models::Model& model, bool strict) const {
  ParamSet own;
  model.declare_params(own);
  for (const auto& entry : given_) {
    const std::string& name = entry.first;
    const std::string& text = entry.second;
    const auto& list = own.params();
    const auto it = std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.name == name; });
    if (it != list.end()) {
      it->apply(text);
    } else if (strict && !shared_.contains(name)) {
      throw_config(fmt::format("--{} does not apply to model '{}'", name, model.kind()),
                   fmt::format("it applies to: {}", fmt::join(takers_.at(name), ", ")));
    }
  }
}

}  // namespace cltv::pipeline
