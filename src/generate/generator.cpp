// generate_lpoint: counts each block's baskets (so basket ids are known before any text is made),
// then simulates customer blocks on worker threads and writes them in customer order.
#include "cltv/generate/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "cltv/error.h"
#include "cltv/time.h"
#include "lpoint_simulator.h"
#include "output_sink.h"

namespace cltv::generate {
namespace {

constexpr uint64_t block_customers = 4096;
constexpr uint64_t max_customers = 1'000'000'000;
constexpr int max_months = 120;
constexpr unsigned max_threads = 64;

void check_options(const GenerateOptions& options) {
  if (options.customers < 1 || options.customers > max_customers) {
    throw_config(fmt::format("generate: {} customers is out of range", options.customers),
                 fmt::format("expected 1 to {}", max_customers));
  }
  if (options.months < 1 || options.months > max_months) {
    throw_config(fmt::format("generate: {} months is out of range", options.months),
                 fmt::format("expected 1 to {}", max_months));
  }
  if (options.threads < 1 || options.threads > max_threads) {
    throw_config(fmt::format("generate: {} threads is out of range", options.threads),
                 fmt::format("expected 1 to {}", max_threads));
  }
  const CivilDate start = civil_from_days(floor_div(options.start, seconds_per_day));
  if (options.start % seconds_per_day != 0 || start.day != 1) {
    throw_config(fmt::format("generate: the start {} is not the first day of a month", format_datetime(options.start)),
                 "give the first month as YYYY-MM, for example 2019-07");
  }
  if (start.year < 1900 || start.year > 9000) {
    throw_config(fmt::format("generate: the start year {} is out of range", start.year), "expected a year from 1900 to 9000");
  }
  if (options.out.empty()) throw_config("generate: no output path", "pass --out PATH");
}

// Runs TASK(i) for i in [0, count) on THREADS threads; rethrows the first failure.
template <class Task>
void run_parallel(unsigned threads, uint64_t count, const Task& task) {
  std::mutex mutex;
  uint64_t next = 0;
  std::exception_ptr error;
  auto worker = [&] {
    while (true) {
      uint64_t i = 0;
      {
        const std::lock_guard lock(mutex);
        if (error || next >= count) return;
        i = next++;
      }
      try {
        task(i);
      } catch (...) {
        const std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
}

struct BlockOutput {
  std::string lines;
  std::string truth;
  BlockTotals totals;
  bool ready = false;
};

// Workers PRODUCE blocks [0, count) into a bounded window of slots while this thread CONSUMEs them
// in order, so at most `window` blocks are held whatever the number of customers.
template <class Produce, class Consume>
void produce_parallel_consume_in_order(unsigned threads, uint64_t count, const Produce& produce, const Consume& consume) {
  const uint64_t window = 2 * threads + 2;
  std::vector<BlockOutput> slots(window);
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t next_claim = 0, consumed = 0;
  bool stop = false;
  std::exception_ptr error;

  auto worker = [&] {
    try {
      while (true) {
        uint64_t block = 0;
        {
          std::unique_lock lock(mutex);
          if (stop || next_claim >= count) return;
          block = next_claim++;
          changed.wait(lock, [&] { return stop || block < consumed + window; });
          if (stop) return;
        }
        BlockOutput output;
        produce(block, output);
        output.ready = true;
        {
          const std::lock_guard lock(mutex);
          slots[block % window] = std::move(output);
        }
        changed.notify_all();
      }
    } catch (...) {
      const std::lock_guard lock(mutex);
      if (!error) error = std::current_exception();
      stop = true;
      changed.notify_all();
    }
  };

  std::vector<std::thread> pool;
  auto stop_and_join = [&] {
    {
      const std::lock_guard lock(mutex);
      stop = true;
    }
    changed.notify_all();
    for (auto& thread : pool) thread.join();
  };
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  try {
    for (uint64_t block = 0; block < count; ++block) {
      BlockOutput output;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || slots[block % window].ready; });
        if (!slots[block % window].ready) break;  // a worker failed
        output = std::move(slots[block % window]);
        slots[block % window].ready = false;
        ++consumed;
      }
      changed.notify_all();
      consume(output);
    }
  } catch (...) {
    stop_and_join();
    throw;
  }
  stop_and_join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

int64_t parse_start_month(std::string_view text, std::string_view flag) {
  const int64_t seconds = parse_date_arg(text, flag);
  if (civil_from_days(floor_div(seconds, seconds_per_day)).day != 1) {
    throw_config(fmt::format("{}: '{}' is not the first day of a month", flag, text),
                 "give the first month of the data as YYYY-MM, for example 2019-07");
  }
  return seconds;
}

GenerateSummary generate_lpoint(const GenerateOptions& options) {
  check_options(options);
  const int64_t end = add_months(options.start, options.months);
  SimulationPeriod period;
  period.start_day = floor_div(options.start, seconds_per_day);
  period.days = static_cast<int>((end - options.start) / seconds_per_day);
  period.next_month_days = static_cast<int>((add_months(end, 1) - end) / seconds_per_day);
  const LpointSimulator simulator(options.model, options.seed, period);

  const uint64_t blocks = (options.customers + block_customers - 1) / block_customers;
  auto block_range = [&](uint64_t block) {
    return std::pair(block * block_customers, std::min(options.customers, (block + 1) * block_customers));
  };
  // Basket ids run from 1 in customer order: each block starts after the baskets of those before it.
  std::vector<uint64_t> first_basket(blocks + 1, 0);
  run_parallel(options.threads, blocks, [&](uint64_t block) {
    const auto [first, last] = block_range(block);
    first_basket[block + 1] = simulator.count_baskets(first, last);
  });
  first_basket[0] = 1;
  for (uint64_t block = 0; block < blocks; ++block) first_basket[block + 1] += first_basket[block];

  OutputSink lines_out(options.out);
  std::optional<OutputSink> truth_out;
  if (!options.truth.empty()) {
    truth_out.emplace(options.truth);
    truth_out->write(LpointSimulator::truth_header());
  }
  lines_out.write(LpointSimulator::lines_header());

  GenerateSummary summary;
  summary.customers = options.customers;
  summary.first_day = format_date(options.start);
  summary.last_day = format_date(end - seconds_per_day);
  const bool with_truth = truth_out.has_value();
  produce_parallel_consume_in_order(
      options.threads, blocks,
      [&](uint64_t block, BlockOutput& output) {
        const auto [first, last] = block_range(block);
        output.totals = simulator.generate(first, last, first_basket[block], output.lines, with_truth ? &output.truth : nullptr);
      },
      [&](const BlockOutput& output) {
        lines_out.write(output.lines);
        if (with_truth) truth_out->write(output.truth);
        summary.lines += output.totals.lines;
        summary.baskets += output.totals.baskets;
        summary.customers_with_purchases += output.totals.customers_with_purchases;
      });
  if (summary.baskets != first_basket[blocks] - 1) throw_internal("generate: basket count differs between passes");
  if (truth_out) truth_out->commit();
  lines_out.commit();
  return summary;
}

}  // namespace cltv::generate
