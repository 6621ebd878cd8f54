// `cltv query`: print one customer's row of a predictions file.
#include <fmt/core.h>

#include "cltv/pipeline/scoring.h"
#include "cltv/storage/location.h"
#include "command.h"

namespace cltv::cli {

Command make_query_command() {
  struct Options {
    std::string predictions, customer;
    storage::S3Options s3;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  Command command{"query", "Print one customer's predicted spend, levels and trend", {}, {}, {}};
  command.params.add_required_text("predictions", o->predictions, "predictions CSV (the --out of cltv predict)");
  command.params.add_required_text("customer", o->customer, "customer id as written in the input", "ID");
  storage::declare_storage_params(command.params, o->s3);
  command.params.add_flag("json", o->json, "print JSON");
  command.run = [o] {
    fmt::print("{}", pipeline::query_customer(storage::parse_location(o->predictions, o->s3), o->customer, o->json));
    return 0;
  };
  return command;
}

}  // namespace cltv::cli
