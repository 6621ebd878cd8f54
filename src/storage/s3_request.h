// Private building blocks of the S3 client: libcurl handle ownership, S3 URLs with canonical
// (SigV4-ready) paths and queries, request bodies read by libcurl, and the setup of one request
// signed by libcurl's built-in AWS Signature V4. Separate from s3_client.cpp so tests can check
// the signing against AWS's published examples.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/storage/s3.h"

namespace cltv::storage::detail {

// curl_global_init, once per process.
void initialize_curl();

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
CurlEasy make_curl_easy();

struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

// SigV4 URI encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) kept, everything else %XX
// (uppercase hex); '/' kept when KEEP_SLASH (object key paths) and encoded otherwise (query values).
std::string uri_encode(std::string_view text, bool keep_slash);

// Where requests go: an endpoint with path-style addressing, or AWS itself.
struct S3Endpoint {
  std::string base_url;  // "http://127.0.0.1:4568" (no trailing '/'); empty: AWS
  std::string region;

  // The URL of BUCKET/KEY (KEY empty: the bucket itself) with CANONICAL_QUERY (already sorted and
  // encoded, e.g. "partNumber=1&uploadId=abc", "" for none). Path-style with an endpoint or for
  // bucket names containing dots (TLS wildcard certificates), else virtual-hosted.
  std::string url(const std::string& bucket, const std::string& key, const std::string& canonical_query = {}) const;
  // Host (and port) for messages, e.g. "127.0.0.1:4568" or "bucket.s3.eu-west-1.amazonaws.com".
  std::string host(const std::string& bucket) const;
};

// A request body read by libcurl: nothing, bytes in memory, or a byte range of an open file (read
// with pread, so several bodies can share one file descriptor).
class RequestBody {
 public:
  static RequestBody none() { return RequestBody(); }
  static RequestBody memory(std::string_view bytes);
  static RequestBody file_range(int file_descriptor, int64_t offset, int64_t length);

  int64_t size() const { return length_; }
  void rewind() { position_ = 0; }
  // libcurl CURLOPT_READFUNCTION with this body as CURLOPT_READDATA.
  static size_t read_callback(char* buffer, size_t size, size_t count, void* body);

 private:
  RequestBody() = default;
  std::string_view bytes_;
  int file_descriptor_ = -1;
  int64_t offset_ = 0;
  int64_t length_ = 0;
  int64_t position_ = 0;
};

struct SignedRequest {
  std::string method;                // GET, HEAD, PUT, POST or DELETE
  std::string url;                   // from S3Endpoint::url
  std::string payload_sha256;        // lowercase hex SHA-256 of the body
  std::vector<std::string> headers;  // further "Name: value" headers; all are signed
};

// Resets HANDLE and sets it up to send REQUEST with BODY (may be null for none), signed with SigV4
// for REGION by libcurl: method, URL (sent as written: no dot-segment normalisation), the
// x-amz-content-sha256 and x-amz-security-token headers, credentials, and no signals (threads).
// Returns the header list, which must outlive the transfer. Timeouts and callbacks are the
// caller's.
CurlList configure_signed_request(CURL* handle, const SignedRequest& request, RequestBody* body,
                                  const AwsCredentials& credentials, const std::string& region);

}  // namespace cltv::storage::detail
