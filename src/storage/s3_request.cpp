// S3 URLs, request bodies and the libcurl setup of one SigV4-signed request (see s3_request.h).
#include "s3_request.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "cltv/error.h"

namespace cltv::storage::detail {

void initialize_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw_internal("curl_global_init failed");
  });
}

CurlEasy make_curl_easy() {
  initialize_curl();
  CurlEasy handle(curl_easy_init());
  if (!handle) throw_internal("curl_easy_init failed");
  return handle;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string encoded;
  encoded.reserve(text.size());
  for (const char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      encoded += c;
    } else {
      encoded += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return encoded;
}

std::string S3Endpoint::url(const std::string& bucket, const std::string& key,
                            const std::string& canonical_query) const {
  const std::string key_path = key.empty() ? std::string() : fmt::format("/{}", uri_encode(key, true));
  std::string result;
  if (!base_url.empty()) {
    result = fmt::format("{}/{}{}", base_url, uri_encode(bucket, false), key_path);
  } else if (bucket.find('.') != std::string::npos) {
    result = fmt::format("https://s3.{}.amazonaws.com/{}{}", region, uri_encode(bucket, false), key_path);
  } else {
    result = fmt::format("https://{}.s3.{}.amazonaws.com{}", bucket, region, key_path.empty() ? "/" : key_path);
  }
  if (!canonical_query.empty()) result.append("?").append(canonical_query);
  return result;
}

std::string S3Endpoint::host(const std::string& bucket) const {
  if (base_url.empty()) {
    return bucket.find('.') != std::string::npos ? fmt::format("s3.{}.amazonaws.com", region)
                                                 : fmt::format("{}.s3.{}.amazonaws.com", bucket, region);
  }
  const auto scheme_end = base_url.find("://");
  std::string rest = scheme_end == std::string::npos ? base_url : base_url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  return rest.substr(rest.rfind('@') + 1);  // never the user information
}

RequestBody RequestBody::memory(std::string_view bytes) {
  RequestBody body;
  body.bytes_ = bytes;
  body.length_ = static_cast<int64_t>(bytes.size());
  return body;
}

RequestBody RequestBody::file_range(int file_descriptor, int64_t offset, int64_t length) {
  RequestBody body;
  body.file_descriptor_ = file_descriptor;
  body.offset_ = offset;
  body.length_ = length;
  return body;
}

size_t RequestBody::read_callback(char* buffer, size_t size, size_t count, void* body_pointer) {
  auto& body = *static_cast<RequestBody*>(body_pointer);
  const size_t wanted = std::min(size * count, static_cast<size_t>(body.length_ - body.position_));
  if (wanted == 0) return 0;
  if (body.file_descriptor_ < 0) {
    std::copy_n(body.bytes_.data() + body.position_, wanted, buffer);
    body.position_ += static_cast<int64_t>(wanted);
    return wanted;
  }
  ssize_t got = 0;
  do {
    got = ::pread(body.file_descriptor_, buffer, wanted, body.offset_ + body.position_);
  } while (got < 0 && errno == EINTR);
  // A file that shrank while being sent is as fatal as a read error.
  if (got <= 0) return CURL_READFUNC_ABORT;
  body.position_ += got;
  return static_cast<size_t>(got);
}

CurlList configure_signed_request(CURL* handle, const SignedRequest& request, RequestBody* body,
                                  const AwsCredentials& credentials, const std::string& region) {
  curl_easy_reset(handle);
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");

  const std::string sigv4 = fmt::format("aws:amz:{}:s3", region);
  curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, sigv4.c_str());  // libcurl copies option strings
  curl_easy_setopt(handle, CURLOPT_USERNAME, credentials.access_key_id.c_str());
  curl_easy_setopt(handle, CURLOPT_PASSWORD, credentials.secret_access_key.c_str());

  const int64_t body_size = body == nullptr ? 0 : body->size();
  if (body != nullptr) {
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, &RequestBody::read_callback);
    curl_easy_setopt(handle, CURLOPT_READDATA, body);
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (request.method == "POST") {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (request.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  const auto append = [&headers](const std::string& header) {
    curl_slist* extended = curl_slist_append(headers, header.c_str());
    if (extended == nullptr) {
      curl_slist_free_all(headers);
      throw_internal("curl_slist_append failed");
    }
    headers = extended;
  };
  append(fmt::format("x-amz-content-sha256: {}", request.payload_sha256));
  if (!credentials.session_token.empty()) {
    append(fmt::format("x-amz-security-token: {}", credentials.session_token));
  }
  for (const std::string& header : request.headers) append(header);
  CurlList list(headers);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list.get());
  return list;
}

}  // namespace cltv::storage::detail
