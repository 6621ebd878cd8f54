// Boundary conversions and the call progress sink of the Python module.
#include "convert.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "cltv/error.h"
#include "cltv/storage/location.h"

namespace cltv::python {

void apply_settings(ParamSet& params, const Settings& settings, const std::vector<std::string>& optional) {
  std::vector<std::string> given;
  for (const auto& [name, text] : settings) {
    params.set(name, text);
    given.push_back(name);
  }
  const auto listed = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const auto& p : params.params()) {
    if (p.required && !listed(given, p.name) && !listed(optional, p.name)) {
      std::string python_name = p.name;
      std::replace(python_name.begin(), python_name.end(), '-', '_');
      throw_config(fmt::format("missing setting '{}'", python_name), p.description);
    }
  }
  storage::check_distinct_paths(params.named_paths());
}

py::list to_list(const StringDict& dict) {
  py::list list(dict.size());
  for (uint32_t i = 0; i < dict.size(); ++i) list[i] = py::str(dict[i].data(), dict[i].size());
  return list;
}

py::list to_list(const std::vector<std::string>& texts) {
  py::list list(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) list[i] = py::str(texts[i]);
  return list;
}

py::object to_python(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(json.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(json.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(json.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(json.get<double>());
    case nlohmann::json::value_t::string: return py::str(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list list;
      for (const auto& item : json) list.append(to_python(item));
      return list;
    }
    default: {
      py::dict dict;
      for (const auto& [key, value] : json.items()) dict[py::str(key)] = to_python(value);
      return dict;
    }
  }
}

io::ReadResult load_transactions(const Transactions* transactions, const io::InputOptions& input) {
  if (transactions != nullptr) return *transactions->read;
  const py::gil_scoped_release release;
  return io::load_input(input);
}

void CallProgress::update(std::string_view task, int64_t done, int64_t total, std::string_view unit) {
  // Only training epochs and boosting rounds are reported where the work may throw (beside its
  // divergence errors); parsing reports from threads that cannot, and downloads from inside libcurl.
  if (cancelled_ && (task == "training" || task == "boosting")) throw Cancelled();
  const std::lock_guard lock(mutex_);
  task_ = task;
  unit_ = unit;
  done_ = done;
  total_ = total;
}

py::tuple CallProgress::state() const {
  const std::lock_guard lock(mutex_);
  return py::make_tuple(task_, done_, total_, unit_);
}

}  // namespace cltv::python
