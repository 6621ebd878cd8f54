// `cltv generate`: write synthetic L.Point-like purchase lines (and optionally their ground truth).
#include <fmt/core.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>

#include "cltv/generate/generator.h"
#include "cltv/storage/location.h"
#include "command.h"

namespace cltv::cli {

Command make_generate_command() {
  struct Options {
    int64_t customers = 0;
    int64_t months = 0;
    int64_t seed = 0;
    int64_t threads = 0;
    int64_t start = generate::GenerateOptions().start;
    std::string out;
    std::string truth;
    storage::S3Options s3;
  };
  auto options = std::make_shared<Options>();
  Command command{"generate",
                  "Write synthetic purchases in the lpoint schema (L.Point-like, BG/NBD customers) and their ground truth",
                  {}, {}, {}};
  ParamSet& params = command.params;
  params.add_int("customers", options->customers, 72000, 1, 1'000'000'000, "number of customers to simulate");
  params.add_int("months", options->months, 3, 1, 120, "calendar months of data");
  params.add_custom({"start", "YYYY-MM", "first month of the data", "2019-07", false, false,
                     [options](const std::string& text) { options->start = generate::parse_start_month(text, "--start"); }});
  params.add_int("seed", options->seed, 42, 0, std::numeric_limits<int64_t>::max(),
                 "random seed: the same seed gives the same bytes");
  params.add_required_text("out", options->out, "output CSV (gzip when it ends with .gz)");
  params.add_text("truth", options->truth, "",
                  "also write each customer's latent parameters and expected next-month spend to this CSV", "PATH");
  params.add_int("threads", options->threads, 2, 1, 64, "generating threads (the output does not depend on it)");
  params.mark_path("out", PathRole::output);
  params.mark_path("truth", PathRole::output);
  storage::declare_storage_params(params, options->s3);
  command.run = [options] {
    generate::GenerateOptions request;
    request.customers = static_cast<uint64_t>(options->customers);
    request.months = static_cast<int>(options->months);
    request.start = options->start;
    request.seed = static_cast<uint64_t>(options->seed);
    const storage::OutputStaging out(storage::parse_location(options->out, options->s3));
    std::optional<storage::OutputStaging> truth;
    if (!options->truth.empty()) truth.emplace(storage::parse_location(options->truth, options->s3));
    request.out = out.path();
    request.truth = truth ? truth->path() : std::string();
    request.threads = static_cast<unsigned>(options->threads);
    const generate::GenerateSummary s = generate::generate_lpoint(request);
    out.publish();
    if (truth) truth->publish();
    fmt::print("generated {} lines: {} customers with purchases of {}, {} baskets, {} to {}, written to {}\n", s.lines,
               s.customers_with_purchases, s.customers, s.baskets, s.first_day, s.last_day, options->out);
    return 0;
  };
  return command;
}

}  // namespace cltv::cli
