// Transaction reader: loads bytes (mmap or gunzip), resolves the header against the schema, parses
// record chunks on several threads into per-thread columns and dictionaries, then merges them in
// file order so ids are dense and in order of first appearance, exactly as a sequential read.
#include "cltv/io/reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/progress.h"
#include "cltv/threads.h"
#include "cltv/time.h"
#include "record_parser.h"
#include "record_scanner.h"
#include "string_index.h"

namespace cltv::io {

BadRowOption parse_bad_row_option(std::string_view text) {
  if (text == "fail") return {BadRowPolicy::fail, {}};
  if (text == "skip") return {BadRowPolicy::skip, {}};
  constexpr std::string_view prefix = "quarantine=";
  if (text.starts_with(prefix) && text.size() > prefix.size()) {
    return {BadRowPolicy::quarantine, std::string(text.substr(prefix.size()))};
  }
  throw_config(fmt::format("--on-bad-row: '{}' is not a policy", text),
               "expected fail, skip or quarantine=PATH");
}

void ReadReport::add(const ReadReport& part, const std::string& file) {
  blank_lines += part.blank_lines;
  rows_read += part.rows_read;
  accepted += part.accepted;
  rejected += part.rejected;
  dropped += part.dropped;
  for (const auto& [reason, n] : part.rejected_by_reason) rejected_by_reason[reason] += n;
  for (const auto& [reason, n] : part.dropped_by_reason) dropped_by_reason[reason] += n;
  for (const RowProblem& problem : part.problems) {
    if (problems.size() >= max_listed_problems) break;
    problems.push_back(problem);
    problems.back().file = file;
  }
}

std::string ReadReport::format_problem(const RowProblem& p) const {
  std::string got = p.got.size() > 60 ? p.got.substr(0, 57) + "..." : p.got;
  const std::string& file = p.file.empty() ? source : p.file;
  if (p.column.empty()) return fmt::format("{}:{}: {} (got \"{}\")", file, p.line, p.reason, got);
  return fmt::format("{}:{}: column '{}': {} (got \"{}\")", file, p.line, p.column, p.reason, got);
}

namespace {

using detail::FieldPositions;
using detail::FileHeader;

// ---------------------------------------------------------------------------------------------
// Loading bytes.

// The bytes of the file at PATH; NAME stands for it in messages.
class InputBytes {
 public:
  InputBytes(const std::string& path, const std::string& name) {
    require_regular_file(path, name);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // never blocks on a FIFO swapped in
    if (fd_ < 0) {
      throw_io(fmt::format("cannot open '{}': {}", name, std::strerror(errno)),
               "check the path and that the file is readable");
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      throw_input(fmt::format("'{}' is not a regular file", name), "give the path of a transaction file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) {
      throw_input(fmt::format("'{}' is empty", name), "expected a transaction file with a header and data rows");
    }
    void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (mapped == MAP_FAILED) throw_io(fmt::format("cannot map '{}': {}", name, std::strerror(errno)));
    map_ = static_cast<const char*>(mapped);
    ::madvise(mapped, size_, MADV_SEQUENTIAL | MADV_WILLNEED);
    if (size_ >= 2 && static_cast<unsigned char>(map_[0]) == 0x1f &&
        static_cast<unsigned char>(map_[1]) == 0x8b) {
      gunzip(name);
      release_map();
    }
  }
  ~InputBytes() {
    release_map();
    if (fd_ >= 0) ::close(fd_);
  }
  InputBytes(const InputBytes&) = delete;
  InputBytes& operator=(const InputBytes&) = delete;

  std::string_view view() const {
    return map_ != nullptr ? std::string_view(map_, size_) : std::string_view(inflated_);
  }

 private:
  void release_map() {
    if (map_ != nullptr) ::munmap(const_cast<char*>(map_), size_);
    map_ = nullptr;
  }

  void gunzip(const std::string& name) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) throw_internal("zlib inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(map_));
    zs.avail_in = static_cast<uInt>(std::min<size_t>(size_, UINT32_MAX));
    size_t consumed_total = 0;
    inflated_.resize(std::max<size_t>(size_ * 4, 1 << 16));
    size_t produced = 0;
    int rc = Z_OK;
    while (true) {
      if (produced == inflated_.size()) inflated_.resize(inflated_.size() * 2);
      zs.next_out = reinterpret_cast<Bytef*>(inflated_.data() + produced);
      zs.avail_out = static_cast<uInt>(std::min<size_t>(inflated_.size() - produced, UINT32_MAX));
      const uInt out_before = zs.avail_out;
      const uInt in_before = zs.avail_in;
      rc = inflate(&zs, Z_NO_FLUSH);
      produced += out_before - zs.avail_out;
      consumed_total += in_before - zs.avail_in;
      if (rc == Z_STREAM_END) {
        // Concatenated gzip members continue the same stream.
        if (consumed_total < size_) {
          inflateReset(&zs);
          zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(map_) + consumed_total);
          zs.avail_in = static_cast<uInt>(std::min<size_t>(size_ - consumed_total, UINT32_MAX));
          continue;
        }
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) break;
      if (zs.avail_in == 0 && consumed_total < size_) {
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(map_) + consumed_total);
        zs.avail_in = static_cast<uInt>(std::min<size_t>(size_ - consumed_total, UINT32_MAX));
      } else if (zs.avail_in == 0 || (rc == Z_BUF_ERROR && zs.avail_out != 0)) {
        rc = Z_DATA_ERROR;
        break;
      }
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
      throw_input(fmt::format("'{}' is a damaged or truncated gzip file", name),
                  "check the download, for example with gzip -t");
    }
    inflated_.resize(produced);
    inflated_.shrink_to_fit();
    if (inflated_.empty()) throw_input(fmt::format("'{}' is empty once decompressed", name));
  }

  int fd_ = -1;
  size_t size_ = 0;
  const char* map_ = nullptr;
  std::string inflated_;
};

// ---------------------------------------------------------------------------------------------
// Field parsing.

// Plain decimals ("-12", "2.55", or "2,55" with POINT ',') with at most 15 significant digits: the
// integer mantissa and the power of ten are both exact doubles, so one division gives the correctly
// rounded value (Clinger's fast path). Returns false for anything else.
template <char Point>
bool parse_simple_decimal(std::string_view text, double& value) {
  static constexpr double powers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) ++i;
  uint64_t mantissa = 0;
  int digits = 0, decimals = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      ++digits;
      decimals += point;
    } else if (c == Point && !point) {
      point = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  const double magnitude = static_cast<double>(mantissa) / powers[decimals];
  value = negative ? -magnitude : magnitude;
  return true;
}

bool from_chars_whole(std::string_view text, double& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// A number with POINT as its decimal separator (exponents and long mantissas included).
template <char Point>
bool parse_double(std::string_view text, double& value) {
  text = detail::trim_spaces(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  if (parse_simple_decimal<Point>(text, value)) return true;
  if constexpr (Point == '.') {
    return from_chars_whole(text, value);
  } else {
    if (text.find('.') != std::string_view::npos) return false;  // "1.5" is not a decimal-comma number
    std::string copy(text);
    std::replace(copy.begin(), copy.end(), Point, '.');
    return from_chars_whole(copy, value);
  }
}

bool parse_double(std::string_view text, double& value, char point) {
  return point == ',' ? parse_double<','>(text, value) : parse_double<'.'>(text, value);
}

bool parse_uint32(std::string_view text, uint32_t& value) {
  text = detail::trim_spaces(text);
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

bool looks_numeric(std::string_view text, char point) {
  double ignored = 0;
  return parse_double(text, ignored, point);
}

// Occurrences of a rare BYTE in [P, END), with memchr's vector loop doing the scanning.
size_t count_rare_byte(const char* p, const char* end, char byte) {
  size_t count = 0;
  while ((p = static_cast<const char*>(std::memchr(p, byte, static_cast<size_t>(end - p)))) != nullptr) {
    ++count;
    ++p;
  }
  return count;
}

// Occurrences of a frequent BYTE (line breaks) in [P, END): sixteen bytes per compare and popcount.
size_t count_frequent_byte(const char* p, const char* end, char byte) {
  size_t count = 0;
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(byte);
  for (; p + 16 <= end; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    count += static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)))));
  }
#endif
  for (; p < end; ++p) count += *p == byte;
  return count;
}

// Parses with the formats in order, starting with the one that matched last time.
class FormatList {
 public:
  explicit FormatList(const std::vector<std::string>& formats) : formats_(formats) {}
  bool parse(std::string_view text, int64_t& seconds) {
    text = detail::trim_spaces(text);
    // Lines of one basket repeat the same date-time text.
    if (text == last_text_) {
      seconds = last_seconds_;
      return true;
    }
    if (!parse_uncached(text, seconds)) return false;
    last_text_.assign(text);
    last_seconds_ = seconds;
    return true;
  }

 private:
  bool parse_uncached(std::string_view text, int64_t& seconds) {
    if (parse_with_format(text, formats_[last_], seconds)) return true;
    for (size_t i = 0; i < formats_.size(); ++i) {
      if (i != last_ && parse_with_format(text, formats_[i], seconds)) {
        last_ = i;
        return true;
      }
    }
    return false;
  }

  const std::vector<std::string>& formats_;
  size_t last_ = 0;
  std::string last_text_;
  int64_t last_seconds_ = 0;
};

// Interned strings of one thread: ids in order of first appearance within the chunk. Views point
// into the input bytes, or into `owned_` for text that had to be unescaped.
class LocalDict {
 public:
  LocalDict(const char* input_begin, const char* input_end) : begin_(input_begin), end_(input_end) {}

  uint32_t intern(std::string_view text) {
    if (last_id_ != UINT32_MAX && text.size() == last_text_.size() &&
        detail::same_bytes(text.data(), last_text_.data(), text.size())) {
      return last_id_;
    }
    if (text.data() < begin_ || text.data() + text.size() > end_) {
      // Text outside the input (unescaped quotes): keep a stable copy before indexing it.
      owned_.emplace_back(text);
      text = owned_.back();
    }
    bool inserted = false;
    const uint64_t hash = detail::hash_text(text);
    last_id_ = index_.find_or_insert(text, hash, static_cast<uint32_t>(order_.size()), inserted);
    if (inserted) {
      order_.push_back(text);
      hashes_.push_back(hash);
    } else if (!owned_.empty() && text.data() == owned_.back().data()) {
      owned_.pop_back();
    }
    last_text_ = order_[last_id_];
    return last_id_;
  }
  const std::vector<std::string_view>& order() const { return order_; }
  const std::vector<uint64_t>& hashes() const { return hashes_; }  // hash_text of each, in order

 private:
  const char* begin_;
  const char* end_;
  detail::StringIndex index_;
  std::vector<std::string_view> order_;
  std::vector<uint64_t> hashes_;
  std::deque<std::string> owned_;
  std::string_view last_text_;
  uint32_t last_id_ = UINT32_MAX;
};

FieldPositions positions_for(const Schema& schema, const std::vector<std::string>& names) {
  FieldPositions p;
  p.field_count = names.size();
  auto find = [&](const std::string& column) {
    if (column.empty()) return -1;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == column) return static_cast<int>(i);
    }
    return -2;  // required but missing; checked by the caller
  };
  p.customer = find(schema.customer);
  p.basket = find(schema.basket);
  p.line_seq = find(schema.line_seq);
  p.unit = find(schema.unit);
  p.product = find(schema.product);
  p.date = find(schema.date);
  p.time = find(schema.time);
  p.datetime = find(schema.datetime);
  p.quantity = find(schema.quantity);
  p.amount = find(schema.amount);
  p.price = find(schema.price);
  return p;
}

// Per-thread result of parsing one chunk.
struct ChunkResult {
  size_t begin = 0, end = 0;  // byte range assigned
  size_t stopped_at = 0;      // where parsing actually stopped (== end when aligned)
  uint64_t newlines = 0;      // physical lines consumed
  uint64_t rows_read = 0, blank_lines = 0, accepted = 0, rejected = 0, dropped = 0;
  std::map<std::string, uint64_t> rejected_by_reason, dropped_by_reason;
  std::vector<RowProblem> problems;  // line numbers relative to the chunk's first line (0-based)
  std::vector<std::pair<size_t, size_t>> rejected_spans;  // byte ranges of rejected records

  // Accepted rows go straight into the table at [row_offset, row_offset + rows), with ids local to
  // this chunk until the merge remaps them. row_capacity bounds the rows (lines in the chunk).
  size_t row_offset = 0, rows = 0, row_capacity = 0;
  LocalDict customers, baskets, units, products;

  ChunkResult(const char* b, const char* e)
      : customers(b, e), baskets(b, e), units(b, e), products(b, e) {}
};

struct ParsePlan {
  const Schema* schema = nullptr;
  TransactionTable* table = nullptr;
  size_t threads = 1;
  std::string_view data;
  std::vector<FieldPositions> layouts;  // one per accepted field count
  bool keep_spans = false;
  std::atomic<uint64_t>* parsed_bytes = nullptr;  // across chunks, for progress reports
  ProgressSink* progress = nullptr;
};

// Records between two progress reports of one chunk parser.
constexpr uint64_t progress_every_records = 1 << 16;

class ChunkParser {
 public:
  ChunkParser(const ParsePlan& plan, ChunkResult& out)
      : plan_(plan),
        out_(out),
        dates_(plan.schema->date_formats),
        times_(plan.schema->time_formats) {
    scanner_.delimiter = plan.schema->delimiter;
    scanner_.whitespace = plan.schema->whitespace_delimited;
  }

  void run() {
    const std::string_view data = plan_.data;
    size_t pos = out_.begin;
    uint64_t line = 0;  // 0-based line of the current record within the chunk
    size_t reported = pos;
    while (pos < out_.end) {
      size_t record_end = 0, newlines = 0;
      bool quote_error = false;
      const size_t start = pos;
      pos = scanner_.next(data, pos, fields_, scratch_, record_end, newlines, quote_error);
      if (record_end == start && newlines <= 1 && (fields_.size() <= 1)) {
        ++out_.blank_lines;
      } else {
        ++out_.rows_read;
        parse_record(start, record_end, line, quote_error);
      }
      line += std::max<size_t>(newlines, 1);
      if (out_.rows_read % progress_every_records == 0 && plan_.parsed_bytes != nullptr) {
        const uint64_t done = plan_.parsed_bytes->fetch_add(pos - reported) + (pos - reported);
        reported = pos;
        report_progress(plan_.progress, "parse", static_cast<int64_t>(done), static_cast<int64_t>(data.size()),
                        "bytes");
      }
    }
    out_.stopped_at = pos;
    out_.newlines = line;
  }

 private:
  void reject(size_t start, size_t end, uint64_t line, std::string column, std::string reason,
              std::string_view got) {
    ++out_.rejected;
    ++out_.rejected_by_reason[reason];
    if (out_.problems.size() < ReadReport::max_listed_problems) {
      out_.problems.push_back({line, std::move(column), std::move(reason), std::string(got), {}});
    }
    if (plan_.keep_spans) out_.rejected_spans.emplace_back(start, end);
  }

  const FieldPositions* layout_for(size_t field_count) const {
    for (const auto& layout : plan_.layouts) {
      if (layout.field_count == field_count) return &layout;
    }
    return nullptr;
  }

  void parse_record(size_t start, size_t end, uint64_t line, bool quote_error) {
    const Schema& schema = *plan_.schema;
    const std::string_view raw = plan_.data.substr(start, end - start);
    if (quote_error) {
      reject(start, end, line, "", "unbalanced quotes", raw);
      return;
    }
    const FieldPositions* layout = layout_for(fields_.size());
    if (layout == nullptr) {
      std::vector<size_t> expected;
      for (const auto& l : plan_.layouts) expected.push_back(l.field_count);
      reject(start, end, line, "",
             fmt::format("wrong field count: {} fields, expected {}", fields_.size(), fmt::join(expected, " or ")),
             raw);
      return;
    }
    const auto& f = fields_;

    std::string_view customer = detail::trim_spaces(f[layout->customer]);
    if (schema.customer_strip_decimal_zero && customer.ends_with(".0")) customer.remove_suffix(2);
    if (customer.empty()) {
      ++out_.dropped;
      ++out_.dropped_by_reason["no customer id"];
      return;
    }

    int64_t timestamp = 0;
    if (layout->datetime >= 0) {
      if (!dates_.parse(f[layout->datetime], timestamp)) {
        reject(start, end, line, schema.datetime, "not a date-time in the schema's formats", f[layout->datetime]);
        return;
      }
    } else {
      if (!dates_.parse(f[layout->date], timestamp)) {
        reject(start, end, line, schema.date, "not a date in the schema's formats", f[layout->date]);
        return;
      }
      if (layout->time >= 0) {
        int64_t tod = 0;
        if (!times_.parse(f[layout->time], tod)) {
          reject(start, end, line, schema.time, "not a time of day in the schema's formats", f[layout->time]);
          return;
        }
        timestamp += tod;
      }
    }

    double quantity = 1.0;
    if (layout->quantity >= 0 && !parse_number(start, end, line, schema.quantity, f[layout->quantity], quantity)) {
      return;
    }
    double amount = 0.0;
    if (layout->amount >= 0) {
      if (!parse_number(start, end, line, schema.amount, f[layout->amount], amount)) return;
    } else {
      double price = 0.0;
      if (!parse_number(start, end, line, schema.price, f[layout->price], price)) return;
      amount = quantity * price;
      if (!std::isfinite(amount)) {
        reject(start, end, line, schema.price, "quantity x price is not a finite number", f[layout->price]);
        return;
      }
    }

    uint32_t seq = 0;
    if (layout->line_seq >= 0 && !parse_uint32(f[layout->line_seq], seq)) {
      reject(start, end, line, schema.line_seq, "not a non-negative integer", f[layout->line_seq]);
      return;
    }

    std::string_view basket;
    if (layout->basket >= 0) {
      basket = detail::trim_spaces(f[layout->basket]);
      if (basket.empty()) {
        reject(start, end, line, schema.basket, "missing value", f[layout->basket]);
        return;
      }
    }
    std::string_view unit = schema.default_unit;
    if (layout->unit >= 0) {
      unit = detail::trim_spaces(f[layout->unit]);
      if (unit.empty()) {
        reject(start, end, line, schema.unit, "missing value", f[layout->unit]);
        return;
      }
    }
    std::string_view product = "unknown";
    if (layout->product >= 0) {
      product = detail::trim_spaces(f[layout->product]);
      if (product.empty()) product = "unknown";
    }

    ++out_.accepted;
    if (out_.rows == out_.row_capacity) throw_internal("row bound of a parse chunk exceeded");
    TransactionTable& t = *plan_.table;
    const size_t row = out_.row_offset + out_.rows++;
    t.customer[row] = out_.customers.intern(customer);
    if (layout->basket >= 0) t.basket[row] = out_.baskets.intern(basket);
    // Local unit ids past the 16-bit range are caught when the merge counts the units.
    t.unit[row] = static_cast<uint16_t>(std::min<uint32_t>(out_.units.intern(unit), UINT16_MAX));
    t.product[row] = out_.products.intern(product);
    if (layout->line_seq >= 0) t.line_seq[row] = seq;
    t.time[row] = timestamp;
    t.amount[row] = amount;
    t.quantity[row] = quantity;
    t.row_hash[row] = detail::hash_text(plan_.data.substr(start, end - start));
  }

  bool parse_number(size_t start, size_t end, uint64_t line, const std::string& column,
                    std::string_view text, double& value) {
    if (detail::trim_spaces(text).empty()) {
      reject(start, end, line, column, "missing value", text);
      return false;
    }
    if (!parse_double(text, value, plan_.schema->decimal)) {
      reject(start, end, line, column, "not a number", text);
      return false;
    }
    if (!std::isfinite(value)) {
      reject(start, end, line, column, "not a finite number", text);
      return false;
    }
    return true;
  }

  const ParsePlan& plan_;
  ChunkResult& out_;
  detail::RecordScanner scanner_;
  std::vector<std::string_view> fields_;
  std::string scratch_;
  FormatList dates_;
  FormatList times_;
};

// ---------------------------------------------------------------------------------------------
// Planning: header, layouts, chunk boundaries.

FileHeader resolve_header(std::string_view data, size_t start, const Schema& schema, const std::string& source) {
  FileHeader header;
  header.data_start = start;
  detail::RecordScanner scanner;
  scanner.delimiter = schema.delimiter;
  scanner.whitespace = schema.whitespace_delimited;
  std::vector<std::string_view> fields;
  std::string scratch;
  size_t record_end = 0, newlines = 0;
  bool quote_error = false;

  // Skip leading blank lines.
  size_t pos = start;
  uint64_t lines = 0;
  while (true) {
    const size_t next = scanner.next(data, pos, fields, scratch, record_end, newlines, quote_error);
    if (record_end == pos && fields.size() <= 1 && next < data.size()) {
      lines += std::max<size_t>(newlines, 1);
      pos = next;
      continue;
    }
    if (record_end == pos && fields.size() <= 1) {
      throw_input(fmt::format("'{}' has no rows", source), "expected a header and data rows");
    }
    header.raw = std::string(data.substr(pos, record_end - pos));
    const bool wants_header =
        schema.header == HeaderMode::required ||
        (schema.header == HeaderMode::optional &&
         std::none_of(fields.begin(), fields.end(), [&](std::string_view f) { return looks_numeric(f, schema.decimal); }));
    if (!wants_header) {
      header.data_start = pos;
      header.lines_before = lines;
      break;
    }
    header.present = true;
    header.data_start = next;
    header.lines_before = lines + std::max<size_t>(newlines, 1);
    if (quote_error) throw_input(fmt::format("{}:{}: header has unbalanced quotes", source, lines + 1));
    if (schema.header == HeaderMode::required) {
      std::vector<std::string> names;
      for (std::string_view f : fields) names.emplace_back(detail::trim_spaces(f));
      std::vector<std::string> missing;
      for (const auto& column : schema.required_columns()) {
        if (std::find(names.begin(), names.end(), column) == names.end()) missing.push_back(column);
      }
      if (!missing.empty()) {
        throw_input(fmt::format("{}:{}: header lacks required column{} {} for schema '{}'", source, lines + 1,
                                missing.size() > 1 ? "s" : "", fmt::format("'{}'", fmt::join(missing, "', '")),
                                schema.name),
                    fmt::format("found columns: {}; pick the right --schema or write a schema file",
                                fmt::join(names, ", ")));
      }
      for (const auto& column : schema.required_columns()) {
        if (std::count(names.begin(), names.end(), column) > 1) {
          throw_input(fmt::format("{}:{}: header names column '{}' more than once; schema '{}' reads it", source,
                                  lines + 1, column, schema.name),
                      "rename or remove the extra column so the schema's column is unambiguous");
        }
      }
      header.layouts.push_back(positions_for(schema, names));
    }
    break;
  }
  if (schema.header != HeaderMode::required) {
    for (const auto& layout : schema.layouts) header.layouts.push_back(positions_for(schema, layout));
  }
  return header;
}

// Chunk starts in [BEGIN, END) aligned to record boundaries: quote parity of each preceding chunk
// tells whether a nominal boundary falls inside a quoted field.
std::vector<size_t> chunk_starts(std::string_view data, size_t begin, size_t end, unsigned threads, bool quotes) {
  constexpr size_t min_chunk = 1 << 20;
  const size_t bytes = end - begin;
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(threads, bytes / min_chunk));
  std::vector<size_t> nominal(chunks + 1);
  for (size_t i = 0; i <= chunks; ++i) nominal[i] = begin + bytes * i / chunks;

  std::vector<uint64_t> quote_counts(chunks, 0);
  if (quotes) {
    std::vector<std::thread> workers;
    // The last chunk's count is never needed.
    for (size_t i = 0; i + 1 < chunks; ++i) {
      workers.emplace_back([&, i] {
        quote_counts[i] = count_rare_byte(data.data() + nominal[i], data.data() + nominal[i + 1], '"');
      });
    }
    for (auto& w : workers) w.join();
  }
  std::vector<size_t> starts{begin};
  uint64_t parity = 0;
  for (size_t i = 1; i < chunks; ++i) {
    parity += quote_counts[i - 1];
    bool in_quotes = parity % 2 == 1;
    size_t p = nominal[i];
    while (p < end) {
      const char c = data[p];
      if (c == '"') in_quotes = !in_quotes;
      if (c == '\n' && !in_quotes) break;
      ++p;
    }
    const size_t start = std::min(p + 1, end);
    if (start > starts.back() && start < end) starts.push_back(start);
  }
  starts.push_back(end);
  return starts;
}

// Runs WORK(i) for i in [0, N) on one thread each, the last on the calling thread.
template <typename Work>
void run_parallel(size_t n, Work work) {
  std::vector<std::thread> workers;
  for (size_t i = 0; i + 1 < n; ++i) workers.emplace_back(work, i);
  if (n > 0) work(n - 1);
  for (auto& w : workers) w.join();
}

// Runs TASKS on up to THREADS threads, each taking the next task until none is left.
void run_tasks(size_t threads, const std::vector<std::function<void()>>& tasks) {
  std::atomic<size_t> next{0};
  run_parallel(std::min(threads, tasks.size()), [&](size_t) {
    for (size_t t = next++; t < tasks.size(); t = next++) tasks[t]();
  });
}

// Sizes the table's columns for ROWS rows (an upper bound; trimmed after the merge).
void allocate_columns(TransactionTable& table, size_t rows, const Schema& schema) {
  table.customer.resize(rows);
  table.basket.resize(rows);
  table.unit.resize(rows);
  table.product.resize(rows);
  table.line_seq.resize(schema.line_seq.empty() ? 0 : rows);
  table.time.resize(rows);
  table.amount.resize(rows);
  table.quantity.resize(rows);
  table.row_hash.resize(rows);
}

std::vector<ChunkResult> parse_chunks(const ParsePlan& plan, const std::vector<size_t>& starts) {
  const char* b = plan.data.data();
  const char* e = b + plan.data.size();
  std::vector<ChunkResult> results;
  results.reserve(starts.size() - 1);
  for (size_t i = 0; i + 1 < starts.size(); ++i) {
    results.emplace_back(b, e);
    results.back().begin = starts[i];
    results.back().end = starts[i + 1];
  }
  // A chunk holds at most one record per line break, plus one unterminated last line.
  run_parallel(results.size(), [&](size_t i) {
    results[i].row_capacity = count_frequent_byte(b + results[i].begin, b + results[i].end, '\n') + 1;
  });
  size_t total = 0;
  for (auto& r : results) {
    r.row_offset = total;
    total += r.row_capacity;
  }
  allocate_columns(*plan.table, total, *plan.schema);

  std::vector<std::thread> workers;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (size_t i = 1; i < results.size(); ++i) {
    workers.emplace_back([&, i] {
      try {
        ChunkParser(plan, results[i]).run();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        failure = std::current_exception();
      }
    });
  }
  ChunkParser(plan, results[0]).run();
  for (auto& w : workers) w.join();
  if (failure) std::rethrow_exception(failure);
  return results;
}

// ---------------------------------------------------------------------------------------------
// Merging per-thread results into one table.

// Merges the chunks' dictionaries of one kind into DICT, in chunk order (so global ids follow the
// order of first appearance in the file); returns each chunk's local-to-global id map.
std::vector<std::vector<uint32_t>> merge_dicts(StringDict& dict, const std::vector<const LocalDict*>& locals) {
  size_t keys = 0, bytes = 0;
  for (const LocalDict* local : locals) {
    keys += local->order().size();
    for (std::string_view text : local->order()) bytes += text.size();
  }
  detail::StringIndex index;
  index.reserve(keys);
  dict.reserve(keys, bytes);
  std::vector<std::vector<uint32_t>> maps;
  for (const LocalDict* local : locals) {
    std::vector<uint32_t>& remap = maps.emplace_back(local->order().size());
    for (size_t i = 0; i < remap.size(); ++i) {
      const std::string_view text = local->order()[i];
      bool inserted = false;
      remap[i] = index.find_or_insert(text, local->hashes()[i], dict.size(), inserted);
      if (inserted) dict.append(text);
    }
  }
  return maps;
}

// Merges CHUNKS into PLAN's table and returns their report; LINE_BASE lines precede the first.
ReadReport merge_chunks(std::vector<ChunkResult>& chunks, const ParsePlan& plan, uint64_t line_base,
                        const std::string& source) {
  const Schema& schema = *plan.schema;
  ReadReport report;
  report.source = source;

  for (auto& c : chunks) {
    report.rows_read += c.rows_read;
    report.blank_lines += c.blank_lines;
    report.accepted += c.accepted;
    report.rejected += c.rejected;
    report.dropped += c.dropped;
    for (const auto& [k, v] : c.rejected_by_reason) report.rejected_by_reason[k] += v;
    for (const auto& [k, v] : c.dropped_by_reason) report.dropped_by_reason[k] += v;
    for (auto& p : c.problems) {
      if (report.problems.size() < ReadReport::max_listed_problems) {
        p.line += line_base + 1;
        report.problems.push_back(std::move(p));
      }
    }
    line_base += c.newlines;
  }

  TransactionTable& table = *plan.table;
  // The four kinds of dictionary are independent: merge them in parallel.
  std::vector<const LocalDict*> customer_dicts, basket_dicts, unit_dicts, product_dicts;
  for (const auto& c : chunks) {
    customer_dicts.push_back(&c.customers);
    basket_dicts.push_back(&c.baskets);
    unit_dicts.push_back(&c.units);
    product_dicts.push_back(&c.products);
  }
  std::vector<std::vector<uint32_t>> customer_map, basket_map, unit_map, product_map;
  run_tasks(plan.threads, {[&] { customer_map = merge_dicts(table.customer_ids, customer_dicts); },
                           [&] { basket_map = merge_dicts(table.basket_ids, basket_dicts); },
                           [&] { unit_map = merge_dicts(table.units, unit_dicts); },
                           [&] { product_map = merge_dicts(table.products, product_dicts); }});
  if (table.units.size() > UINT16_MAX) {
    throw_input(fmt::format("'{}' has {} distinct units; at most {} are supported", source, table.units.size(),
                            UINT16_MAX),
                "check that the schema's unit column is a business unit, not an id");
  }

  // One pass per column: local ids become global ids while each chunk's rows move down to close
  // the gap its unused row bound left. Chunks go in order and rows only move down, so each column
  // is rewritten in place safely; columns are independent, so they are spread over the threads.
  std::vector<size_t> destination(chunks.size(), 0);
  for (size_t i = 1; i < chunks.size(); ++i) destination[i] = destination[i - 1] + chunks[i - 1].rows;
  const size_t rows = chunks.empty() ? 0 : destination.back() + chunks.back().rows;
  auto move_rows = [&](auto& column) {
    if (column.empty()) return;
    for (size_t i = 0; i < chunks.size(); ++i) {
      const size_t from = chunks[i].row_offset, to = destination[i], n = chunks[i].rows;
      if (from != to) std::copy(column.begin() + from, column.begin() + from + n, column.begin() + to);
    }
  };
  auto move_and_remap_ids = [&](auto& column, const std::vector<std::vector<uint32_t>>& maps) {
    using Id = std::decay_t<decltype(column[0])>;
    for (size_t i = 0; i < chunks.size(); ++i) {
      const size_t from = chunks[i].row_offset, to = destination[i], n = chunks[i].rows;
      const std::vector<uint32_t>& map = maps[i];
      for (size_t r = 0; r < n; ++r) column[to + r] = static_cast<Id>(map[column[from + r]]);
    }
  };
  const bool has_basket = !schema.basket.empty();
  const std::vector<std::function<void()>> tasks = {
      [&] { move_and_remap_ids(table.customer, customer_map); },
      [&] { has_basket ? move_and_remap_ids(table.basket, basket_map) : move_rows(table.basket); },
      [&] { move_and_remap_ids(table.unit, unit_map); },
      [&] { move_and_remap_ids(table.product, product_map); },
      [&] { move_rows(table.line_seq); },
      [&] { move_rows(table.time); },
      [&] { move_rows(table.amount); },
      [&] { move_rows(table.quantity); },
      [&] { move_rows(table.row_hash); }};
  run_tasks(plan.threads, tasks);
  allocate_columns(table, rows, schema);

  if (schema.basket.empty()) {
    // No basket column: each distinct (customer, time) is one basket.
    std::map<std::pair<uint32_t, int64_t>, uint32_t> index;
    for (size_t r = 0; r < table.rows(); ++r) {
      auto [it, inserted] = index.emplace(std::pair(table.customer[r], table.time[r]), table.basket_ids.size());
      if (inserted) {
        table.basket_ids.append(fmt::format("{}@{}", table.customer_ids[table.customer[r]],
                                            format_datetime(table.time[r])));
      }
      table.basket[r] = it->second;
    }
  }
  return report;
}

void write_quarantine(const std::string& path, std::string_view data, const FileHeader& header,
                      const std::vector<std::pair<size_t, size_t>>& spans) {
  AtomicFile out(path);
  if (header.present) {
    out.write(header.raw);
    out.write("\n");
  }
  for (const auto& [b, e] : spans) {
    out.write(data.substr(b, e - b));
    out.write("\n");
  }
  out.commit();
}

}  // namespace

namespace detail {

FileHeader resolve_file_header(std::string_view data, const Schema& schema, const std::string& source) {
  const size_t probe = std::min<size_t>(data.size(), 1 << 16);
  if (const void* nul = std::memchr(data.data(), '\0', probe)) {
    throw_input(fmt::format("'{}' looks like a binary file (NUL byte at offset {})", source,
                            static_cast<const char*>(nul) - data.data()),
                "expected a text transaction file, optionally gzip-compressed");
  }
  return resolve_header(data, data.starts_with("\xEF\xBB\xBF") ? 3 : 0, schema, source);
}

ParsedRecords parse_records(std::string_view data, size_t begin, size_t end, uint64_t lines_before,
                            const FileHeader& header, const Schema& schema, const std::string& source,
                            const ReadOptions& options) {
  ParsedRecords parsed;
  ParsePlan plan;
  plan.schema = &schema;
  plan.table = &parsed.result.table;
  plan.data = data;
  plan.layouts = header.layouts;
  plan.keep_spans = options.on_bad_row.policy == BadRowPolicy::quarantine;
  std::atomic<uint64_t> parsed_bytes{0};
  plan.parsed_bytes = &parsed_bytes;
  plan.progress = options.progress;
  plan.threads = resolve_threads(options.threads);

  const auto starts = chunk_starts(data, begin, end, static_cast<unsigned>(plan.threads), !schema.whitespace_delimited);
  std::vector<ChunkResult> chunks = parse_chunks(plan, starts);
  const bool aligned = std::all_of(chunks.begin(), chunks.end(), [](const ChunkResult& c) { return c.stopped_at == c.end; });
  if (!aligned) {
    // Malformed quoting made a chunk boundary fall inside a record (or a record runs past END):
    // parse sequentially instead.
    parsed_bytes = 0;
    chunks = parse_chunks(plan, {begin, end});
  }
  parsed.result.report = merge_chunks(chunks, plan, lines_before, source);
  parsed.result.report.returns = schema.returns;
  parsed.end = chunks.back().stopped_at;
  for (const auto& c : chunks) {
    parsed.lines += c.newlines;
    parsed.rejected_spans.insert(parsed.rejected_spans.end(), c.rejected_spans.begin(), c.rejected_spans.end());
  }
  return parsed;
}

std::string malformed_rows_message(const ReadReport& report, const std::string& source, std::string_view of) {
  std::string message = fmt::format("'{}': {} malformed row{} (of {})", source, report.rejected,
                                    report.rejected == 1 ? "" : "s", of);
  for (const auto& p : report.problems) message += "\n  " + report.format_problem(p);
  if (report.rejected > report.problems.size()) {
    message += fmt::format("\n  ... and {} more", report.rejected - report.problems.size());
  }
  return message;
}

}  // namespace detail

ReadResult parse_transactions(std::string_view data, const std::string& source, const Schema& schema,
                              const ReadOptions& options) {
  if (data.empty()) throw_input(fmt::format("'{}' is empty", source), "expected a transaction file with data rows");
  const FileHeader header = detail::resolve_file_header(data, schema, source);
  if (header.data_start >= data.size()) {
    throw_input(fmt::format("'{}' has a header but no data rows", source), "expected at least one transaction row");
  }
  detail::ParsedRecords parsed =
      detail::parse_records(data, header.data_start, data.size(), header.lines_before, header, schema, source, options);
  ReadResult result = std::move(parsed.result);
  ReadReport& report = result.report;
  report.bytes = data.size();
  report.header_line = header.present;
  if (report.rows_read == 0) {
    throw_input(fmt::format("'{}' has a header but no data rows", source), "expected at least one transaction row");
  }
  if (options.on_bad_row.policy == BadRowPolicy::quarantine) {
    write_quarantine(options.on_bad_row.quarantine_path, data, header, parsed.rejected_spans);
  }
  if (report.rejected > 0 && options.on_bad_row.policy == BadRowPolicy::fail) {
    throw_input(detail::malformed_rows_message(report, source, std::to_string(report.rows_read)),
                detail::kMalformedRowsHint);
  }
  return result;
}

ReadResult read_transactions(const std::string& path, const Schema& schema, const ReadOptions& options) {
  const std::string& name = options.source_name.empty() ? path : options.source_name;
  const InputBytes bytes(path, name);
  return parse_transactions(bytes.view(), name, schema, options);
}

}  // namespace cltv::io
