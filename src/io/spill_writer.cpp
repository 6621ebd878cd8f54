// SpillWriter: rows routed to per-partition buffers on a few threads, each buffer encoded as one
// block of zstd-compressed columns and appended to its partition's file when the buffers are full.
#include <fcntl.h>
#include <fmt/format.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <thread>

#include "cltv/error.h"
#include "cltv/interrupt.h"
#include "cltv/io/atomic_file.h"
#include "spill_format.h"

namespace cltv::io {
namespace {

namespace fs = std::filesystem;
using namespace spill;

// Calls BODY(worker, i) for every i in [0, COUNT) on up to THREADS threads; rethrows the first
// exception once all have stopped.
template <typename Body>
void for_each_index(unsigned threads, size_t count, Body&& body) {
  const size_t workers = std::min<size_t>(std::max(1u, threads), count);
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(workers);
  auto work = [&](size_t w) {
    try {
      for (size_t i = next++; i < count; i = next++) body(w, i);
    } catch (...) {
      errors[w] = std::current_exception();
      next = count;
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, w);
  if (workers > 0) work(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// An input table's ids mapped to one partition buffer's ids; reset after each use.
struct IdMap {
  std::vector<uint32_t> local;    // input id -> buffer id, or `none`
  std::vector<uint32_t> touched;  // input ids set since the last reset

  uint32_t map(uint32_t id, const StringDict& from, InternedDict& to) {
    uint32_t& slot = local[id];
    if (slot == none) {
      slot = to.intern(from[id]);
      touched.push_back(id);
    }
    return slot;
  }
  void reset() {
    for (const uint32_t id : touched) local[id] = none;
    touched.clear();
  }
};

struct RouteScratch {
  IdMap customer, basket, unit, product;
};

// The rows of one partition waiting to be written, with the block's own dictionaries.
struct PartitionBuffer {
  Column<uint64_t> row;
  Column<uint32_t> customer, basket, unit, product, line_seq;
  Column<int64_t> time;
  Column<double> amount, quantity;
  Column<uint64_t> row_hash;
  InternedDict customer_ids, basket_ids, units, products;

  static constexpr size_t row_bytes = 8 + 4 * 5 + 8 * 4;  // every column above

  size_t rows() const { return row.size(); }
  size_t memory_bytes() const {
    return rows() * row_bytes + customer_ids.memory_bytes() + basket_ids.memory_bytes() + units.memory_bytes() +
           products.memory_bytes();
  }
  void grow(size_t n, bool with_line_seq);
  // Replaces the input ids of rows FROM onwards (scattered from T) by the block's own.
  void intern_from(size_t from, const TransactionTable& t, RouteScratch& s);
  void clear();
};

void PartitionBuffer::grow(size_t n, bool with_line_seq) {
  const size_t size = rows() + n;
  for (auto* c : {&customer, &basket, &unit, &product}) c->resize(size);
  row.resize(size);
  time.resize(size);
  amount.resize(size);
  quantity.resize(size);
  row_hash.resize(size);
  if (with_line_seq) line_seq.resize(size);
}

void PartitionBuffer::intern_from(size_t from, const TransactionTable& t, RouteScratch& s) {
  for (size_t i = from; i < rows(); ++i) {
    customer[i] = s.customer.map(customer[i], t.customer_ids, customer_ids);
    basket[i] = s.basket.map(basket[i], t.basket_ids, basket_ids);
    unit[i] = s.unit.map(unit[i], t.units, units);
    product[i] = s.product.map(product[i], t.products, products);
  }
  for (auto* m : {&s.customer, &s.basket, &s.unit, &s.product}) m->reset();
}

void PartitionBuffer::clear() {
  for (auto* c : {&customer, &basket, &unit, &product, &line_seq}) c->clear();
  row.clear();
  time.clear();
  amount.clear();
  quantity.clear();
  row_hash.clear();
  customer_ids = {};
  basket_ids = {};
  units = {};
  products = {};
}

// Writes VALUE(k) for each row k of a slice to COLUMN of partition ROW_PART[k]'s buffer, from
// row AT[p] on (the rows already there), keeping the slice's order.
template <typename T, typename Value>
void scatter(std::vector<PartitionBuffer>& buffers, Column<T> PartitionBuffer::*column,
             const std::vector<uint32_t>& row_part, const std::vector<size_t>& at, Value value) {
  std::vector<T*> out(buffers.size());
  for (size_t p = 0; p < buffers.size(); ++p) out[p] = (buffers[p].*column).data() + at[p];
  for (size_t k = 0; k < row_part.size(); ++k) *out[row_part[k]]++ = static_cast<T>(value(k));
}

// Values as differences from the previous one (the first from 0), wrapping.
template <typename T>
const std::vector<uint64_t>& deltas(const Column<T>& values, std::vector<uint64_t>& out) {
  out.resize(values.size());
  uint64_t previous = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    out[i] = static_cast<uint64_t>(values[i]) - previous;
    previous = static_cast<uint64_t>(values[i]);
  }
  return out;
}

void put_strings(const StringDict& dict, std::string& raw) {
  std::vector<uint32_t> lengths(dict.size());
  for (uint32_t id = 0; id < dict.size(); ++id) lengths[id] = static_cast<uint32_t>(dict[id].size());
  const uint32_t count = dict.size();
  raw.append(reinterpret_cast<const char*>(&count), sizeof(count));
  shuffle(lengths.data(), lengths.size(), raw);
  for (uint32_t id = 0; id < dict.size(); ++id) raw.append(dict[id]);
}

// Encodes partition buffers as blocks; one per thread, its buffers reused.
class BlockEncoder {
 public:
  BlockEncoder() : ctx_(ZSTD_createCCtx(), ZSTD_freeCCtx) {
    if (!ctx_) throw_internal("ZSTD_createCCtx failed");
  }
  // The block of B (its header, then its sections).
  std::string_view encode(const PartitionBuffer& b, int level);

 private:
  void raw_section(const PartitionBuffer& b, Section s);
  void compress(Section s, int level);

  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx_;
  std::vector<uint64_t> deltas_;
  std::string raw_;
  std::string block_;
  BlockHeader header_{};
};

void BlockEncoder::raw_section(const PartitionBuffer& b, Section s) {
  raw_.clear();
  const size_t n = b.rows();
  switch (s) {
    case s_row: return shuffle(deltas(b.row, deltas_).data(), n, raw_);
    case s_customer: return shuffle(b.customer.data(), n, raw_);
    case s_basket: return shuffle(b.basket.data(), n, raw_);
    case s_time: return shuffle(deltas(b.time, deltas_).data(), n, raw_);
    case s_amount: return shuffle(b.amount.data(), n, raw_);
    case s_quantity: return shuffle(b.quantity.data(), n, raw_);
    case s_unit: return shuffle(b.unit.data(), n, raw_);
    case s_product: return shuffle(b.product.data(), n, raw_);
    case s_line_seq: return shuffle(b.line_seq.data(), b.line_seq.size(), raw_);
    case s_row_hash: return shuffle(b.row_hash.data(), n, raw_);
    case s_customer_ids: return put_strings(b.customer_ids.dict(), raw_);
    case s_basket_ids: return put_strings(b.basket_ids.dict(), raw_);
    case s_units: return put_strings(b.units.dict(), raw_);
    case s_products: return put_strings(b.products.dict(), raw_);
    case section_count: break;
  }
  throw_internal("spill: no such block section");
}

void BlockEncoder::compress(Section s, int level) {
  header_.raw[s] = raw_.size();
  header_.packed[s] = 0;
  if (raw_.empty()) return;
  const size_t start = block_.size();
  block_.resize(start + ZSTD_compressBound(raw_.size()));
  const size_t n = ZSTD_compressCCtx(ctx_.get(), block_.data() + start, block_.size() - start, raw_.data(),
                                     raw_.size(), level);
  if (ZSTD_isError(n)) throw_internal(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
  block_.resize(start + n);
  header_.packed[s] = n;
}

std::string_view BlockEncoder::encode(const PartitionBuffer& b, int level) {
  header_ = {};
  header_.magic = block_magic;
  header_.rows = static_cast<uint32_t>(b.rows());
  block_.assign(sizeof(BlockHeader), '\0');
  for (uint32_t s = 0; s < section_count; ++s) {
    raw_section(b, Section(s));
    compress(Section(s), level);
  }
  header_.payload_crc = crc32_of(std::string_view(block_).substr(sizeof(BlockHeader)));
  header_.crc = crc32_before(header_, offsetof(BlockHeader, crc));
  std::memcpy(block_.data(), &header_, sizeof(header_));
  return block_;
}

// A partition file as written so far.
struct PartitionFile {
  std::string path;
  uint64_t rows = 0, bytes = 0;
  uint32_t crc = 0;

  void append(std::string_view bytes_out, uint64_t rows_out) {
    File file(path, O_WRONLY | O_APPEND);
    file.write(bytes_out);
    file.close();
    rows += rows_out;
    bytes += bytes_out.size();
    crc = crc32_of(bytes_out, crc);
  }
};

// Throws unless OPTIONS can start a spill: DIR absent or an empty directory, at least one partition.
SpillOptions checked(SpillOptions options) {
  if (options.partitions == 0) throw_config("a spill needs at least one partition", "give --partitions 1 or more");
  std::error_code ec;
  if (fs::exists(options.dir, ec) && !(fs::is_directory(options.dir, ec) && fs::is_empty(options.dir, ec))) {
    throw_io(fmt::format("cannot spill into '{}': it exists and is not an empty directory", options.dir),
             "give a new or empty directory, or delete the old spill");
  }
  options.threads = std::max(1u, options.threads);
  options.buffer_bytes = std::min(options.buffer_bytes, size_t{1} << 36);  // blocks of fewer than 2^32 rows
  return options;
}

// The spill directory, created on construction and removed with its contents on destruction
// unless kept.
struct SpillDirectory {
  std::string path;
  bool keep = false;

  explicit SpillDirectory(std::string dir) : path(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) throw_io(fmt::format("cannot create the spill directory '{}': {}", path, ec.message()), "check the path");
  }
  ~SpillDirectory() {
    std::error_code ignored;
    if (!keep) fs::remove_all(path, ignored);
  }
  SpillDirectory(const SpillDirectory&) = delete;
  SpillDirectory& operator=(const SpillDirectory&) = delete;
};

}  // namespace

struct SpillWriter::State {
  SpillOptions options;
  std::optional<RemoveOnSignal> on_signal;  // registered before the directory exists, until complete
  SpillDirectory directory;
  std::vector<PartitionBuffer> buffers;
  std::vector<PartitionFile> files;
  std::vector<RouteScratch> scratch;   // per thread
  std::vector<BlockEncoder> encoders;  // per thread
  std::vector<uint32_t> row_part;       // routing: the partition of each row of a slice
  std::vector<size_t> at;               // and the rows each buffer had before it
  size_t buffered = 0;                  // bytes in the buffers
  uint64_t next_row = 0;
  std::optional<bool> line_seq;         // set by the first table with rows
  bool failed = false, finished = false;

  explicit State(SpillOptions o);
  void append(const TransactionTable& t, uint64_t first_row);
  void route(const TransactionTable& t, const std::vector<uint32_t>& part, size_t begin, size_t end, uint64_t first_row);
  void flush();
  SpillInfo finish(const std::string& fingerprint, const std::string& extra);
};

SpillWriter::State::State(SpillOptions o)
    : options(checked(std::move(o))),
      on_signal(std::in_place, options.dir),
      directory(options.dir),
      buffers(options.partitions),
      files(options.partitions),
      scratch(options.threads),
      encoders(options.threads) {
  for (uint32_t p = 0; p < options.partitions; ++p) {
    PartitionFile& f = files[p];
    f.path = partition_path(options.dir, p);
    const FileHeader header = file_header(p, options.partitions);
    File file(f.path, O_WRONLY | O_CREAT | O_EXCL);
    const std::string_view bytes(reinterpret_cast<const char*>(&header), sizeof(header));
    file.write(bytes);
    file.close();
    f.bytes = bytes.size();
    f.crc = crc32_of(bytes);
  }
}

void SpillWriter::State::append(const TransactionTable& t, uint64_t first_row) {
  if (t.rows() == 0) return;
  if (first_row < next_row) {
    throw_internal(fmt::format("spill: rows from {} appended after rows up to {}", first_row, next_row));
  }
  if (line_seq.value_or(t.has_line_seq()) != t.has_line_seq()) throw_internal("spill: tables differ in line_seq");
  line_seq = t.has_line_seq();
  std::vector<uint32_t> part(t.customer_ids.size());
  for (uint32_t c = 0; c < part.size(); ++c) part[c] = partition_of(t.customer_ids[c], options.partitions);
  for (auto& s : scratch) {
    s.customer.local.assign(t.customer_ids.size(), none);
    s.basket.local.assign(t.basket_ids.size(), none);
    s.unit.local.assign(t.units.size(), none);
    s.product.local.assign(t.products.size(), none);
  }
  for (size_t begin = 0; begin < t.rows();) {
    const size_t room = (options.buffer_bytes - std::min(buffered, options.buffer_bytes)) / PartitionBuffer::row_bytes;
    const size_t end = begin + std::clamp<size_t>(room, 1, t.rows() - begin);
    route(t, part, begin, end, first_row);
    begin = end;
    buffered = 0;
    for (const auto& b : buffers) buffered += b.memory_bytes();
    if (buffered >= options.buffer_bytes) flush();
  }
  next_row = first_row + t.rows();
}

void SpillWriter::State::route(const TransactionTable& t, const std::vector<uint32_t>& part, size_t begin,
                               size_t end, uint64_t first_row) {
  std::vector<size_t> counts(options.partitions);
  row_part.resize(end - begin);
  for (size_t k = 0; k < row_part.size(); ++k) ++counts[row_part[k] = part[t.customer[begin + k]]];
  at.resize(options.partitions);
  for (uint32_t p = 0; p < options.partitions; ++p) {
    at[p] = buffers[p].rows();
    buffers[p].grow(counts[p], t.has_line_seq());
  }
  // Column by column: reading the slice in order and writing P streams keeps both in cache.
  const uint64_t base = first_row + begin;
  const auto in = [&](const auto& column) { return [&column, begin](size_t k) { return column[begin + k]; }; };
  for_each_index(options.threads, 10, [&](size_t, size_t c) {
    using B = PartitionBuffer;
    switch (c) {
      case 0: return scatter(buffers, &B::row, row_part, at, [base](size_t k) { return base + k; });
      case 1: return scatter(buffers, &B::customer, row_part, at, in(t.customer));
      case 2: return scatter(buffers, &B::basket, row_part, at, in(t.basket));
      case 3: return scatter(buffers, &B::time, row_part, at, in(t.time));
      case 4: return scatter(buffers, &B::amount, row_part, at, in(t.amount));
      case 5: return scatter(buffers, &B::quantity, row_part, at, in(t.quantity));
      case 6: return scatter(buffers, &B::unit, row_part, at, in(t.unit));
      case 7: return scatter(buffers, &B::product, row_part, at, in(t.product));
      case 8: return scatter(buffers, &B::row_hash, row_part, at, in(t.row_hash));
      default:
        if (t.has_line_seq()) scatter(buffers, &B::line_seq, row_part, at, in(t.line_seq));
    }
  });
  for_each_index(options.threads, options.partitions, [&](size_t w, size_t p) {
    buffers[p].intern_from(at[p], t, scratch[w]);
  });
}

void SpillWriter::State::flush() {
  for_each_index(options.threads, options.partitions, [&](size_t w, size_t p) {
    PartitionBuffer& b = buffers[p];
    if (b.rows() == 0) return;
    files[p].append(encoders[w].encode(b, options.zstd_level), b.rows());
    b.clear();
  });
  buffered = 0;
}

SpillInfo SpillWriter::State::finish(const std::string& fingerprint, const std::string& extra) {
  flush();
  for_each_index(options.threads, options.partitions, [&](size_t, size_t p) {
    File file(files[p].path, O_WRONLY);
    file.sync();
    file.close();
  });
  SpillInfo info;
  info.dir = options.dir;
  info.partitions = options.partitions;
  info.fingerprint = fingerprint;
  info.extra = extra;
  info.line_seq = line_seq.value_or(false);
  for (const PartitionFile& f : files) {
    info.rows += f.rows;
    info.bytes += f.bytes;
    info.partition_rows.push_back(f.rows);
    info.partition_bytes.push_back(f.bytes);
    info.partition_crc32.push_back(f.crc);
  }
  write_file_atomically(options.dir + "/" + manifest_name, manifest_text(info));
  directory.keep = true;
  on_signal.reset();
  return info;
}

SpillWriter::SpillWriter(SpillOptions options) : state_(std::make_unique<State>(std::move(options))) {}

SpillWriter::~SpillWriter() = default;

void SpillWriter::append(const TransactionTable& table, uint64_t first_row) {
  if (state_->failed || state_->finished) throw_internal("spill: append after a failure or after finish");
  state_->failed = true;  // until it returns
  state_->append(table, first_row);
  state_->failed = false;
}

SpillInfo SpillWriter::finish(const std::string& fingerprint, const std::string& extra) {
  if (state_->failed || state_->finished) throw_internal("spill: finish after a failure or twice");
  state_->failed = true;
  SpillInfo info = state_->finish(fingerprint, extra);
  state_->failed = false;
  state_->finished = true;
  return info;
}

}  // namespace cltv::io
