// Spend levels: the level of a spend value and the --levels flag.
#include "cltv/eval/levels.h"

#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "cltv/error.h"
#include "cltv/text.h"

namespace cltv::eval {
namespace {

constexpr const char* levels_hint =
    "give strictly increasing positive amounts separated by commas, e.g. --levels 100000,250000,500000,800000,1500000";

}  // namespace

int level_of(double spend, const LevelCuts& levels) {
  const auto above = std::upper_bound(levels.cuts.begin(), levels.cuts.end(), spend);
  return static_cast<int>(above - levels.cuts.begin());
}

LevelCuts parse_level_cuts(std::string_view text) {
  LevelCuts result;
  result.cuts.clear();
  if (trim(text, " \t").empty()) throw_config("--levels: the list of level cuts is empty", levels_hint);
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item =
        trim(text.substr(start, comma == std::string_view::npos ? text.size() - start : comma - start), " \t");
    double value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || !std::isfinite(value)) {
      throw_config(fmt::format("--levels: '{}' is not a number (in '{}')", item, text), levels_hint);
    }
    if (value <= 0) throw_config(fmt::format("--levels: {} is not positive (in '{}')", item, text), levels_hint);
    if (!result.cuts.empty() && value <= result.cuts.back()) {
      throw_config(fmt::format("--levels: {} does not exceed the previous cut {} (in '{}')", item,
                               result.cuts.back(), text),
                   levels_hint);
    }
    result.cuts.push_back(value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return result;
}

LevelCuts derive_level_cuts(const std::vector<double>& monthly_spend) {
  std::vector<double> spent;
  for (double v : monthly_spend) {
    if (v > 0) spent.push_back(v);
  }
  std::sort(spent.begin(), spent.end());
  return derive_level_cuts(spent.size(), [&spent](uint64_t k) { return spent[k]; });
}

LevelCuts derive_level_cuts(uint64_t spent_count, const std::function<double(uint64_t)>& kth_spent) {
  if (spent_count < 10) {
    throw_model(fmt::format("spend levels: {} customers spent in the training window, too few to derive level cuts",
                            spent_count),
                levels_hint);
  }
  LevelCuts levels;
  for (double share : {0.2, 0.4, 0.6, 0.8, 0.95}) {
    const double exact = kth_spent(static_cast<uint64_t>(share * static_cast<double>(spent_count - 1)));
    const double scale = std::pow(10.0, std::floor(std::log10(exact)) - 1);
    const double rounded = std::round(exact / scale) * scale;
    const double previous = levels.cuts.empty() ? 0.0 : levels.cuts.back();
    if (rounded > previous) {
      levels.cuts.push_back(rounded);
    } else if (exact > previous) {
      levels.cuts.push_back(exact);
    }
  }
  return levels;
}

void add_level_cuts_param(ParamSet& params, LevelCuts& target) {
  ParamSet::Param param;
  param.name = "levels";
  param.value_name = "CUTS";
  param.description = "spend levels: comma-separated lower bounds of levels 1, 2, ... (money)";
  param.default_text = target.cuts.empty() ? "the schema's, else derived from the training data"
                                            : fmt::format("{}", fmt::join(target.cuts, ","));
  param.apply = [&target](const std::string& text) { target = parse_level_cuts(text); };
  params.add_custom(std::move(param));
}

}  // namespace cltv::eval
