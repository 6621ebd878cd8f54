// Error type of the cltv library: every failure carries a kind, translated once at each boundary
// (CLI exit codes now, HTTP status later). Messages say what failed, where, what was expected, and a hint.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace cltv {

enum class ErrorKind { input, io, config, model, internal };

std::string_view to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {});

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  ErrorKind kind_;
  std::string hint_;
};

// Shorthands so call sites read as the failure they describe.
[[noreturn]] void throw_input(std::string message, std::string hint = {});
[[noreturn]] void throw_io(std::string message, std::string hint = {});
[[noreturn]] void throw_config(std::string message, std::string hint = {});
[[noreturn]] void throw_model(std::string message, std::string hint = {});
[[noreturn]] void throw_internal(std::string message);

}  // namespace cltv
