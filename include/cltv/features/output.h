// Writing a feature matrix: the CSV file (customer_id, features, targets; numbers that round-trip
// exactly) and the JSON summary (cleaning counts, windows, population, per-feature statistics).
#pragma once

#include <string>
#include <vector>

#include "cltv/features/clean.h"
#include "cltv/features/features.h"

namespace cltv::features {

struct ColumnStats {
  std::string name;
  double min = 0.0;
  double mean = 0.0;
  double max = 0.0;
};

// Min / mean / max of every feature column, then of the target columns when present.
std::vector<ColumnStats> column_stats(const FeatureMatrix& matrix);

// The CSV text (header line, one line per row). THREADS formats row ranges in parallel.
std::string features_csv(const FeatureMatrix& matrix, unsigned threads = 0);

// Writes the CSV to PATH atomically, formatting in blocks so memory stays bounded.
void write_features_csv(const FeatureMatrix& matrix, const std::string& path, unsigned threads = 0);

// The cleaning counts for the terminal: one line of counts, then one line per removed basket.
std::string clean_summary_text(const CleanReport& clean);

std::string feature_summary_json(const CleanReport& clean, const FeatureMatrix& matrix);

// A few lines for the terminal: counts, window, population, target coverage.
std::string feature_summary_text(const CleanReport& clean, const FeatureMatrix& matrix,
                                 const std::string& out_path);

}  // namespace cltv::features
