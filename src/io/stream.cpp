// Streaming an input of many parts: each part's bytes are read block by block (hashed as read,
// gunzipped when they start with the gzip magic), its header resolved once, and its text cut into
// chunks of whole records that the reader's record parser turns into tables, one chunk at a time.
#include "cltv/io/stream.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/progress.h"
#include "cltv/sha256.h"
#include "record_parser.h"

namespace cltv::io {
namespace {

// The text of one local file, block by block: the stored bytes are hashed as they are read and
// inflated when the file starts with the gzip magic (concatenated members continue the text).
class PartText {
 public:
  PartText(const std::string& path, const std::string& name, size_t block) : name_(name), raw_(block) {
    require_regular_file(path, name);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // never blocks on a FIFO swapped in
    if (fd_ < 0) {
      throw_io(fmt::format("cannot open '{}': {}", name, std::strerror(errno)), "check that the file is readable");
    }
    gzip_ = fill_raw() && raw_size_ >= 2 && static_cast<unsigned char>(raw_[0]) == 0x1f &&
            static_cast<unsigned char>(raw_[1]) == 0x8b;
    if (gzip_ && inflateInit2(&zs_, 15 + 32) != Z_OK) throw_internal("zlib inflateInit2 failed");
    zs_.next_in = reinterpret_cast<Bytef*>(raw_.data());
    zs_.avail_in = static_cast<uInt>(raw_size_);
  }
  ~PartText() {
    if (gzip_) inflateEnd(&zs_);
    ::close(fd_);
  }
  PartText(const PartText&) = delete;
  PartText& operator=(const PartText&) = delete;

  // Appends the next piece of text (about a block) to OUT; false once the text has ended.
  bool read_more(std::string& out) {
    const size_t before = out.size();
    if (zs_.avail_in == 0 && !fill_raw()) return finish();
    if (!gzip_) {
      out.append(reinterpret_cast<const char*>(zs_.next_in), zs_.avail_in);
      zs_.avail_in = 0;
    } else {
      inflate_into(out);
    }
    text_bytes_ += out.size() - before;
    return out.size() > before || read_more(out);
  }
  uint64_t raw_bytes() const { return raw_bytes_; }
  uint64_t text_bytes() const { return text_bytes_; }
  std::string sha256() { return digest_.hex(); }

 private:
  // Reads the next block of stored bytes; false at the end of the file.
  bool fill_raw() {
    ssize_t got = 0;
    do {
      got = ::read(fd_, raw_.data(), raw_.size());
    } while (got < 0 && errno == EINTR);
    if (got < 0) throw_io(fmt::format("cannot read '{}': {}", name_, std::strerror(errno)), "check the file");
    raw_size_ = static_cast<size_t>(got);
    raw_bytes_ += raw_size_;
    digest_.update({raw_.data(), raw_size_});
    zs_.next_in = reinterpret_cast<Bytef*>(raw_.data());
    zs_.avail_in = static_cast<uInt>(raw_size_);
    return got > 0;
  }

  void inflate_into(std::string& out) {
    const size_t before = out.size();
    out.resize(before + raw_.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    zs_.avail_out = static_cast<uInt>(raw_.size());
    while (zs_.avail_out > 0 && (zs_.avail_in > 0 || fill_raw())) {
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      in_member_ = rc != Z_STREAM_END;
      if (rc == Z_STREAM_END) {
        inflateReset(&zs_);  // a concatenated member may follow
      } else if (rc != Z_OK) {
        damaged();  // Z_BUF_ERROR too: no progress was possible with input and room for output
      }
    }
    out.resize(out.size() - zs_.avail_out);
  }

  bool finish() {
    if (gzip_ && in_member_) damaged();
    return false;
  }

  [[noreturn]] void damaged() const {
    throw_input(fmt::format("'{}' is a damaged or truncated gzip file", name_),
                "check the download, for example with gzip -t");
  }

  std::string name_;
  int fd_ = -1;
  std::vector<char> raw_;
  size_t raw_size_ = 0;
  uint64_t raw_bytes_ = 0, text_bytes_ = 0;
  Sha256 digest_;
  bool gzip_ = false;
  bool in_member_ = true;  // inside a gzip member (its end not seen yet)
  z_stream zs_{};
};

// Where a chunk of TEXT starting at BEGIN (a record start) should end so it holds about LIMIT -
// BEGIN bytes: after the last line break before LIMIT that is outside quotes by quote parity
// (QUOTES false: any). npos when there is none. Malformed quoting can fool the parity; the parser
// then tells, by running past the cut.
size_t find_cut(std::string_view text, size_t begin, size_t limit, bool quotes) {
  bool in_quotes = false;
  if (quotes) {
    for (const char* p = text.data() + begin, *end = text.data() + limit;
         (p = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)))) != nullptr; ++p) {
      in_quotes = !in_quotes;
    }
  }
  for (size_t p = limit; p > begin; --p) {
    const char c = text[p - 1];
    if (c == '\n' && !in_quotes) return p;
    if (quotes && c == '"') in_quotes = !in_quotes;
  }
  return std::string_view::npos;
}

// What streaming accumulates over the parts.
class Stream {
 public:
  Stream(const std::vector<InputPart>& parts, const Schema& schema, const StreamOptions& options,
         const std::function<void(StreamedChunk&&)>& sink)
      : parts_(parts), schema_(schema), options_(options), sink_(sink) {
    parse_options_ = options.read;
    parse_options_.progress = nullptr;  // progress counts the parts' bytes read instead
    for (const InputPart& part : parts) total_bytes_ += part.bytes;
    report_.source = !options.read.source_name.empty() ? options.read.source_name
                     : parts.size() == 1               ? parts.front().name
                                                       : fmt::format("{} and {} more parts", parts.front().name, parts.size() - 1);
    report_.returns = schema.returns;
    if (options.read.on_bad_row.policy == BadRowPolicy::quarantine) {
      quarantine_.emplace(options.read.on_bad_row.quarantine_path);
    }
  }

  ReadReport run() {
    for (size_t i = 0; i < parts_.size(); ++i) {
      const InputPart& part = parts_[i];
      const std::optional<storage::LocalCopy> download =
          part.location.is_remote() ? std::optional(storage::fetch(part.location)) : std::nullopt;
      read_part(i, download ? download->path() : part.location.path);
    }
    if (report_.rows_read == 0) {
      throw_input(fmt::format("'{}' has no data rows", report_.source), "expected at least one transaction row");
    }
    if (quarantine_) quarantine_->commit();
    report_.sha256 = parts_.size() == 1 ? report_.parts.front().sha256 : sha256_hex(part_listing());
    return std::move(report_);
  }

 private:
  // The text of one part with the position of its first unparsed byte.
  struct Text {
    PartText source;
    std::string buffer;
    size_t begin = 0;
    bool ended = false;
  };

  void read_part(size_t index, const std::string& path) {
    const InputPart& part = parts_[index];
    const size_t block = std::clamp<size_t>(options_.chunk_bytes / 4, 4 << 10, 1 << 20);
    Text text{PartText(path, part.name, block), {}, 0, false};
    PartInfo& info = report_.parts.emplace_back(PartInfo{part.name, 0, {}, 0, 0});
    const std::optional<detail::FileHeader> header = read_header(text, part.name);
    if (header) {
      text.begin = header->data_start;
      parse_chunks(index, text, *header);
    }
    while (!text.ended) read_block(text);  // the rest of an empty or header-only part, for its hash
    info.bytes = text.source.raw_bytes();
    info.sha256 = text.source.sha256();
    report_.bytes += text.source.text_bytes();
    done_before_ += text.source.raw_bytes();
  }

  void read_block(Text& text) {
    text.ended = text.ended || !text.source.read_more(text.buffer);
    report_progress(options_.read.progress, "read", static_cast<int64_t>(done_before_ + text.source.raw_bytes()),
                    static_cast<int64_t>(total_bytes_), "bytes");
  }

  // The header of the part (nullopt when it has no text), resolved on text read until the header
  // record ends inside it; writes the first part's header to the quarantine file.
  std::optional<detail::FileHeader> read_header(Text& text, const std::string& name) {
    constexpr size_t probe = 1 << 16;
    while (!text.ended && text.buffer.size() < probe) read_block(text);
    if (text.buffer.empty()) return std::nullopt;
    detail::FileHeader header = detail::resolve_file_header(text.buffer, schema_, name);
    while (!text.ended && header.data_start >= text.buffer.size()) {
      for (const size_t want = text.buffer.size() * 2; !text.ended && text.buffer.size() < want;) read_block(text);
      header = detail::resolve_file_header(text.buffer, schema_, name);
    }
    report_.header_line = report_.header_line || header.present;
    if (quarantine_ && !quarantine_started_ && header.present) {
      quarantine_->write(header.raw);
      quarantine_->write("\n");
    }
    quarantine_started_ = true;
    return header;
  }

  void parse_chunks(size_t index, Text& text, const detail::FileHeader& header) {
    const std::string& name = parts_[index].name;
    const bool quotes = !schema_.whitespace_delimited;
    uint64_t lines_before = header.lines_before;
    size_t target = std::max<size_t>(options_.chunk_bytes, 1);
    while (text.begin < text.buffer.size() || !text.ended) {
      while (!text.ended && text.buffer.size() - text.begin < target) read_block(text);
      if (text.begin >= text.buffer.size()) break;
      const bool rest = text.ended && text.buffer.size() - text.begin <= target;
      const size_t cut = rest ? text.buffer.size() : find_cut(text.buffer, text.begin, text.begin + target, quotes);
      if (cut == std::string_view::npos) {
        target *= 2;  // a record longer than the chunk (or a quoted field spanning it)
        continue;
      }
      detail::ParsedRecords parsed = detail::parse_records(text.buffer, text.begin, cut, lines_before, header,
                                                           schema_, name, parse_options_);
      if (parsed.end > cut && parsed.end >= text.buffer.size() && !text.ended) {
        target *= 2;  // malformed quoting: the last record runs past the text read so far
        continue;
      }
      lines_before += parsed.lines;
      text.begin = parsed.end;
      deliver(index, text, std::move(parsed));
      text.buffer.erase(0, text.begin);
      text.begin = 0;
      target = std::max<size_t>(options_.chunk_bytes, 1);
    }
  }

  // Adds a parsed chunk of part INDEX to the report and the quarantine file, applies the fail
  // policy, and hands its rows to the sink.
  void deliver(size_t index, const Text& text, detail::ParsedRecords parsed) {
    ReadReport& chunk = parsed.result.report;
    PartInfo& info = report_.parts.back();
    info.rows_read += chunk.rows_read;
    info.rows += chunk.accepted;
    report_.add(chunk, parts_[index].name);
    if (quarantine_) {
      for (const auto& [b, e] : parsed.rejected_spans) {
        quarantine_->write(std::string_view(text.buffer).substr(b, e - b));
        quarantine_->write("\n");
      }
    }
    if (chunk.rejected > 0 && options_.read.on_bad_row.policy == BadRowPolicy::fail) {
      // Earlier chunks had no malformed rows, so the chunk's problems are the part's.
      chunk.source = parts_[index].name;
      const bool part_read = text.ended && text.begin >= text.buffer.size();
      throw_input(detail::malformed_rows_message(chunk, chunk.source,
                                                 fmt::format("{}{}", info.rows_read, part_read ? "" : " read so far")),
                  detail::kMalformedRowsHint);
    }
    if (chunk.accepted == 0) return;
    StreamedChunk out{std::move(parsed.result.table), next_row_, index};
    next_row_ += chunk.accepted;
    sink_(std::move(out));
  }


  // "SHA256  NAME" per part, as sha256sum prints them.
  std::string part_listing() const {
    std::string listing;
    for (const PartInfo& info : report_.parts) listing += fmt::format("{}  {}\n", info.sha256, info.name);
    return listing;
  }

  const std::vector<InputPart>& parts_;
  const Schema& schema_;
  const StreamOptions& options_;
  const std::function<void(StreamedChunk&&)>& sink_;
  ReadOptions parse_options_;
  ReadReport report_;
  std::optional<AtomicFile> quarantine_;
  bool quarantine_started_ = false;
  uint64_t total_bytes_ = 0, done_before_ = 0, next_row_ = 0;
};

}  // namespace

ReadReport stream_transactions(const std::vector<InputPart>& parts, const Schema& schema,
                               const StreamOptions& options, const std::function<void(StreamedChunk&&)>& sink) {
  if (parts.empty()) throw_input("the input has no parts", "list the input with list_input_parts");
  return Stream(parts, schema, options, sink).run();
}

}  // namespace cltv::io
