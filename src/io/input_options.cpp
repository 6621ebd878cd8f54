// Shared input parameters and loading.
#include "cltv/io/input_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cltv/progress.h"
#include "cltv/sha256.h"
#include "cltv/storage/location.h"
#include "cltv/threads.h"

namespace cltv::io {

void declare_input_params(ParamSet& params, InputOptions& options) {
  params.add_required_text("input", options.input,
                           "transaction file (CSV or whitespace text, optionally .gz): a path, file:///path or "
                           "s3://bucket/key");
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
  params.mark_path("input", PathRole::input);
  params.mark_path("on-bad-row", PathRole::output,
                   [](const std::string& text) { return parse_bad_row_option(text).quarantine_path; });
  add_threads_param(params, options.threads);
  storage::declare_storage_params(params, options.s3);
}

ReadResult load_input(const InputOptions& options) {
  const storage::Location location = storage::parse_location(options.input, options.s3);
  const storage::LocalCopy local = storage::fetch(location, [sink = options.progress](int64_t done, int64_t total) {
    report_progress(sink, "download", done, total, "bytes");
  });
  return read_fetched_input(options, location, local.path());
}

ReadResult read_fetched_input(const InputOptions& options, const storage::Location& location,
                              const std::string& local_path) {
  const Schema schema = resolve_schema(options.schema);
  ReadOptions read_options;
  read_options.on_bad_row = parse_bad_row_option(options.on_bad_row);
  read_options.threads = static_cast<unsigned>(options.threads);
  read_options.source_name = location.text();  // not the temporary copy of a remote input
  read_options.progress = options.progress;
  ReadResult result = read_transactions(local_path, schema, read_options);
  if (options.fingerprint) result.report.sha256 = sha256_file_hex(local_path);
  return result;
}

}  // namespace cltv::io
