// From a transaction file to model datasets: read, clean, then build the features (and the RFM
// summary the probabilistic models use) for a window ending at an as-of date.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/io/input_options.h"
#include "cltv/models/model.h"

namespace cltv::pipeline {

// A cleaned transaction table: rows grouped by customer (see features::clean_transactions).
struct PreparedData {
  TransactionTable table;
  io::ReadReport read;
  features::CleanReport clean;
  std::string input_sha256;
};

PreparedData prepare_data(const io::InputOptions& input, const features::CleanOptions& clean);
// The same for input already read.
PreparedData prepare_read(io::ReadResult read, const features::CleanOptions& clean);

// The population's rows at OPTIONS.as_of: features, targets (when the data reaches the target
// period), window amount, and lifetimes-style RFM in days over all history before as-of.
models::Dataset make_dataset(const PreparedData& data, const features::FeatureOptions& options);

// The rows ROWS of DATA, in that order.
models::Dataset subset(const models::Dataset& data, const std::vector<size_t>& rows);

// The first instant of the month after the data's last transaction: the default as-of for scoring.
int64_t default_as_of(const TransactionTable& table);

}  // namespace cltv::pipeline
