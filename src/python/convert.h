// Conversions at the Python boundary: core columns to numpy arrays without copies, keyword settings
// applied to the same parameter declarations the CLI uses, JSON values to Python objects, and the
// progress sink that lets Python draw a bar and stop long work.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cltv/io/input_options.h"
#include "cltv/params.h"
#include "cltv/progress.h"
#include "cltv/table.h"

namespace cltv::python {

namespace py = pybind11;

// Settings by flag name ("feature-months", "2"), in the order given; flags are "true".
using Settings = std::vector<std::pair<std::string, std::string>>;

// Sets every setting on PARAMS, then checks that the required parameters (but those in OPTIONAL)
// were given and that no output names an input or another output. Config errors name the setting.
void apply_settings(ParamSet& params, const Settings& settings, const std::vector<std::string>& optional = {});

// A numpy array owning the moved VALUES (no copy).
template <typename Vector>
py::array to_numpy(Vector&& values) {
  using T = typename std::decay_t<Vector>::value_type;
  auto* owned = new std::decay_t<Vector>(std::forward<Vector>(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::decay_t<Vector>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(owned->size()), owned->data(), owner);
}

py::list to_list(const StringDict& dict);
py::list to_list(const std::vector<std::string>& texts);
py::object to_python(const nlohmann::ordered_json& json);

// What a long call reports: the latest progress, for the caller's bar, and a stop request. Once
// cancelled, the next training epoch or boosting round report throws Cancelled, which unwinds the
// work and reaches Python as KeyboardInterrupt (shorter steps run to their end).
class CallProgress : public ProgressSink {
 public:
  struct Cancelled : std::exception {
    const char* what() const noexcept override { return "interrupted"; }
  };
  void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) override;
  void cancel() { cancelled_ = true; }
  // (task, done, total, unit) of the latest report; task is "" before the first.
  py::tuple state() const;

 private:
  std::atomic<bool> cancelled_ = false;
  mutable std::mutex mutex_;
  std::string task_, unit_;
  int64_t done_ = 0, total_ = 0;
};

// A transaction table handed over from Python (a DataFrame's columns), as the reader would give it.
struct Transactions {
  std::shared_ptr<const io::ReadResult> read;
};

// The transactions of a call: a copy of TRANSACTIONS when given (cleaning works in place), else
// INPUT read as the CLI reads it. Releases the GIL while reading.
io::ReadResult load_transactions(const Transactions* transactions, const io::InputOptions& input);

// Registers the bindings of each area on the module.
void bind_io(py::module_& m);
void bind_btyd(py::module_& m);
void bind_models(py::module_& m);

}  // namespace cltv::python
