// Time and random splits.
#include "cltv/pipeline/split.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "cltv/error.h"
#include "cltv/time.h"

namespace cltv::pipeline {
namespace {

// Deterministic Fisher-Yates shuffle with splitmix64, so splits do not depend on the library.
std::vector<size_t> shuffled(size_t n, uint64_t seed) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  uint64_t state = seed ^ 0x5DEECE66Dull;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[next() % i]);
  return order;
}

// Splits DATA's rows into (rest, held) with HELD the share FRACTION, both in row order.
std::pair<std::vector<size_t>, std::vector<size_t>> hold_out(size_t n, double fraction, uint64_t seed) {
  std::vector<size_t> order = shuffled(n, seed);
  const size_t held = static_cast<size_t>(static_cast<double>(n) * fraction + 0.5);
  std::vector<size_t> held_rows(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  std::vector<size_t> rest(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  std::sort(held_rows.begin(), held_rows.end());
  std::sort(rest.begin(), rest.end());
  return {rest, held_rows};
}

// The datasets of the training windows before TRAIN_AS_OF, oldest first (training_as_ofs).
std::vector<models::Dataset> earlier_windows(const PreparedData& data, const features::FeatureOptions& features,
                                             int64_t train_as_of, int64_t count) {
  std::vector<models::Dataset> windows;
  for (const int64_t as_of : training_as_ofs(data.first_time, features.feature_months, train_as_of, count)) {
    windows.push_back(make_target_dataset(data, features, as_of, "--train-windows"));
  }
  return windows;
}

std::vector<double> monthly_spend(const models::Dataset& set) {
  std::vector<double> monthly(set.rows);
  for (size_t r = 0; r < set.rows; ++r) monthly[r] = set.window_amount[r] / set.feature_months;
  return monthly;
}

std::string validation_text(const SplitOptions& options, bool last_validates) {
  if (options.valid_as_of) return "at " + format_date(*options.valid_as_of);
  if (last_validates) return "on the last training window";
  return "on 20% of the training customers";
}

}  // namespace

std::vector<int64_t> training_as_ofs(int64_t first_time, int64_t feature_months, int64_t train_as_of, int64_t count) {
  const int64_t first_day = floor_div(first_time, seconds_per_day) * seconds_per_day;
  const auto months = static_cast<int>(feature_months);
  std::vector<int64_t> as_ofs;
  for (int back = 1; count == 0 || back < count; ++back) {
    const int64_t as_of = add_months(train_as_of, -back);
    if (add_months(as_of, -months) < first_day) break;
    as_ofs.push_back(as_of);
  }
  std::reverse(as_ofs.begin(), as_ofs.end());
  return as_ofs;
}

void declare_split_params(ParamSet& params, SplitOptions& options) {
  params.add_choice("split", options.split, "time", {"time", "random"},
                    "time: train, validate and test on successive windows; random: one window split 20% test, "
                    "then 20% of the rest for validation");
  params.add_date("train-as-of", options.train_as_of, false, "time split: as-of date of the training window");
  params.add_date("valid-as-of", options.valid_as_of, false,
                  "time split: as-of date of the validation window (default: a random 20% of the training customers)");
  params.add_date("test-as-of", options.test_as_of, false, "time split: as-of date of the test window");
  params.add_optional_int("train-windows", options.train_windows, 1, 600,
                          "time split: train on the windows at --train-as-of and the N-1 months before it, stacked, "
                          "each with features and target from the data before its own as-of (all: every month whose "
                          "feature window the data covers)",
                          "1; all for the stack model", {{"all", 0}});
  params.add_date("as-of", options.as_of, false, "random split: as-of date of the one window");
  params.add_int("seed", options.seed, 0, 0, INT64_MAX, "seed of the random split, validation sample and model");
}

Splits make_splits(const PreparedData& data, const features::FeatureOptions& features, const SplitOptions& options,
                   bool require_test) {
  Splits s;
  const auto seed = static_cast<uint64_t>(options.seed);
  if (options.split == "random") {
    if (!options.as_of) throw_config("--split random needs --as-of", "for example --as-of 2019-09-01");
    if (options.train_as_of || options.valid_as_of || options.test_as_of) {
      throw_config("--train-as-of, --valid-as-of and --test-as-of belong to --split time", "drop them or use --split time");
    }
    const models::Dataset all = make_target_dataset(data, features, *options.as_of, "--as-of");
    const auto [rest, test_rows] = hold_out(all.rows, 0.2, seed);
    const models::Dataset rest_set = subset(all, rest);
    const auto [train_rows, valid_rows] = hold_out(rest_set.rows, 0.2, seed + 1);
    s.train = subset(rest_set, train_rows);
    s.valid = subset(rest_set, valid_rows);
    s.test = subset(all, test_rows);
    s.level_spend = monthly_spend(s.train);
    s.description = fmt::format("random split of the window at {} (seed {}): {} train, {} valid, {} test rows",
                                format_date(*options.as_of), options.seed, s.train.rows, s.valid.rows, s.test.rows);
    return s;
  }

  if (!options.train_as_of) throw_config("--split time needs --train-as-of", "for example --train-as-of 2011-10-01");
  if (options.as_of) throw_config("--as-of belongs to --split random", "use --train-as-of and --test-as-of");
  if (require_test && !options.test_as_of) throw_config("--split time needs --test-as-of here");
  const int64_t train_as_of = *options.train_as_of;
  auto later = [&](const std::optional<int64_t>& date, const char* flag) {
    if (date && *date <= train_as_of) {
      throw_config(fmt::format("{} {} must be after --train-as-of {}", flag, format_date(*date), format_date(train_as_of)),
                   "later windows validate and test on the future of the training window");
    }
  };
  later(options.valid_as_of, "--valid-as-of");
  later(options.test_as_of, "--test-as-of");
  // The training target period must end before the later windows start, or they would see it.
  const int64_t train_target_end = add_months(train_as_of, static_cast<int>(features.horizon_months));
  for (const auto& [date, flag] : {std::pair{options.valid_as_of, "--valid-as-of"}, {options.test_as_of, "--test-as-of"}}) {
    if (date && *date < train_target_end) {
      throw_config(fmt::format("{} {} falls inside the training target period (until {})", flag, format_date(*date),
                               format_date(train_target_end)),
                   "use a date at least one horizon after --train-as-of");
    }
  }

  std::vector<models::Dataset> windows =
      earlier_windows(data, features, train_as_of, options.train_windows.value_or(1));
  const size_t window_count = windows.size() + 1;
  models::Dataset train = make_target_dataset(data, features, train_as_of, "--train-as-of");
  s.level_spend = monthly_spend(train);
  const bool last_validates = !options.valid_as_of && options.validate_on_last_window && !windows.empty();
  if (options.valid_as_of) {
    s.valid = make_target_dataset(data, features, *options.valid_as_of, "--valid-as-of");
    windows.push_back(std::move(train));
  } else if (last_validates) {
    s.valid = std::move(train);
  } else {
    const auto [train_rows, valid_rows] = hold_out(train.rows, 0.2, seed + 1);
    s.valid = subset(train, valid_rows);
    windows.push_back(subset(train, train_rows));
  }
  s.train = stack_datasets(windows);
  if (options.test_as_of) s.test = make_target_dataset(data, features, *options.test_as_of, "--test-as-of");
  const std::string stacked =
      window_count == 1 ? std::string() : fmt::format(" and the {} months before it, stacked", window_count - 1);
  s.description = fmt::format(
      "time split: train at {}{}, valid {}, test {}: {} train, {} valid, {} test rows", format_date(train_as_of),
      stacked, validation_text(options, last_validates),
      options.test_as_of ? "at " + format_date(*options.test_as_of) : std::string("none"), s.train.rows, s.valid.rows,
      s.test.rows);
  return s;
}

}  // namespace cltv::pipeline
