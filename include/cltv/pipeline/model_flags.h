// The hyperparameter flags of every registered model as one flag set: each distinct name is
// declared once (checked by the first model declaring it), and the given values are applied to
// whichever model is trained. A value a chosen model does not take is an error naming the models
// that do, unless the command itself also takes it (--threads: parsing, cleaning, features).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cltv/models/model.h"
#include "cltv/params.h"

namespace cltv::pipeline {

class ModelFlags {
 public:
  ModelFlags();
  ~ModelFlags();
  ModelFlags(const ModelFlags&) = delete;
  ModelFlags& operator=(const ModelFlags&) = delete;

  // Adds every model's parameters to PARAMS (descriptions say which models take each).
  void declare(ParamSet& params);
  // Declares MODEL's parameters (defaults) and applies the given values. With STRICT, a given value
  // MODEL does not take is a config error.
  void apply_to(models::Model& model, bool strict) const;
  // The values given on the command line, by name.
  const std::map<std::string, std::string>& given() const { return given_; }

 private:
  // NAME's default, or each model's when they differ ("6 (xgboost, hurdle); 3 (stack)").
  std::string defaults_text(const std::string& name) const;

  std::vector<std::unique_ptr<models::Model>> prototypes_;  // validate values at parse time
  std::vector<ParamSet> prototype_params_;
  std::map<std::string, std::vector<std::string>> takers_;  // parameter -> models taking it
  std::map<std::string, std::string> given_;
  std::set<std::string> shared_;  // flags the command also takes itself, e.g. threads
};

}  // namespace cltv::pipeline
