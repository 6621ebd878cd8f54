// S3 (and S3-compatible) object access over libcurl with AWS Signature V4: credentials and region
// from the environment or the AWS config files, streaming verified downloads, multipart parallel
// uploads, bounded retries with exponential backoff, and errors that name the bucket and key.
// Secrets never appear in messages.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cltv::storage {

struct S3Options {
  // Endpoint override for S3-compatible stores (path-style addressing), e.g.
  // "http://127.0.0.1:4568". Empty: AWS itself (https://BUCKET.s3.REGION.amazonaws.com,
  // virtual-hosted style).
  std::string endpoint;
  int max_attempts = 5;                  // per request, counting the first
  double initial_backoff_seconds = 0.5;  // doubled after each failed attempt, capped at 8 s
  int64_t multipart_threshold = 16 << 20;  // uploads of at least this many bytes go multipart
  int64_t part_size = 8 << 20;             // at least 5 MiB (S3's minimum) except in tests
  int parallel_parts = 4;
  int list_page_keys = 1000;  // keys per listing request (S3 returns at most 1000)
  long connect_timeout_seconds = 10;
  long stall_timeout_seconds = 30;  // abort a transfer slower than 1 KiB/s for this long
};

// The default settings with the endpoint of AWS_ENDPOINT_URL (none when it is unset), read now.
S3Options s3_options_from_environment();

// Bytes done and total (total 0 when unknown).
using ByteProgress = std::function<void(int64_t done, int64_t total)>;

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty when none
  std::string source;         // where they came from, for messages: "environment", "profile 'x' in FILE"
};

// Credentials in the documented order: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, then the AWS_PROFILE (or "default") profile of AWS_SHARED_CREDENTIALS_FILE
// (default ~/.aws/credentials). Config error, without any secret, when none are found.
AwsCredentials resolve_aws_credentials();
// AWS_REGION, AWS_DEFAULT_REGION, then the profile's region in AWS_CONFIG_FILE (default
// ~/.aws/config), then "us-east-1".
std::string resolve_aws_region();

// One object of a listing.
struct S3Object {
  std::string key;
  int64_t size = 0;
};

class S3Client {
 public:
  explicit S3Client(S3Options options = {});
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Object size, or nullopt when the key does not exist (a missing bucket is an io error).
  std::optional<int64_t> size_of(const std::string& bucket, const std::string& key) const;
  // Streams the object to LOCAL_PATH (temporary file, then rename), verifying the size and, for
  // single-part objects, the MD5 ETag. Memory use does not grow with the object.
  void download(const std::string& bucket, const std::string& key, const std::string& local_path,
                const ByteProgress& progress = {}) const;
  // Uploads LOCAL_PATH; multipart with parallel parts from options.multipart_threshold on (aborted
  // on failure, so no partial object becomes visible).
  void upload(const std::string& local_path, const std::string& bucket, const std::string& key,
              const ByteProgress& progress = {}) const;
  // Every object whose key starts with PREFIX, in key order (ListObjectsV2, page after page).
  std::vector<S3Object> list(const std::string& bucket, const std::string& prefix) const;
  std::string get_text(const std::string& bucket, const std::string& key) const;
  void put_text(const std::string& bucket, const std::string& key, std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cltv::storage
