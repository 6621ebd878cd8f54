// Error kinds and the throwing shorthands.
#include "cltv/error.h"

namespace cltv {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::input: return "input error";
    case ErrorKind::io: return "i/o error";
    case ErrorKind::config: return "configuration error";
    case ErrorKind::model: return "model error";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

Error::Error(ErrorKind kind, std::string message, std::string hint)
    : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)) {}

void throw_input(std::string message, std::string hint) {
  throw Error(ErrorKind::input, std::move(message), std::move(hint));
}
void throw_io(std::string message, std::string hint) {
  throw Error(ErrorKind::io, std::move(message), std::move(hint));
}
void throw_config(std::string message, std::string hint) {
  throw Error(ErrorKind::config, std::move(message), std::move(hint));
}
void throw_model(std::string message, std::string hint) {
  throw Error(ErrorKind::model, std::move(message), std::move(hint));
}
void throw_internal(std::string message) { throw Error(ErrorKind::internal, std::move(message)); }

}  // namespace cltv
