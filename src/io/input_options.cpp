// Shared input parameters and loading.
#include "cltv/io/input_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cltv::io {

void declare_input_params(ParamSet& params, InputOptions& options) {
  params.add_required_text("input", options.input, "transaction file (CSV or whitespace text, optionally .gz)");
  params.add_required_text(
      "schema", options.schema,
      fmt::format("input schema: {} or a JSON schema file", fmt::join(builtin_schema_names(), ", ")),
      "NAME");
  params.add_custom({"on-bad-row", "fail|skip|quarantine=PATH",
                     "what to do with malformed rows: stop and list them, skip and count them, or also "
                     "write them to PATH",
                     "fail", false, false,
                     [&options](const std::string& text) {
                       parse_bad_row_option(text);
                       options.on_bad_row = text;
                     }});
  options.on_bad_row = "fail";
  params.add_int("threads", options.threads, 0, 0, 256, "parsing threads (0: one per core)");
}

ReadResult load_input(const InputOptions& options) {
  const Schema schema = resolve_schema(options.schema);
  ReadOptions read_options;
  read_options.on_bad_row = parse_bad_row_option(options.on_bad_row);
  read_options.threads = static_cast<unsigned>(options.threads);
  return read_transactions(options.input, schema, read_options);
}

}  // namespace cltv::io
