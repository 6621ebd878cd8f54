// ParamSet: typed parameter declarations with their checks.
#include "cltv/params.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <cmath>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/time.h"

namespace cltv {
namespace {

// TEXT as a whole number in [MIN, MAX] for --NAME; config error naming the range (and ALSO, the
// words accepted besides numbers) otherwise.
int64_t parse_int_in(const std::string& name, const std::string& text, int64_t min, int64_t max,
                     const std::string& also) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string expected = fmt::format("expected a whole number from {} to {}{}", min, max, also);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw_config(fmt::format("--{}: '{}' is not an integer", name, text), expected);
  }
  if (value < min || value > max) throw_config(fmt::format("--{}: {} is out of range", name, value), expected);
  return value;
}

std::string format_number(double value) {
  return fmt::format("{}", value);
}

}  // namespace

void ParamSet::add_int(const std::string& name, int64_t& target, int64_t default_value, int64_t min,
                       int64_t max, const std::string& description, const std::string& value_name) {
  target = default_value;
  Param p{name, value_name, description, std::to_string(default_value), false, false, {}};
  p.apply = [&target, name, min, max](const std::string& text) { target = parse_int_in(name, text, min, max, ""); };
  params_.push_back(std::move(p));
}

void ParamSet::add_optional_int(const std::string& name, std::optional<int64_t>& target, int64_t min, int64_t max,
                                const std::string& description, const std::string& default_text,
                                std::vector<std::pair<std::string, int64_t>> words) {
  target.reset();
  std::string value_name = "N";
  std::string also;
  for (const auto& word : words) {
    value_name += "|" + word.first;
    also += fmt::format(" or '{}'", word.first);
  }
  Param p{name, value_name, description, default_text, false, false, {}};
  p.apply = [&target, name, min, max, words = std::move(words), also](const std::string& text) {
    for (const auto& [word, value] : words) {
      if (text == word) {
        target = value;
        return;
      }
    }
    target = parse_int_in(name, text, min, max, also);
  };
  params_.push_back(std::move(p));
}

void ParamSet::add_number(const std::string& name, double& target, double default_value, double min,
                          double max, const std::string& description, const std::string& value_name) {
  target = default_value;
  Param p{name, value_name, description, format_number(default_value), false, false, {}};
  p.apply = [&target, name, min, max](const std::string& text) {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value)) {
      throw_config(fmt::format("--{}: '{}' is not a number", name, text),
                   fmt::format("expected a number from {} to {}", format_number(min), format_number(max)));
    }
    if (value < min || value > max) {
      throw_config(fmt::format("--{}: {} is out of range", name, text),
                   fmt::format("expected a number from {} to {}", format_number(min), format_number(max)));
    }
    target = value;
  };
  params_.push_back(std::move(p));
}

void ParamSet::add_text(const std::string& name, std::string& target, const std::string& default_value,
                        const std::string& description, const std::string& value_name) {
  target = default_value;
  Param p{name, value_name, description, default_value, false, false, {}};
  p.apply = [&target](const std::string& text) { target = text; };
  params_.push_back(std::move(p));
}

void ParamSet::add_required_text(const std::string& name, std::string& target, const std::string& description,
                                 const std::string& value_name) {
  Param p{name, value_name, description, "", true, false, {}};
  p.apply = [&target, name](const std::string& text) {
    if (text.empty()) throw_config(fmt::format("--{} is empty", name));
    target = text;
  };
  params_.push_back(std::move(p));
}

void ParamSet::add_choice(const std::string& name, std::string& target, const std::string& default_value,
                          const std::vector<std::string>& choices, const std::string& description) {
  target = default_value;
  Param p{name, fmt::format("{}", fmt::join(choices, "|")), description, default_value, false, false, {}};
  p.apply = [&target, name, choices](const std::string& text) {
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
      throw_config(fmt::format("--{}: '{}' is not one of the choices", name, text),
                   fmt::format("expected one of: {}", fmt::join(choices, ", ")));
    }
    target = text;
  };
  params_.push_back(std::move(p));
}

void ParamSet::add_date(const std::string& name, std::optional<int64_t>& target, bool required,
                        const std::string& description) {
  target.reset();
  Param p{name, "DATE", description, "", required, false, {}};
  p.apply = [&target, name](const std::string& text) { target = parse_date_arg(text, "--" + name); };
  params_.push_back(std::move(p));
}

void ParamSet::add_flag(const std::string& name, bool& target, const std::string& description) {
  target = false;
  Param p{name, "", description, "", false, true, {}};
  p.apply = [&target, name](const std::string& text) {
    if (text == "true" || text == "1" || text.empty()) {
      target = true;
    } else if (text == "false" || text == "0") {
      target = false;
    } else {
      throw_config(fmt::format("{}: '{}' is not true or false", name, text));
    }
  };
  params_.push_back(std::move(p));
}

void ParamSet::add_custom(Param param) { params_.push_back(std::move(param)); }

bool ParamSet::contains(const std::string& name) const {
  return std::any_of(params_.begin(), params_.end(), [&](const Param& p) { return p.name == name; });
}

void ParamSet::also_apply(const std::string& name, std::function<void(const std::string&)> also) {
  for (auto& p : params_) {
    if (p.name != name) continue;
    p.apply = [first = std::move(p.apply), also = std::move(also)](const std::string& text) {
      first(text);
      also(text);
    };
    return;
  }
  throw_internal(fmt::format("no parameter '{}' to extend", name));
}

void ParamSet::add_or_share(Param param) {
  if (contains(param.name)) {
    also_apply(param.name, std::move(param.apply));
  } else {
    add_custom(std::move(param));
  }
}

void ParamSet::mark_path(const std::string& name, PathRole role,
                         std::function<std::string(const std::string&)> path_of) {
  for (auto& p : params_) {
    if (p.name != name) continue;
    p.path_role = role;
    p.path_of = std::move(path_of);
    return;
  }
  throw_internal(fmt::format("no parameter '{}' to mark as a path", name));
}

void ParamSet::set(const std::string& name, const std::string& text) {
  for (const auto& p : params_) {
    if (p.name == name) {
      p.apply(text);
      set_values_.emplace_back(name, text);
      return;
    }
  }
  std::vector<std::string> names;
  for (const auto& p : params_) names.push_back(p.name);
  throw_config(fmt::format("unknown parameter '{}'", name), fmt::format("valid parameters: {}", fmt::join(names, ", ")));
}

namespace {

std::string config_value_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const auto& item : value) items.push_back(config_value_text(item));
    return fmt::format("{}", fmt::join(items, ","));
  }
  return value.dump();
}

}  // namespace

void ParamSet::apply_config_file(const std::string& path) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(io::read_whole_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_config(fmt::format("config file '{}' is not valid JSON: {}", path, e.what()),
                 "write one JSON object whose keys are the flag names, e.g. {\"model\": \"xgboost\"}");
  }
  if (!config.is_object()) {
    throw_config(fmt::format("config file '{}' must hold one JSON object", path),
                 "write {\"flag-name\": value, ...}");
  }
  for (const auto& item : config.items()) {
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    if (key == "config") throw_config(fmt::format("config file '{}': key 'config' cannot nest config files", path));
    if (value.is_object() || value.is_null()) {
      throw_config(fmt::format("config file '{}': key '{}' must be a string, number, boolean or list", path, key));
    }
    const auto param = std::find_if(params_.begin(), params_.end(), [&](const Param& p) { return p.name == key; });
    if (param != params_.end() && param->is_flag && value.is_boolean() && !value.get<bool>()) continue;
    try {
      set(key, config_value_text(value));
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("config file '{}', key '{}': {}", path, key, e.what()), e.hint());
    }
  }
}

std::vector<ParamSet::NamedPath> ParamSet::named_paths() const {
  std::vector<NamedPath> paths;
  for (const auto& value : set_values_) {
    const std::string& name = value.first;
    const std::string& text = value.second;
    const auto param = std::find_if(params_.begin(), params_.end(), [&](const Param& p) { return p.name == name; });
    if (param->path_role == PathRole::none) continue;
    std::string location = param->path_of ? param->path_of(text) : text;
    if (location.empty()) continue;
    // A parameter set twice (config file, then flag) names only its last value.
    std::erase_if(paths, [&](const NamedPath& p) { return p.flag == "--" + name; });
    paths.push_back({"--" + name, std::move(location), param->path_role});
  }
  return paths;
}

}  // namespace cltv
