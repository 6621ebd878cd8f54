// S3Client: object size, verified streaming downloads, single and parallel multipart uploads and
// small texts over libcurl (SigV4 by libcurl), each request retried with exponential backoff on
// transport errors and throttling, and S3 error responses translated into errors naming the
// bucket and key. Secrets are scrubbed from every message.
#include "cltv/storage/s3.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <iterator>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/storage/location.h"
#include "s3_request.h"

namespace cltv::storage {
namespace {

using detail::CurlEasy;
using detail::RequestBody;
using detail::SignedRequest;

constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr size_t kMaxResponseBody = 1 << 20;  // error documents and small responses, not objects
constexpr int kMaxParts = 10000;               // S3's limit per multipart upload
constexpr double kMaxBackoffSeconds = 8.0;
constexpr int kMaxAbortAttempts = 3;

// An incremental OpenSSL digest (MD5 for ETags, SHA-256 for SigV4 payload hashes).
class EvpDigest {
 public:
  explicit EvpDigest(const EVP_MD* type) : type_(type), context_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!context_) throw_internal("EVP_MD_CTX_new failed");
    reset();
  }
  void reset() {
    if (EVP_DigestInit_ex(context_.get(), type_, nullptr) != 1) throw_internal("digest init failed");
  }
  void update(const void* data, size_t size) {
    if (size > 0 && EVP_DigestUpdate(context_.get(), data, size) != 1) throw_internal("digest update failed");
  }
  std::vector<unsigned char> finish() {
    std::vector<unsigned char> digest(EVP_MAX_MD_SIZE);
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_.get(), digest.data(), &length) != 1) throw_internal("digest final failed");
    digest.resize(length);
    return digest;
  }

 private:
  const EVP_MD* type_;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context_;
};

std::string to_hex(const std::vector<unsigned char>& bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
  return hex;
}

std::string to_base64(const std::vector<unsigned char>& bytes) {
  std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), bytes.data(),
                                     static_cast<int>(bytes.size()));
  encoded.resize(static_cast<size_t>(length));
  return encoded;
}

// The digests an upload needs: SHA-256 for the signature, MD5 for Content-MD5 (S3 checks it).
struct PayloadDigests {
  std::string sha256_hex;
  std::string md5_base64;
};

PayloadDigests digest_bytes(std::string_view bytes) {
  EvpDigest sha256(EVP_sha256()), md5(EVP_md5());
  sha256.update(bytes.data(), bytes.size());
  md5.update(bytes.data(), bytes.size());
  return {to_hex(sha256.finish()), to_base64(md5.finish())};
}

PayloadDigests digest_file_range(int file_descriptor, int64_t offset, int64_t length, const std::string& path) {
  EvpDigest sha256(EVP_sha256()), md5(EVP_md5());
  std::vector<char> buffer(1 << 20);
  for (int64_t done = 0; done < length;) {
    const size_t wanted = static_cast<size_t>(std::min<int64_t>(length - done, static_cast<int64_t>(buffer.size())));
    const ssize_t got = ::pread(file_descriptor, buffer.data(), wanted, offset + done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw_io(fmt::format("cannot read '{}' at byte {}: {}", path, offset + done,
                           got == 0 ? "the file is shorter than when the upload started" : std::strerror(errno)),
               "do not modify a file while it is being uploaded");
    }
    sha256.update(buffer.data(), static_cast<size_t>(got));
    md5.update(buffer.data(), static_cast<size_t>(got));
    done += got;
  }
  return {to_hex(sha256.finish()), to_base64(md5.finish())};
}

// Appends code point CODE as UTF-8.
void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

// The code point of a numeric character reference body ("#39", "#x27"), or nullopt.
std::optional<uint32_t> character_reference(std::string_view body) {
  if (body.size() < 2 || body[0] != '#') return std::nullopt;
  const bool hex = body[1] == 'x' || body[1] == 'X';
  const std::string_view digits = body.substr(hex ? 2 : 1);
  uint32_t code = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || code > 0x10FFFF) {
    return std::nullopt;
  }
  return code;
}

// XML text with the five named entities and numeric character references replaced.
std::string xml_unescape(std::string_view text) {
  static const std::pair<std::string_view, char> entities[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t semicolon = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semicolon == std::string_view::npos) {
      out += text[i++];
      continue;
    }
    const std::string_view body = text.substr(i + 1, semicolon - i - 1);
    const auto named = std::find_if(std::begin(entities), std::end(entities),
                                    [&](const auto& entity) { return entity.first == body; });
    if (named != std::end(entities)) {
      out += named->second;
    } else if (const std::optional<uint32_t> code = character_reference(body)) {
      append_utf8(out, *code);
    } else {
      out += text[i++];  // not a reference: kept as written
      continue;
    }
    i = semicolon + 1;
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

// The text of the first <TAG>...</TAG> in XML, or "" (S3's responses are flat enough for this).
std::string xml_value(std::string_view xml, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag), close = fmt::format("</{}>", tag);
  const auto start = xml.find(open);
  if (start == std::string_view::npos) return {};
  const auto value_start = start + open.size();
  const auto end = xml.find(close, value_start);
  if (end == std::string_view::npos) return {};
  return xml_unescape(xml.substr(value_start, end - value_start));
}

// Appends the key and size of every <Contents> entry of the listing page XML to OBJECTS.
void append_listed_objects(std::string_view xml, std::vector<S3Object>& objects) {
  constexpr std::string_view open = "<Contents>", close = "</Contents>";
  for (size_t at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at)) {
    const size_t end = xml.find(close, at);
    if (end == std::string_view::npos) break;
    const std::string_view entry = xml.substr(at + open.size(), end - at - open.size());
    const std::string size = xml_value(entry, "Size");
    objects.push_back({xml_value(entry, "Key"), std::strtoll(size.c_str(), nullptr, 10)});
    at = end + close.size();
  }
}

bool is_error_document(std::string_view xml) { return xml.find("<Error>") != std::string_view::npos; }

struct ResponseHeaders {
  std::optional<int64_t> content_length;
  std::string etag;
  std::string server_side_encryption;  // aws:kms etc.: the ETag is then no MD5
  std::string customer_key_algorithm;  // SSE-C: likewise
  std::string bucket_region;
};

struct Response {
  long status = 0;
  std::string body;  // error documents and small (non-sink) responses
  ResponseHeaders headers;
  bool ok() const { return status >= 200 && status < 300; }
};

// Receives the body of a successful GET: restarted before every attempt, verified after it.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  void restart() {
    md5_.reset();
    received_ = 0;
    restart_storage();
  }
  void write(std::string_view bytes, int64_t total) {
    md5_.update(bytes.data(), bytes.size());
    received_ += static_cast<int64_t>(bytes.size());
    store(bytes, total);
  }
  // Why the bytes received do not match HEADERS (size, MD5 ETag of single-part objects), or "".
  std::string mismatch(const ResponseHeaders& headers) {
    if (headers.content_length && *headers.content_length != received_) {
      return fmt::format("received {} bytes but Content-Length is {}", received_, *headers.content_length);
    }
    std::string etag = headers.etag;
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    const bool md5_etag = etag.size() == 32 && etag.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos &&
                          (headers.server_side_encryption.empty() || headers.server_side_encryption == "AES256") &&
                          headers.customer_key_algorithm.empty();
    if (!md5_etag) return {};
    std::transform(etag.begin(), etag.end(), etag.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string md5 = to_hex(md5_.finish());
    return md5 == etag ? std::string() : fmt::format("MD5 of the received bytes is {} but the ETag is {}", md5, etag);
  }

 protected:
  virtual void restart_storage() = 0;
  virtual void store(std::string_view bytes, int64_t total) = 0;
  int64_t received() const { return received_; }

 private:
  EvpDigest md5_{EVP_md5()};
  int64_t received_ = 0;
};

// Streams into a temporary file beside PATH; commit() renames it into place.
class FileSink : public ResponseSink {
 public:
  FileSink(std::string path, const ByteProgress& progress) : path_(std::move(path)), progress_(progress) {}
  void commit() { file_->commit(); }

 protected:
  void restart_storage() override {
    file_.reset();
    file_.emplace(path_);
  }
  void store(std::string_view bytes, int64_t total) override {
    file_->write(bytes);
    if (progress_) progress_(received(), total);
  }

 private:
  std::string path_;
  const ByteProgress& progress_;
  std::optional<io::AtomicFile> file_;
};

class TextSink : public ResponseSink {
 public:
  std::string text;

 protected:
  void restart_storage() override { text.clear(); }
  void store(std::string_view bytes, int64_t) override { text.append(bytes); }
};

// Optional extras of one request: upload progress and cancellation by a sibling transfer.
struct TransferHooks {
  std::function<void(int64_t sent)> upload_progress;
  const std::atomic<bool>* cancelled = nullptr;
};

// The state of one attempt, shared with libcurl's callbacks. Exceptions thrown by sinks or
// progress callbacks are parked here (they must not cross libcurl) and rethrown after it returns.
struct Attempt {
  CURL* handle = nullptr;
  ResponseSink* sink = nullptr;
  const TransferHooks* hooks = nullptr;
  Response response;
  std::exception_ptr callback_error;

  bool status_ok() const {
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    return status >= 200 && status < 300;
  }

  static size_t on_header(char* buffer, size_t size, size_t count, void* attempt_pointer) {
    auto& attempt = *static_cast<Attempt*>(attempt_pointer);
    const std::string_view line(buffer, size * count);
    try {
      if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue, say)
        attempt.response.headers = {};
        return line.size();
      }
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return line.size();
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
      ResponseHeaders& headers = attempt.response.headers;
      if (name == "content-length") {
        headers.content_length = std::strtoll(std::string(value).c_str(), nullptr, 10);
      } else if (name == "etag") {
        headers.etag = value;
      } else if (name == "x-amz-server-side-encryption") {
        headers.server_side_encryption = value;
      } else if (name == "x-amz-server-side-encryption-customer-algorithm") {
        headers.customer_key_algorithm = value;
      } else if (name == "x-amz-bucket-region") {
        headers.bucket_region = value;
      }
    } catch (...) {
      attempt.callback_error = std::current_exception();
      return 0;
    }
    return line.size();
  }

  static size_t on_body(char* buffer, size_t size, size_t count, void* attempt_pointer) {
    auto& attempt = *static_cast<Attempt*>(attempt_pointer);
    const std::string_view bytes(buffer, size * count);
    try {
      if (attempt.sink != nullptr && attempt.status_ok()) {
        attempt.sink->write(bytes, attempt.response.headers.content_length.value_or(0));
      } else if (attempt.response.body.size() < kMaxResponseBody) {
        attempt.response.body.append(bytes.substr(0, kMaxResponseBody - attempt.response.body.size()));
      }
    } catch (...) {
      attempt.callback_error = std::current_exception();
      return 0;
    }
    return bytes.size();
  }

  static int on_progress(void* attempt_pointer, curl_off_t, curl_off_t, curl_off_t, curl_off_t sent) {
    auto& attempt = *static_cast<Attempt*>(attempt_pointer);
    if (attempt.hooks->cancelled != nullptr && attempt.hooks->cancelled->load()) return 1;
    try {
      if (attempt.hooks->upload_progress && sent > 0) attempt.hooks->upload_progress(static_cast<int64_t>(sent));
    } catch (...) {
      attempt.callback_error = std::current_exception();
      return 1;
    }
    return 0;
  }
};

bool is_transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

bool is_transient(const Response& response) {
  return response.status >= 500 || response.status == 429 || response.status == 408 ||
         (response.status == 400 && xml_value(response.body, "Code") == "RequestTimeout");
}

std::string describe(const Response& response) {
  const std::string code = xml_value(response.body, "Code"), message = xml_value(response.body, "Message");
  if (code.empty()) return fmt::format("HTTP {}", response.status);
  if (message.empty()) return fmt::format("HTTP {} {}", response.status, code);
  return fmt::format("HTTP {} {}: {}", response.status, code, message);
}

class FileDescriptor {
 public:
  explicit FileDescriptor(const std::string& path) : descriptor_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (descriptor_ < 0) throw_io(fmt::format("cannot open '{}': {}", path, std::strerror(errno)), "check the path");
  }
  ~FileDescriptor() { ::close(descriptor_); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return descriptor_; }

 private:
  int descriptor_;
};

int64_t file_size(const FileDescriptor& file, const std::string& path) {
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) throw_io(fmt::format("cannot stat '{}': {}", path, std::strerror(errno)));
  if (!S_ISREG(status.st_mode)) throw_io(fmt::format("'{}' is not a regular file", path), "upload files, not directories");
  return static_cast<int64_t>(status.st_size);
}

// Sums the bytes sent by parallel part uploads into one monotonic progress report.
class MultipartProgress {
 public:
  MultipartProgress(const ByteProgress& progress, int64_t total, int workers)
      : progress_(progress), total_(total), in_flight_(static_cast<size_t>(workers), 0) {}
  void sending(int worker, int64_t sent) {
    std::lock_guard lock(mutex_);
    in_flight_[static_cast<size_t>(worker)] = sent;
    report();
  }
  void finished_part(int worker, int64_t part_bytes) {
    std::lock_guard lock(mutex_);
    in_flight_[static_cast<size_t>(worker)] = 0;
    completed_ += part_bytes;
    report();
  }

 private:
  void report() {
    int64_t done = completed_;
    for (const int64_t sent : in_flight_) done += sent;
    if (!progress_ || done <= reported_) return;
    reported_ = done;
    progress_(done, total_);
  }

  const ByteProgress& progress_;
  const int64_t total_;
  std::mutex mutex_;
  std::vector<int64_t> in_flight_;
  int64_t completed_ = 0;
  int64_t reported_ = 0;
};

// Where one request is going, for messages.
struct Target {
  std::string operation;  // "download", "upload of part 3 of 7", ...
  std::string bucket;
  std::string key;
  std::string uri() const { return fmt::format("s3://{}/{}", bucket, key); }
};

}  // namespace

struct S3Client::Impl {
  S3Options options;
  AwsCredentials credentials;
  detail::S3Endpoint endpoint;

  explicit Impl(S3Options client_options) : options(std::move(client_options)) {
    std::string base = options.endpoint;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!base.empty() && !base.starts_with("http://") && !base.starts_with("https://")) {
      throw_config(fmt::format("S3 endpoint '{}' is not an http:// or https:// URL", mask_url_userinfo(base)),
                   "give e.g. http://127.0.0.1:4568 (--s3-endpoint or AWS_ENDPOINT_URL)");
    }
    credentials = resolve_aws_credentials();
    endpoint = {base, resolve_aws_region()};
    options.max_attempts = std::max(options.max_attempts, 1);
    options.parallel_parts = std::max(options.parallel_parts, 1);
    options.part_size = std::max<int64_t>(options.part_size, 1);
  }

  // TEXT without the secret key, the session token or the endpoint's user information.
  std::string scrub(std::string text) const {
    const std::string masked_endpoint = mask_url_userinfo(endpoint.base_url);
    if (masked_endpoint != endpoint.base_url) {
      for (auto at = text.find(endpoint.base_url); at != std::string::npos; at = text.find(endpoint.base_url, at)) {
        text.replace(at, endpoint.base_url.size(), masked_endpoint);
      }
    }
    const std::string redacted = "<redacted>";
    for (const std::string* secret : {&credentials.secret_access_key, &credentials.session_token}) {
      if (secret->empty()) continue;
      for (auto at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at + redacted.size())) {
        text.replace(at, secret->size(), redacted);
      }
    }
    return text;
  }
  [[noreturn]] void fail(const std::string& message, const std::string& hint = {}) const {
    throw_io(scrub(message), scrub(hint));
  }

  std::string region_hint() const {
    return endpoint.base_url.empty() ? fmt::format("region ({})", endpoint.region)
                                     : fmt::format("endpoint ({}) and region ({})", mask_url_userinfo(endpoint.base_url),
                                                   endpoint.region);
  }

  void sleep_before_retry(int failed_attempts, const std::atomic<bool>* cancelled) const {
    double seconds = options.initial_backoff_seconds;
    for (int i = 1; i < failed_attempts && seconds < kMaxBackoffSeconds; ++i) seconds *= 2;
    using Clock = std::chrono::steady_clock;
    const Clock::time_point until =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(std::min(seconds, kMaxBackoffSeconds)));
    // In short slices, so a failed sibling transfer cancels the wait.
    while (Clock::now() < until && !(cancelled != nullptr && cancelled->load())) {
      std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
    }
  }

  // Sends REQUEST until it succeeds, fails for good, or MAX_ATTEMPTS transient failures (transport
  // errors, 5xx, 429, a body that does not match its headers) have happened. Returns the final
  // response, successful or not; throws io errors for transport failures.
  Response execute(CURL* handle, const Target& target, const SignedRequest& request, RequestBody* body,
                   ResponseSink* sink = nullptr, const TransferHooks& hooks = {}, int max_attempts = 0) const {
    if (max_attempts <= 0) max_attempts = options.max_attempts;
    std::string last_error;
    for (int attempt_number = 1; attempt_number <= max_attempts; ++attempt_number) {
      if (attempt_number > 1) sleep_before_retry(attempt_number - 1, hooks.cancelled);
      if (hooks.cancelled != nullptr && hooks.cancelled->load()) {
        fail(fmt::format("S3 {} of {} cancelled because a related transfer failed", target.operation, target.uri()));
      }
      if (body != nullptr) body->rewind();
      if (sink != nullptr) sink->restart();

      Attempt attempt;
      attempt.handle = handle;
      attempt.sink = sink;
      attempt.hooks = &hooks;
      const detail::CurlList headers = detail::configure_signed_request(handle, request, body, credentials, endpoint.region);
      char curl_error[CURL_ERROR_SIZE] = {};
      curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, curl_error);
      curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
      curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1024L);
      curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_seconds);
      curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &Attempt::on_header);
      curl_easy_setopt(handle, CURLOPT_HEADERDATA, &attempt);
      curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &Attempt::on_body);
      curl_easy_setopt(handle, CURLOPT_WRITEDATA, &attempt);
      curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &Attempt::on_progress);
      curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &attempt);

      const CURLcode code = curl_easy_perform(handle);
      curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
      if (attempt.callback_error) std::rethrow_exception(attempt.callback_error);
      if (code != CURLE_OK) {
        last_error = curl_error[0] != '\0' ? std::string(curl_error) : std::string(curl_easy_strerror(code));
        if (hooks.cancelled != nullptr && hooks.cancelled->load()) continue;  // reported at the loop top
        if (!is_transient(code)) {
          fail(fmt::format("S3 {} of {} via {} failed: {}", target.operation, target.uri(),
                           endpoint.host(target.bucket), last_error));
        }
        continue;
      }
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &attempt.response.status);
      Response& response = attempt.response;
      if (response.ok()) {
        const std::string mismatch = sink != nullptr ? sink->mismatch(response.headers) : std::string();
        if (!mismatch.empty()) {
          last_error = mismatch;
          continue;
        }
        // CompleteMultipartUpload can fail after its 200 status line; the body then says so.
        if (sink == nullptr && is_error_document(response.body)) {
          last_error = describe(response);
          continue;
        }
        return std::move(response);
      }
      if (!is_transient(response)) return std::move(response);
      last_error = describe(response);
    }
    if (hooks.cancelled != nullptr && hooks.cancelled->load()) {
      fail(fmt::format("S3 {} of {} cancelled because a related transfer failed", target.operation, target.uri()));
    }
    fail(fmt::format("S3 {} of {} via {} failed after {} attempts; last error: {}", target.operation, target.uri(),
                     endpoint.host(target.bucket), max_attempts, last_error),
         "check that the endpoint is reachable and the network is up; S3 itself may be throttling or unavailable");
  }

  [[noreturn]] void fail_missing_bucket(const std::string& bucket) const {
    fail(fmt::format("bucket '{}' does not exist", bucket),
         fmt::format("check the bucket name and the {}", region_hint()));
  }

  // Translates the unsuccessful RESPONSE into an io error naming the bucket and key.
  [[noreturn]] void fail_with(const Target& target, const Response& response) const {
    const std::string code = xml_value(response.body, "Code");
    if (response.status == 403) {
      fail(fmt::format("access denied to {} ({})", target.uri(), code.empty() ? std::string("HTTP 403") : code),
           fmt::format("check the credentials (from {}), the region ({}) and the bucket policy", credentials.source,
                       endpoint.region));
    }
    if (response.status == 404 && code == "NoSuchBucket") fail_missing_bucket(target.bucket);
    if (response.status == 404 && (code == "NoSuchKey" || code.empty())) {
      fail(fmt::format("{} does not exist", target.uri()), "check the key (object names are case-sensitive)");
    }
    std::string region = response.headers.bucket_region;
    if (region.empty()) region = xml_value(response.body, "Region");
    if (!region.empty() && region != endpoint.region) {
      fail(fmt::format("S3 {} of {} failed: the bucket is in region {}, not {} ({})", target.operation, target.uri(),
                       region, endpoint.region, describe(response)),
           fmt::format("set AWS_REGION={}", region));
    }
    fail(fmt::format("S3 {} of {} via {} failed: {}", target.operation, target.uri(), endpoint.host(target.bucket),
                     describe(response)));
  }

  SignedRequest request(const std::string& method, const std::string& bucket, const std::string& key,
                        const std::string& canonical_query = {}, std::string payload_sha256 = kEmptySha256,
                        std::vector<std::string> headers = {}) const {
    return {method, endpoint.url(bucket, key, canonical_query), std::move(payload_sha256), std::move(headers)};
  }

  // Downloads into SINK (verified), or fails naming the object.
  void get(const std::string& bucket, const std::string& key, ResponseSink& sink) const {
    const CurlEasy handle = detail::make_curl_easy();
    const Target target{"download", bucket, key};
    const Response response = execute(handle.get(), target, request("GET", bucket, key), nullptr, &sink);
    if (!response.ok()) fail_with(target, response);
  }

  // One PUT of BODY (whose digests are given) as BUCKET/KEY, with QUERY for part uploads; returns the ETag.
  std::string put(CURL* handle, const Target& target, const std::string& canonical_query, RequestBody& body,
                  const PayloadDigests& digests, const TransferHooks& hooks) const {
    const SignedRequest put_request = request("PUT", target.bucket, target.key, canonical_query, digests.sha256_hex,
                                              {fmt::format("Content-MD5: {}", digests.md5_base64)});
    const Response response = execute(handle, target, put_request, &body, nullptr, hooks);
    if (!response.ok()) fail_with(target, response);
    return response.headers.etag;
  }

  void upload_single(const FileDescriptor& file, int64_t size, const std::string& local_path, const Target& target,
                     const ByteProgress& progress) const {
    const CurlEasy handle = detail::make_curl_easy();
    const PayloadDigests digests = digest_file_range(file.get(), 0, size, local_path);
    RequestBody body = RequestBody::file_range(file.get(), 0, size);
    TransferHooks hooks;
    int64_t reported = 0;
    if (progress) {
      hooks.upload_progress = [&progress, &reported, size](int64_t sent) {
        if (sent <= reported) return;
        reported = sent;
        progress(sent, size);
      };
    }
    put(handle.get(), target, {}, body, digests, hooks);
    if (progress && reported < size) progress(size, size);
  }

  void upload_multipart(const FileDescriptor& file, int64_t size, const std::string& local_path,
                        const Target& target, const ByteProgress& progress) const {
    const int64_t part_size = std::max(options.part_size, (size + kMaxParts - 1) / kMaxParts);
    const int part_count = static_cast<int>((size + part_size - 1) / part_size);
    const CurlEasy handle = detail::make_curl_easy();

    const Target create_target{"multipart upload start", target.bucket, target.key};
    const Response created = execute(handle.get(), create_target,
                                     request("POST", target.bucket, target.key, "uploads=", kEmptySha256,
                                             {"Content-Type: application/octet-stream"}),
                                     nullptr);
    if (!created.ok()) fail_with(create_target, created);
    const std::string upload_id = xml_value(created.body, "UploadId");
    if (upload_id.empty()) {
      fail(fmt::format("S3 multipart upload start of {} returned no UploadId", target.uri()),
           "the endpoint may not support multipart uploads; raise the multipart threshold");
    }
    const std::string encoded_id = detail::uri_encode(upload_id, false);

    try {
      const std::vector<std::string> etags = upload_parts(file, size, part_size, part_count, local_path, target,
                                                          encoded_id, progress);
      std::string document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
      for (int part = 0; part < part_count; ++part) {
        document += fmt::format("<Part><ETag>{}</ETag><PartNumber>{}</PartNumber></Part>",
                                xml_escape(etags[static_cast<size_t>(part)]), part + 1);
      }
      document += "</CompleteMultipartUpload>";
      RequestBody body = RequestBody::memory(document);
      const Target complete_target{"multipart upload completion", target.bucket, target.key};
      const Response completed = execute(handle.get(), complete_target,
                                         request("POST", target.bucket, target.key, fmt::format("uploadId={}", encoded_id),
                                                 digest_bytes(document).sha256_hex, {"Content-Type: application/xml"}),
                                         &body);
      if (!completed.ok()) fail_with(complete_target, completed);
    } catch (...) {
      abort_multipart(handle.get(), target, encoded_id);
      throw;
    }
  }

  // Uploads the parts with options.parallel_parts workers, each with its own connection and reading
  // its parts by offset; the first failure stops the others. Returns the ETags in part order.
  std::vector<std::string> upload_parts(const FileDescriptor& file, int64_t size, int64_t part_size, int part_count,
                                        const std::string& local_path, const Target& target,
                                        const std::string& encoded_id, const ByteProgress& progress) const {
    const int workers = std::min(options.parallel_parts, part_count);
    std::vector<std::string> etags(static_cast<size_t>(part_count));
    std::atomic<int> next_part{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::exception_ptr first_error;
    MultipartProgress total_progress(progress, size, workers);

    const auto work = [&](int worker) {
      try {
        const CurlEasy handle = detail::make_curl_easy();
        TransferHooks hooks;
        hooks.cancelled = &failed;
        hooks.upload_progress = [&total_progress, worker](int64_t sent) { total_progress.sending(worker, sent); };
        for (int part = next_part++; part < part_count && !failed.load(); part = next_part++) {
          const int64_t offset = part * part_size;
          const int64_t length = std::min(part_size, size - offset);
          const PayloadDigests digests = digest_file_range(file.get(), offset, length, local_path);
          RequestBody body = RequestBody::file_range(file.get(), offset, length);
          const Target part_target{fmt::format("upload of part {} of {}", part + 1, part_count), target.bucket, target.key};
          const std::string etag = put(handle.get(), part_target,
                                       fmt::format("partNumber={}&uploadId={}", part + 1, encoded_id), body, digests, hooks);
          if (etag.empty()) fail(fmt::format("S3 {} of {} returned no ETag", part_target.operation, target.uri()));
          etags[static_cast<size_t>(part)] = etag;
          total_progress.finished_part(worker, length);
        }
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    };
    std::vector<std::thread> threads;
    for (int worker = 1; worker < workers; ++worker) threads.emplace_back(work, worker);
    work(0);
    for (std::thread& thread : threads) thread.join();
    if (first_error) std::rethrow_exception(first_error);
    return etags;
  }

  // Best effort: a failed upload should not leave parts behind (they cost storage until aborted).
  void abort_multipart(CURL* handle, const Target& target, const std::string& encoded_id) const noexcept {
    try {
      const Target abort_target{"multipart upload abort", target.bucket, target.key};
      execute(handle, abort_target, request("DELETE", target.bucket, target.key, fmt::format("uploadId={}", encoded_id)),
              nullptr, nullptr, {}, std::min(options.max_attempts, kMaxAbortAttempts));
    } catch (...) {
      // The original failure is what the caller needs to see.
    }
  }
};

S3Client::S3Client(S3Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
S3Client::~S3Client() = default;

std::optional<int64_t> S3Client::size_of(const std::string& bucket, const std::string& key) const {
  const CurlEasy handle = detail::make_curl_easy();
  const Target target{"size query", bucket, key};
  const Response response = impl_->execute(handle.get(), target, impl_->request("HEAD", bucket, key), nullptr);
  if (response.ok()) {
    if (!response.headers.content_length) {
      impl_->fail(fmt::format("S3 size query of {} returned no Content-Length", target.uri()));
    }
    return response.headers.content_length;
  }
  if (response.status != 404) impl_->fail_with(target, response);
  // A HEAD response has no body to tell a missing key from a missing bucket; ask about the bucket.
  const Target bucket_target{"bucket query", bucket, ""};
  const Response bucket_response = impl_->execute(handle.get(), bucket_target, impl_->request("HEAD", bucket, ""), nullptr);
  if (bucket_response.status == 404) impl_->fail_missing_bucket(bucket);
  return std::nullopt;
}

void S3Client::download(const std::string& bucket, const std::string& key, const std::string& local_path,
                        const ByteProgress& progress) const {
  FileSink sink(local_path, progress);
  impl_->get(bucket, key, sink);
  sink.commit();
}

void S3Client::upload(const std::string& local_path, const std::string& bucket, const std::string& key,
                      const ByteProgress& progress) const {
  const FileDescriptor file(local_path);
  const int64_t size = file_size(file, local_path);
  const Target target{"upload", bucket, key};
  if (size > 0 && size >= impl_->options.multipart_threshold) {
    impl_->upload_multipart(file, size, local_path, target, progress);
  } else {
    impl_->upload_single(file, size, local_path, target, progress);
  }
}

std::vector<S3Object> S3Client::list(const std::string& bucket, const std::string& prefix) const {
  const CurlEasy handle = detail::make_curl_easy();
  const Target target{"listing", bucket, prefix};
  std::vector<S3Object> objects;
  std::string token;
  while (true) {
    // Query parameters in canonical (sorted) order.
    std::string query;
    if (!token.empty()) query = fmt::format("continuation-token={}&", detail::uri_encode(token, false));
    query += fmt::format("list-type=2&max-keys={}&prefix={}", std::clamp(impl_->options.list_page_keys, 1, 1000),
                         detail::uri_encode(prefix, false));
    TextSink page;
    const Response response = impl_->execute(handle.get(), target, impl_->request("GET", bucket, "", query), nullptr, &page);
    if (!response.ok()) impl_->fail_with(target, response);
    if (page.text.find("<ListBucketResult") == std::string::npos) {
      impl_->fail(fmt::format("S3 listing of {} returned no ListBucketResult", target.uri()),
                  "check that the endpoint is an S3-compatible store");
    }
    append_listed_objects(page.text, objects);
    if (xml_value(page.text, "IsTruncated") != "true") break;
    token = xml_value(page.text, "NextContinuationToken");
    if (token.empty()) {
      impl_->fail(fmt::format("S3 listing of {} is truncated but has no continuation token", target.uri()));
    }
  }
  std::sort(objects.begin(), objects.end(), [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
  return objects;
}

std::string S3Client::get_text(const std::string& bucket, const std::string& key) const {
  TextSink sink;
  impl_->get(bucket, key, sink);
  return std::move(sink.text);
}

void S3Client::put_text(const std::string& bucket, const std::string& key, std::string_view text) const {
  const CurlEasy handle = detail::make_curl_easy();
  RequestBody body = RequestBody::memory(text);
  impl_->put(handle.get(), {"upload", bucket, key}, {}, body, digest_bytes(text), {});
}

}  // namespace cltv::storage
