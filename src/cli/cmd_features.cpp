// `cltv features`: read, clean and turn a transaction file into the per-customer feature CSV.
#include <fmt/core.h>

#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/features/output.h"
#include "cltv/io/input_options.h"
#include "cltv/storage/location.h"
#include "command.h"

namespace cltv::cli {

Command make_features_command() {
  struct Options {
    io::InputOptions input;
    features::CleanOptions clean;
    features::FeatureOptions features;
    std::string out;
    std::string summary_json;
  };
  auto options = std::make_shared<Options>();
  Command command{"features", "Clean transactions and write each customer's features (and next-period target) as CSV", {}, {}, {}};
  io::declare_input_params(command.params, options->input);
  features::declare_clean_params(command.params, options->clean);
  features::declare_feature_params(command.params, options->features);
  command.params.add_required_text("out", options->out, "feature CSV to write (a path, file:// or s3:// location)");
  command.params.add_text("summary-json", options->summary_json, "",
                          "also write the cleaning counts, windows, population and per-feature statistics as JSON",
                          "PATH");
  command.params.mark_path("out", PathRole::output);
  command.params.mark_path("summary-json", PathRole::output);
  command.run = [options] {
    io::ReadResult read = io::load_input(options->input);
    const features::CleanReport clean = features::clean_transactions(read.table, options->clean, read.report);
    const features::FeatureMatrix matrix = features::build_features(read.table, options->features);
    const auto threads = static_cast<unsigned>(options->input.threads);
    const storage::OutputStaging out(storage::parse_location(options->out, options->input.s3));
    features::write_features_csv(matrix, out.path(), threads);
    out.publish();
    if (!options->summary_json.empty()) {
      storage::write_text(storage::parse_location(options->summary_json, options->input.s3),
                          features::feature_summary_json(clean, matrix));
    }
    fmt::print("{}", features::feature_summary_text(clean, matrix, options->out));
    return 0;
  };
  return command;
}

}  // namespace cltv::cli
