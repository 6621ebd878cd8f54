// RunLog: step lines, progress bars or periodic progress lines, JSON lines.
#include "cltv/pipeline/run_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "cltv/time.h"

namespace cltv::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string amount_text(int64_t value, std::string_view unit) {
  if (unit == "bytes") return fmt::format("{:.1f} MB", static_cast<double>(value) / 1e6);
  return fmt::format("{}", value);
}

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{}.{:03d}Z", format_utc(now, "%Y-%m-%dT%H:%M:%S"), ms);
}

// Counts are written for people ("28,365,011"); JSON lines carry them as numbers.
nlohmann::ordered_json json_value(const std::string& text) {
  std::string digits;
  bool numeric = !text.empty() && text.size() < 30;
  for (size_t i = 0; i < text.size() && numeric; ++i) {
    const char c = text[i];
    if (c == ',') continue;
    numeric = std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i > 0) || (c == '-' && i == 0);
    digits.push_back(c);
  }
  if (!numeric || digits == "-" || std::count(digits.begin(), digits.end(), '.') > 1) return text;
  if (digits.find('.') != std::string::npos) return std::stod(digits);
  return std::stoll(digits);
}

}  // namespace

RunLog::RunLog(Mode mode, int total_steps, std::FILE* out, std::FILE* result_out)
    : mode_(mode), total_steps_(total_steps), out_(out), result_out_(result_out), terminal_(isatty(fileno(out)) != 0),
      run_start_(Clock::now()), step_start_(run_start_), last_progress_(run_start_) {}

double RunLog::step_seconds() const { return seconds_between(step_start_, Clock::now()); }
double RunLog::total_seconds() const { return seconds_between(run_start_, Clock::now()); }

void RunLog::emit_json(std::string_view event, const Counts& fields) {
  nlohmann::ordered_json line;
  line["time"] = utc_timestamp();
  line["event"] = event;
  for (const auto& [key, value] : fields) line[key] = json_value(value);
  fmt::print(out_, "{}\n", line.dump());
  std::fflush(out_);
}

void RunLog::clear_bar() {
  if (!bar_shown_) return;
  fmt::print(out_, "\r\033[K");
  bar_shown_ = false;
}

void RunLog::begin_step(std::string_view name) {
  const std::lock_guard lock(mutex_);
  step_ = name;
  ++step_index_;
  step_start_ = Clock::now();
  last_progress_ = step_start_;
  if (mode_ == Mode::json) {
    emit_json("step_started", {{"step", step_}, {"index", std::to_string(step_index_)}, {"of", std::to_string(total_steps_)}});
  } else if (mode_ == Mode::text && terminal_) {
    fmt::print(out_, "[{}/{}] {} ...", step_index_, total_steps_, step_);
    bar_shown_ = true;
    std::fflush(out_);
  }
}

void RunLog::end_step(const Counts& counts) {
  const std::lock_guard lock(mutex_);
  const double seconds = seconds_between(step_start_, Clock::now());
  if (mode_ == Mode::json) {
    Counts fields{{"step", step_}, {"seconds", fmt::format("{:.3f}", seconds)}};
    fields.insert(fields.end(), counts.begin(), counts.end());
    emit_json("step_done", fields);
    return;
  }
  if (mode_ == Mode::quiet) return;
  clear_bar();
  std::string line = fmt::format("[{}/{}] {:<9} {:>7.2f} s", step_index_, total_steps_, step_, seconds);
  for (size_t i = 0; i < counts.size(); ++i) {
    line += fmt::format("{} {}: {}", i == 0 ? " " : ",", counts[i].first, counts[i].second);
  }
  fmt::print(out_, "{}\n", line);
  std::fflush(out_);
}

void RunLog::fail_step(std::string_view message) {
  const std::lock_guard lock(mutex_);
  const double seconds = seconds_between(step_start_, Clock::now());
  if (mode_ == Mode::json) {
    emit_json("step_failed", {{"step", step_}, {"seconds", fmt::format("{:.3f}", seconds)}, {"error", std::string(message)}});
    return;
  }
  clear_bar();
  // Errors show even with --quiet (the CLI prints the error itself as well; this line names the step).
  fmt::print(out_, "[{}/{}] {:<9} FAILED after {:.2f} s\n", step_index_, total_steps_, step_, seconds);
  std::fflush(out_);
}

void RunLog::note(std::string_view message) {
  const std::lock_guard lock(mutex_);
  if (mode_ == Mode::json) {
    emit_json("note", {{"step", step_}, {"message", std::string(message)}});
  } else if (mode_ == Mode::text) {
    clear_bar();
    fmt::print(out_, "      note: {}\n", message);
    std::fflush(out_);
  }
}

void RunLog::finish(std::string_view summary, const Counts& counts) {
  const std::lock_guard lock(mutex_);
  const double seconds = seconds_between(run_start_, Clock::now());
  if (mode_ == Mode::json) {
    Counts fields{{"seconds", fmt::format("{:.3f}", seconds)}};
    fields.insert(fields.end(), counts.begin(), counts.end());
    emit_json("run_done", fields);
    return;
  }
  if (mode_ == Mode::quiet) return;
  fmt::print(result_out_, "{} in {:.2f} s\n", summary, seconds);
  for (const auto& [key, value] : counts) fmt::print(result_out_, "  {:<12} {}\n", key + ":", value);
  std::fflush(result_out_);
}

void RunLog::update(std::string_view task, int64_t done, int64_t total, std::string_view unit) {
  if (mode_ == Mode::quiet) return;
  const std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  const bool finished = total > 0 && done >= total;
  // Redraw a terminal bar ten times a second; otherwise a line every few seconds.
  const double interval = mode_ == Mode::text && terminal_ ? 0.1 : mode_ == Mode::json ? 1.0 : 5.0;
  if (seconds_between(last_progress_, now) < interval && !(finished && terminal_)) return;
  last_progress_ = now;
  const std::string amount =
      total > 0 ? fmt::format("{}/{} {}", amount_text(done, unit), amount_text(total, unit), unit == "bytes" ? "" : unit)
                : fmt::format("{} {}", amount_text(done, unit), unit == "bytes" ? "" : unit);
  if (mode_ == Mode::json) {
    emit_json("progress", {{"step", step_}, {"task", std::string(task)}, {"done", std::to_string(done)},
                           {"total", std::to_string(total)}, {"unit", std::string(unit)}});
    return;
  }
  const double seconds = seconds_between(step_start_, now);
  if (!terminal_) {
    fmt::print(out_, "      {}: {}: {} ({:.0f} s)\n", step_, task, amount, seconds);
    std::fflush(out_);
    return;
  }
  constexpr int width = 24;
  const double fraction = total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0) : 0.0;
  const int filled = static_cast<int>(fraction * width);
  fmt::print(out_, "\r\033[K[{}/{}] {} {} [{}{}] {} {:.1f} s", step_index_, total_steps_, step_, task,
             std::string(static_cast<size_t>(filled), '#'), std::string(static_cast<size_t>(width - filled), ' '),
             amount, seconds);
  bar_shown_ = true;
  std::fflush(out_);
}

}  // namespace cltv::pipeline
