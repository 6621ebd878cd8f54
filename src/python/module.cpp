// The Python module _cltv: the version, the progress sink of long calls, and the translation of the
// core's errors into the package's exceptions (cltv.errors); each area binds its own functions.
#include <pybind11/pybind11.h>

#include "cltv/error.h"
#include "cltv/version.h"
#include "convert.h"

namespace cltv::python {
namespace {

// Raises the cltv.errors class of E's kind with the core's message and hint.
void raise_error(const Error& e) {
  static const char* const names[] = {"InputError", "IOError", "ConfigError", "ModelError", "InternalError"};
  const py::object type = py::module_::import("cltv.errors").attr(names[static_cast<int>(e.kind())]);
  const py::object error = type(e.what(), e.hint());
  PyErr_SetObject(type.ptr(), error.ptr());
}

void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const Error& e) {
    raise_error(e);
  } catch (const CallProgress::Cancelled&) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  } catch (const py::error_already_set&) {
    throw;
  } catch (const py::builtin_exception&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    raise_error(Error(ErrorKind::internal, e.what(), "please report this with the call that caused it"));
  }
}

}  // namespace
}  // namespace cltv::python

PYBIND11_MODULE(_cltv, m) {
  using namespace cltv::python;
  m.doc() = "The compiled core of the cltv package; use `import cltv`.";
  m.attr("version") = cltv::version;
  py::register_exception_translator(translate);
  py::class_<CallProgress>(m, "CallProgress", "Progress of one long call, and its stop request")
      .def(py::init<>())
      .def("cancel", &CallProgress::cancel, "Stop the call at its next progress report")
      .def("state", &CallProgress::state, "(task, done, total, unit) of the latest report");
  bind_io(m);
  bind_btyd(m);
  bind_models(m);
}
