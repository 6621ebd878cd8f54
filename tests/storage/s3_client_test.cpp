// S3 client: SigV4 signing checked against AWS's published examples (on a loopback listener),
// round trips and AWS CLI interoperability against the shared S3-compatible server, errors that
// name the bucket and key without secrets, and bounded retries (fake servers, a killed server).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cltv/sha256.h"
#include "cltv/storage/s3.h"
#include "storage/s3_request.h"
#include "support/s3_server.h"
#include "support/test_support.h"

namespace cltv::storage {
namespace {

using test::kTestBucket;
using test::ScopedEnv;
using test::TempDir;
using Clock = std::chrono::steady_clock;

// AWS's SigV4 examples for S3 ("Signature Calculations for the Authorization Header: Transferring
// Payload in a Single Chunk"): their credentials, time, bucket and empty-payload hash.
const AwsCredentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "",
                                         "test"};
constexpr const char* kExampleHost = "examplebucket.s3.amazonaws.com";
constexpr const char* kExampleDate = "x-amz-date: 20130524T000000Z";
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kExampleCredentialScope = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

// The value of header NAME in the raw request head, or "" (names compared case-insensitively).
std::string header_value(const std::string& head, const std::string& name) {
  std::string lower_head = head, lower_name = "\r\n" + name + ":";
  for (std::string* text : {&lower_head, &lower_name}) {
    for (char& c : *text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto at = lower_head.find(lower_name);
  if (at == std::string::npos) return {};
  const auto start = head.find_first_not_of(' ', at + lower_name.size());
  return head.substr(start, head.find("\r\n", start) - start);
}

// The part of an Authorization header value after "FIELD=" up to the next ',' (e.g. Signature).
std::string authorization_field(const std::string& authorization, const std::string& field) {
  const auto at = authorization.find(field + "=");
  if (at == std::string::npos) return {};
  const auto start = at + field.size() + 1;
  return authorization.substr(start, authorization.find(',', start) - start);
}

std::string http_reply(const std::string& status, const std::string& body, const std::string& headers = {}) {
  return fmt::format("HTTP/1.1 {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}", status, body.size(),
                     headers, body);
}

// A one-connection-at-a-time HTTP server on a loopback port: reads each request (head and
// Content-Length body, answering "Expect: 100-continue"), records it, sends what REPLY returns
// for the Nth request (0-based), and closes the connection.
class FakeHttpServer {
 public:
  using Reply = std::function<std::string(int index, const std::string& request)>;

  explicit FakeHttpServer(Reply reply) : reply_(std::move(reply)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("fake HTTP server cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeHttpServer() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
  }
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, 20) <= 0) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      answer(client);
      ::close(client);
    }
  }

  void answer(int client) {
    timeval timeout{5, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string request;
    char buffer[65536];
    size_t head_end = std::string::npos;
    while ((head_end = request.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t got = ::recv(client, buffer, sizeof(buffer), 0);
      if (got <= 0) return;
      request.append(buffer, static_cast<size_t>(got));
    }
    const std::string head = request.substr(0, head_end + 4);
    if (header_value(head, "Expect") == "100-continue") send_all(client, "HTTP/1.1 100 Continue\r\n\r\n");
    const std::string length_text = header_value(head, "Content-Length");
    const size_t body_length = length_text.empty() ? 0 : std::stoul(length_text);
    while (request.size() < head.size() + body_length) {
      const ssize_t got = ::recv(client, buffer, sizeof(buffer), 0);
      if (got <= 0) return;
      request.append(buffer, static_cast<size_t>(got));
    }
    int index = 0;
    {
      std::lock_guard lock(mutex_);
      index = static_cast<int>(requests_.size());
      requests_.push_back(request);
    }
    send_all(client, reply_(index, request));
  }

  static void send_all(int client, const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(client, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  Reply reply_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// Sends REQUEST (addressed to examplebucket.s3.amazonaws.com) to a loopback listener through
// CURLOPT_CONNECT_TO and returns the head of the request it received.
std::string send_example_request(const detail::SignedRequest& request, detail::RequestBody* body = nullptr,
                                 const AwsCredentials& credentials = kExampleCredentials) {
  FakeHttpServer listener([](int, const std::string&) { return http_reply("200 OK", ""); });
  const detail::CurlEasy handle = detail::make_curl_easy();
  const detail::CurlList headers = detail::configure_signed_request(handle.get(), request, body, credentials, "us-east-1");
  const detail::CurlList connect_to(
      curl_slist_append(nullptr, fmt::format("{}:80:127.0.0.1:{}", kExampleHost, listener.port()).c_str()));
  curl_easy_setopt(handle.get(), CURLOPT_CONNECT_TO, connect_to.get());
  EXPECT_EQ(curl_easy_perform(handle.get()), CURLE_OK);
  const std::vector<std::string> received = listener.requests();
  if (received.size() != 1) {
    ADD_FAILURE() << "listener received " << received.size() << " requests";
    return {};
  }
  return received[0].substr(0, received[0].find("\r\n\r\n") + 4);
}

TEST(S3Signing, GetObjectWithRangeMatchesTheAwsExample) {
  const std::string head = send_example_request(
      {"GET", fmt::format("http://{}/test.txt", kExampleHost), kEmptySha256, {"Range: bytes=0-9", kExampleDate}});
  ASSERT_TRUE(head.starts_with("GET /test.txt HTTP/1.1\r\n")) << head;
  const std::string authorization = header_value(head, "Authorization");
  EXPECT_TRUE(authorization.starts_with("AWS4-HMAC-SHA256 ")) << authorization;
  EXPECT_EQ(authorization_field(authorization, "Credential"), kExampleCredentialScope);
  EXPECT_EQ(authorization_field(authorization, "SignedHeaders"), "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(authorization_field(authorization, "Signature"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(header_value(head, "x-amz-content-sha256"), kEmptySha256);
}

TEST(S3Signing, PutObjectMatchesTheAwsExample) {
  const std::string payload = "Welcome to Amazon S3.";
  ASSERT_EQ(sha256_hex(payload), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  detail::RequestBody body = detail::RequestBody::memory(payload);
  const std::string head = send_example_request(
      {"PUT", fmt::format("http://{}/{}", kExampleHost, detail::uri_encode("test$file.text", true)), sha256_hex(payload),
       {"Date: Fri, 24 May 2013 00:00:00 GMT", kExampleDate, "x-amz-storage-class: REDUCED_REDUNDANCY"}},
      &body);
  ASSERT_TRUE(head.starts_with("PUT /test%24file.text HTTP/1.1\r\n")) << head;
  const std::string authorization = header_value(head, "Authorization");
  EXPECT_EQ(authorization_field(authorization, "SignedHeaders"),
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(authorization_field(authorization, "Signature"),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(header_value(head, "Content-Length"), "21");
}

TEST(S3Signing, GetBucketLifecycleQueryMatchesTheAwsExample) {
  const std::string head =
      send_example_request({"GET", fmt::format("http://{}/?lifecycle=", kExampleHost), kEmptySha256, {kExampleDate}});
  ASSERT_TRUE(head.starts_with("GET /?lifecycle= HTTP/1.1\r\n")) << head;
  const std::string authorization = header_value(head, "Authorization");
  EXPECT_EQ(authorization_field(authorization, "SignedHeaders"), "host;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(authorization_field(authorization, "Signature"),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(S3Signing, ListObjectsQueryMatchesTheAwsExample) {
  const std::string head = send_example_request(
      {"GET", fmt::format("http://{}/?max-keys=2&prefix=J", kExampleHost), kEmptySha256, {kExampleDate}});
  const std::string authorization = header_value(head, "Authorization");
  EXPECT_EQ(authorization_field(authorization, "Credential"), kExampleCredentialScope);
  EXPECT_EQ(authorization_field(authorization, "Signature"),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3Signing, SessionTokenIsSentAndSigned) {
  AwsCredentials credentials = kExampleCredentials;
  credentials.session_token = "example-session-token";
  const std::string head = send_example_request(
      {"GET", fmt::format("http://{}/test.txt", kExampleHost), kEmptySha256, {kExampleDate}}, nullptr, credentials);
  EXPECT_EQ(header_value(head, "x-amz-security-token"), "example-session-token");
  EXPECT_EQ(authorization_field(header_value(head, "Authorization"), "SignedHeaders"),
            "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
}

TEST(S3Url, UriEncodingKeepsUnreservedCharactersAndOptionallySlashes) {
  // "é" is UTF-8 C3 A9.
  EXPECT_EQ(detail::uri_encode("a b/c+d=\xC3\xA9~_-.$", true), "a%20b/c%2Bd%3D%C3%A9~_-.%24");
  EXPECT_EQ(detail::uri_encode("a b/c+d=\xC3\xA9~_-.$", false), "a%20b%2Fc%2Bd%3D%C3%A9~_-.%24");
}

TEST(S3Url, PathStyleWithAnEndpointVirtualHostedOnAws) {
  const detail::S3Endpoint local{"http://127.0.0.1:4568", "us-east-1"};
  EXPECT_EQ(local.url("cltv-test", "runs/a b.json"), "http://127.0.0.1:4568/cltv-test/runs/a%20b.json");
  EXPECT_EQ(local.url("cltv-test", "k", "partNumber=2&uploadId=x%2By"),
            "http://127.0.0.1:4568/cltv-test/k?partNumber=2&uploadId=x%2By");
  EXPECT_EQ(local.url("cltv-test", ""), "http://127.0.0.1:4568/cltv-test");
  EXPECT_EQ(local.host("cltv-test"), "127.0.0.1:4568");

  const detail::S3Endpoint aws{"", "eu-west-1"};
  EXPECT_EQ(aws.url("examplebucket", "test$file.text"), "https://examplebucket.s3.eu-west-1.amazonaws.com/test%24file.text");
  EXPECT_EQ(aws.url("examplebucket", "", "uploads="), "https://examplebucket.s3.eu-west-1.amazonaws.com/?uploads=");
  EXPECT_EQ(aws.url("my.dotted.bucket", "k"), "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
  EXPECT_EQ(aws.host("examplebucket"), "examplebucket.s3.eu-west-1.amazonaws.com");
}

// Options for tests: few attempts, short backoff, short timeouts.
S3Options test_options(const std::string& endpoint) {
  S3Options options;
  options.endpoint = endpoint;
  options.max_attempts = 3;
  options.initial_backoff_seconds = 0.05;
  options.connect_timeout_seconds = 2;
  options.stall_timeout_seconds = 5;
  return options;
}

// A key no other test (or test process) uses.
std::string unique_key(const std::string& name) {
  static std::atomic<int> counter{0};
  return fmt::format("tests/{}-{}-{}/{}", ::getpid(), Clock::now().time_since_epoch().count(), counter++, name);
}

std::string random_bytes(size_t size, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = generator();
    for (size_t j = 0; j < 8 && i + j < size; ++j) bytes[i + j] = static_cast<char>(word >> (8 * j));
  }
  return bytes;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }


// Uploads SIZE random bytes and downloads them again, comparing byte for byte; checks progress.
void expect_round_trip(const std::string& endpoint, size_t size, const S3Options& base_options) {
  const ScopedEnv credentials = test::s3rver_credentials();
  TempDir dir;
  const std::string data = random_bytes(size, size + 1);
  const std::string source = dir.write("source.bin", data);
  S3Options options = base_options;
  options.endpoint = endpoint;
  const S3Client client(options);
  const std::string key = unique_key("round-trip.bin");

  int64_t last_done = -1;
  bool monotonic = true;
  const ByteProgress progress = [&](int64_t done, int64_t total) {
    monotonic = monotonic && done >= last_done && total == static_cast<int64_t>(size);
    last_done = done;
  };
  const auto upload_start = Clock::now();
  client.upload(source, kTestBucket, key, progress);
  const double upload_seconds = seconds_since(upload_start);
  EXPECT_TRUE(monotonic);
  if (size > 0) {
    EXPECT_EQ(last_done, static_cast<int64_t>(size));
  }
  EXPECT_EQ(client.size_of(kTestBucket, key), std::optional<int64_t>(static_cast<int64_t>(size)));

  const auto download_start = Clock::now();
  client.download(kTestBucket, key, dir.path("copy.bin"));
  const double download_seconds = seconds_since(download_start);
  const std::string copy = test::read_file(dir.path("copy.bin"));
  EXPECT_EQ(copy.size(), size);
  EXPECT_TRUE(copy == data) << "downloaded bytes differ from the uploaded ones";
  std::printf("[ timing   ] %zu bytes: upload %.2f s, download %.2f s\n", size, upload_seconds, download_seconds);
}

TEST(S3RoundTrip, EmptyObject) {
  CLTV_S3_ENDPOINT(endpoint);
  expect_round_trip(endpoint, 0, test_options(endpoint));
}

TEST(S3RoundTrip, OneByte) {
  CLTV_S3_ENDPOINT(endpoint);
  expect_round_trip(endpoint, 1, test_options(endpoint));
}

TEST(S3RoundTrip, FiveMegabytesInOnePut) {
  CLTV_S3_ENDPOINT(endpoint);
  expect_round_trip(endpoint, 5 << 20, test_options(endpoint));
}

TEST(S3RoundTrip, FiftyMegabytesMultipartInParallel) {
  CLTV_S3_ENDPOINT(endpoint);
  S3Options options = test_options(endpoint);
  options.multipart_threshold = 8 << 20;
  options.part_size = 6 << 20;  // 9 parts, the last one short
  options.parallel_parts = 3;
  expect_round_trip(endpoint, (50 << 20) + 12345, options);
}

TEST(S3RoundTrip, TextWithAKeyNeedingEncoding) {
  CLTV_S3_ENDPOINT(endpoint);
  const ScopedEnv credentials = test::s3rver_credentials();
  const S3Client client(test_options(endpoint));
  const std::string key = unique_key("dir/sub dir/na\xC3\xAFve+plus=eq&amp$.json");
  client.put_text(kTestBucket, key, "{\"pointer\": 1}\n");
  EXPECT_EQ(client.get_text(kTestBucket, key), "{\"pointer\": 1}\n");
  client.put_text(kTestBucket, key, "replaced");
  EXPECT_EQ(client.get_text(kTestBucket, key), "replaced");
}

// Runs /usr/bin/aws (not whichever `aws` comes first on PATH) against ENDPOINT; its exit status.
int run_aws_cli(const std::string& endpoint, const std::vector<std::string>& arguments) {
  std::string command = fmt::format("/usr/bin/aws --endpoint-url '{}'", endpoint);
  for (const std::string& argument : arguments) command += fmt::format(" '{}'", argument);
  command += " >/dev/null 2>&1";
  return std::system(command.c_str());
}

#define CLTV_REQUIRE_AWS_CLI()                                                           \
  if (!std::filesystem::exists("/usr/bin/aws")) {                                        \
    if (test::running_in_ci()) FAIL() << "/usr/bin/aws missing under CI=true";          \
    GTEST_SKIP() << "/usr/bin/aws (Debian awscli) not installed; run scripts/setup";     \
  }

TEST(S3AwsCli, ObjectsWrittenByCltvAreReadByTheAwsCli) {
  CLTV_S3_ENDPOINT(endpoint);
  CLTV_REQUIRE_AWS_CLI();
  const ScopedEnv credentials = test::s3rver_credentials();
  TempDir dir;
  const S3Client client(test_options(endpoint));
  const std::string data = random_bytes(300000, 7);
  const std::string key = unique_key("written by cltv.bin");
  client.upload(dir.write("source.bin", data), kTestBucket, key);
  ASSERT_EQ(run_aws_cli(endpoint, {"s3", "cp", fmt::format("s3://{}/{}", kTestBucket, key), dir.path("aws.bin")}), 0);
  EXPECT_TRUE(test::read_file(dir.path("aws.bin")) == data);
}

TEST(S3AwsCli, ObjectsWrittenByTheAwsCliAreReadByCltv) {
  CLTV_S3_ENDPOINT(endpoint);
  CLTV_REQUIRE_AWS_CLI();
  const ScopedEnv credentials = test::s3rver_credentials();
  TempDir dir;
  const S3Client client(test_options(endpoint));
  // 20 MB: the CLI uploads it in parts (8 MB by default), so its ETag is no MD5 ("...-3").
  for (const size_t size : {size_t{123457}, size_t{20} << 20}) {
    const std::string data = random_bytes(size, size);
    const std::string key = unique_key(fmt::format("written by aws {}.bin", size));
    ASSERT_EQ(run_aws_cli(endpoint, {"s3", "cp", dir.write("source.bin", data), fmt::format("s3://{}/{}", kTestBucket, key)}), 0);
    EXPECT_EQ(client.size_of(kTestBucket, key), std::optional<int64_t>(static_cast<int64_t>(size)));
    client.download(kTestBucket, key, dir.path("cltv.bin"));
    EXPECT_TRUE(test::read_file(dir.path("cltv.bin")) == data) << size << " bytes";
  }
}

TEST(S3Head, SizeOfPresentAndMissingKeys) {
  CLTV_S3_ENDPOINT(endpoint);
  const ScopedEnv credentials = test::s3rver_credentials();
  const S3Client client(test_options(endpoint));
  const std::string key = unique_key("sized.txt");
  client.put_text(kTestBucket, key, "twelve bytes");
  EXPECT_EQ(client.size_of(kTestBucket, key), std::optional<int64_t>(12));
  EXPECT_EQ(client.size_of(kTestBucket, key + ".missing"), std::nullopt);
}

TEST(S3List, PagesThroughEveryKeyUnderThePrefixUnescaped) {
  CLTV_S3_ENDPOINT(endpoint);
  const ScopedEnv credentials = test::s3rver_credentials();
  S3Options options = test_options(endpoint);
  options.list_page_keys = 2;  // five objects: three pages
  const S3Client client(options);
  const std::string prefix = unique_key("listed/");
  const std::vector<std::string> names = {"a&b.csv", "c <d>.csv", "e \"f\" 'g'.csv", "sub/한.csv", "z.csv"};
  for (size_t i = 0; i < names.size(); ++i) client.put_text(kTestBucket, prefix + names[i], std::string(i, 'x'));
  client.put_text(kTestBucket, prefix.substr(0, prefix.size() - 1) + "-not-under/x.csv", "x");

  const std::vector<S3Object> objects = client.list(kTestBucket, prefix);
  ASSERT_EQ(objects.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(objects[i].key, prefix + names[i]);
    EXPECT_EQ(objects[i].size, static_cast<int64_t>(i));
  }
  EXPECT_TRUE(client.list(kTestBucket, prefix + "none/").empty());
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { client.list("cltv-no-such-bucket", "a/"); }, &message), ErrorKind::io);
  EXPECT_NE(message.find("bucket 'cltv-no-such-bucket' does not exist"), std::string::npos) << message;
}

TEST(S3Errors, MissingBucketIsAnIoErrorNamingTheBucket) {
  CLTV_S3_ENDPOINT(endpoint);
  const ScopedEnv credentials = test::s3rver_credentials();
  const S3Client client(test_options(endpoint));
  for (const auto& action : std::vector<std::function<void()>>{
           [&] { client.get_text("cltv-no-such-bucket", "a/key.txt"); },
           [&] { client.size_of("cltv-no-such-bucket", "a/key.txt"); },
           [&] { client.put_text("cltv-no-such-bucket", "a/key.txt", "x"); }}) {
    std::string message;
    EXPECT_EQ(test::error_kind_of(action, &message), ErrorKind::io);
    EXPECT_NE(message.find("bucket 'cltv-no-such-bucket' does not exist"), std::string::npos) << message;
  }
}

TEST(S3Errors, MissingKeyIsAnIoErrorNamingTheKeyAndLeavesNoFile) {
  CLTV_S3_ENDPOINT(endpoint);
  const ScopedEnv credentials = test::s3rver_credentials();
  TempDir dir;
  const S3Client client(test_options(endpoint));
  const std::string key = unique_key("absent.csv");
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { client.download(kTestBucket, key, dir.path("absent.csv")); }, &message),
            ErrorKind::io);
  EXPECT_NE(message.find(fmt::format("s3://{}/{} does not exist", kTestBucket, key)), std::string::npos) << message;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path("")));
  EXPECT_EQ(test::error_kind_of([&] { client.get_text(kTestBucket, key); }), ErrorKind::io);
}

TEST(S3Errors, UnknownAccessKeyIsAccessDeniedWithoutTheSecret) {
  CLTV_S3_ENDPOINT(endpoint);
  const ScopedEnv env{{"AWS_ACCESS_KEY_ID", "AKIDNOTKNOWNTOS3RVER"},
                      {"AWS_SECRET_ACCESS_KEY", "very-secret-value-42"},
                      {"AWS_SESSION_TOKEN", "very-secret-token-43"},
                      {"AWS_REGION", "us-east-1"}};
  TempDir dir;
  const S3Client client(test_options(endpoint));
  const std::string key = unique_key("denied.txt");
  const std::string source = dir.write("source.txt", "data");
  for (const auto& action : std::vector<std::function<void()>>{[&] { client.get_text(kTestBucket, key); },
                                                               [&] { client.upload(source, kTestBucket, key); },
                                                               [&] { client.size_of(kTestBucket, key); }}) {
    try {
      action();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string text = std::string(e.what()) + "\n" + e.hint();
      EXPECT_EQ(e.kind(), ErrorKind::io);
      EXPECT_NE(text.find(fmt::format("access denied to s3://{}/{}", kTestBucket, key)), std::string::npos) << text;
      EXPECT_NE(text.find("environment"), std::string::npos) << text;
      EXPECT_EQ(text.find("very-secret-value-42"), std::string::npos) << text;
      EXPECT_EQ(text.find("very-secret-token-43"), std::string::npos) << text;
    }
  }
  std::string message;
  test::error_kind_of([&] { client.get_text(kTestBucket, key); }, &message);
  EXPECT_NE(message.find("InvalidAccessKeyId"), std::string::npos) << message;
}

std::string request_line(const std::string& request) { return request.substr(0, request.find("\r\n")); }
std::string request_body(const std::string& request) { return request.substr(request.find("\r\n\r\n") + 4); }

// Options that make a 3500-byte file a 4-part upload (S3's 5 MiB minimum does not apply here).
S3Options tiny_multipart_options(const std::string& endpoint) {
  S3Options options = test_options(endpoint);
  options.multipart_threshold = 1000;
  options.part_size = 1000;
  options.parallel_parts = 2;
  return options;
}

// Answers like S3 for a multipart upload with the UploadId "up/id+1" (which needs encoding);
// parts numbered FAILING_PART get 403 AccessDenied.
FakeHttpServer::Reply multipart_replies(int failing_part = 0) {
  return [failing_part](int, const std::string& request) {
    const std::string line = request_line(request);
    if (line.starts_with("POST /bucket/big.bin?uploads= ")) {
      return http_reply("200 OK", "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>big.bin</Key>"
                                  "<UploadId>up/id+1</UploadId></InitiateMultipartUploadResult>");
    }
    if (line.starts_with("PUT /bucket/big.bin?partNumber=")) {
      const int part = std::stoi(line.substr(line.find('=') + 1));
      if (part == failing_part) {
        return http_reply("403 Forbidden", "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
      }
      return http_reply("200 OK", "", fmt::format("ETag: \"etag-{}\"\r\n", part));
    }
    if (line.starts_with("POST /bucket/big.bin?uploadId=up%2Fid%2B1 ")) {
      return http_reply("200 OK", "<CompleteMultipartUploadResult><ETag>\"whole-4\"</ETag></CompleteMultipartUploadResult>");
    }
    if (line.starts_with("DELETE /bucket/big.bin?uploadId=up%2Fid%2B1 ")) return http_reply("204 No Content", "");
    return http_reply("400 Bad Request", "<Error><Code>Unexpected</Code></Error>");
  };
}

TEST(S3Multipart, RequestsFollowTheMultipartProtocol) {
  const ScopedEnv credentials = test::s3rver_credentials();
  FakeHttpServer server(multipart_replies());
  TempDir dir;
  const std::string data = random_bytes(3500, 11);
  S3Client(tiny_multipart_options(server.endpoint())).upload(dir.write("big.bin", data), "bucket", "big.bin");

  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_TRUE(request_line(requests.front()).starts_with("POST /bucket/big.bin?uploads= "));
  std::vector<std::string> parts(4);
  for (size_t i = 1; i <= 4; ++i) {
    const std::string line = request_line(requests[i]);
    ASSERT_TRUE(line.starts_with("PUT /bucket/big.bin?partNumber=")) << line;
    const int part = std::stoi(line.substr(line.find('=') + 1));
    ASSERT_TRUE(part >= 1 && part <= 4) << line;
    EXPECT_NE(line.find(fmt::format("?partNumber={}&uploadId=up%2Fid%2B1 ", part)), std::string::npos) << line;
    const std::string body = request_body(requests[i]);
    EXPECT_EQ(header_value(requests[i], "x-amz-content-sha256"), sha256_hex(body));
    EXPECT_EQ(header_value(requests[i], "Content-MD5").size(), 24u);  // base64 of 16 bytes
    parts[static_cast<size_t>(part - 1)] = body;
  }
  EXPECT_TRUE(parts[0] + parts[1] + parts[2] + parts[3] == data);
  EXPECT_EQ(parts[3].size(), 500u);

  const std::string& complete = requests.back();
  EXPECT_TRUE(request_line(complete).starts_with("POST /bucket/big.bin?uploadId=up%2Fid%2B1 "));
  EXPECT_EQ(header_value(complete, "x-amz-content-sha256"), sha256_hex(request_body(complete)));
  std::string expected_parts;
  for (int part = 1; part <= 4; ++part) {
    expected_parts += fmt::format("<Part><ETag>\"etag-{}\"</ETag><PartNumber>{}</PartNumber></Part>", part, part);
  }
  EXPECT_NE(request_body(complete).find(expected_parts), std::string::npos) << request_body(complete);
}

TEST(S3Multipart, FailedPartAbortsTheUpload) {
  const ScopedEnv credentials = test::s3rver_credentials();
  FakeHttpServer server(multipart_replies(3));
  TempDir dir;
  std::string message;
  EXPECT_EQ(test::error_kind_of(
                [&] {
                  S3Client(tiny_multipart_options(server.endpoint()))
                      .upload(dir.write("big.bin", random_bytes(3500, 12)), "bucket", "big.bin");
                },
                &message),
            ErrorKind::io);
  EXPECT_NE(message.find("access denied to s3://bucket/big.bin (AccessDenied)"), std::string::npos) << message;
  const std::vector<std::string> requests = server.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_TRUE(request_line(requests.back()).starts_with("DELETE /bucket/big.bin?uploadId=up%2Fid%2B1 "))
      << request_line(requests.back());
  for (const std::string& request : requests) {
    EXPECT_FALSE(request_line(request).starts_with("POST /bucket/big.bin?uploadId=")) << "completed anyway";
  }
}

// A loopback port with nothing listening on it.
int unused_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(socket_fd);
  return ntohs(address.sin_port);
}

TEST(S3Retries, UnreachableEndpointFailsAfterMaxAttempts) {
  const ScopedEnv credentials = test::s3rver_credentials();
  const int port = unused_port();
  const S3Client client(test_options(fmt::format("http://127.0.0.1:{}", port)));
  const auto start = Clock::now();
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { client.get_text("bucket", "some/key"); }, &message), ErrorKind::io);
  EXPECT_LT(seconds_since(start), 5.0);
  EXPECT_NE(message.find("s3://bucket/some/key"), std::string::npos) << message;
  EXPECT_NE(message.find(fmt::format("127.0.0.1:{}", port)), std::string::npos) << message;
  EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
}

TEST(S3Retries, ServiceUnavailableTwiceThenSuccess) {
  const ScopedEnv credentials = test::s3rver_credentials();
  // 5d41402abc4b2a76b9719d911017c592 is the MD5 of "hello" (RFC 1321 test suites list it).
  FakeHttpServer server([](int index, const std::string&) {
    if (index < 2) {
      return http_reply("503 Service Unavailable", "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>");
    }
    return http_reply("200 OK", "hello", "ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n");
  });
  const S3Client client(test_options(server.endpoint()));
  EXPECT_EQ(client.get_text("bucket", "greeting.txt"), "hello");
  const std::vector<std::string> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const std::string& request : requests) EXPECT_TRUE(request.starts_with("GET /bucket/greeting.txt HTTP/1.1\r\n"));
}

TEST(S3Retries, PersistentThrottlingNamesTheLastError) {
  const ScopedEnv credentials = test::s3rver_credentials();
  FakeHttpServer server([](int, const std::string&) {
    return http_reply("503 Service Unavailable", "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>");
  });
  const S3Client client(test_options(server.endpoint()));
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { client.put_text("bucket", "k", "x"); }, &message), ErrorKind::io);
  EXPECT_NE(message.find("after 3 attempts"), std::string::npos) << message;
  EXPECT_NE(message.find("SlowDown"), std::string::npos) << message;
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(S3Retries, TruncatedDownloadRestartsCleanly) {
  const ScopedEnv credentials = test::s3rver_credentials();
  // fc5e038d38a57032085441e7fe7010b0 is the MD5 of "helloworld".
  FakeHttpServer server([](int index, const std::string&) {
    const std::string headers = "ETag: \"fc5e038d38a57032085441e7fe7010b0\"\r\n";
    if (index == 0) return std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n") + headers + "Connection: close\r\n\r\nhello";
    return http_reply("200 OK", "helloworld", headers);
  });
  TempDir dir;
  const S3Client client(test_options(server.endpoint()));
  client.download("bucket", "data.txt", dir.path("data.txt"));
  EXPECT_EQ(test::read_file(dir.path("data.txt")), "helloworld");
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path("")), std::filesystem::directory_iterator()), 1);
}

TEST(S3Retries, BodyNotMatchingItsMd5EtagIsRejected) {
  const ScopedEnv credentials = test::s3rver_credentials();
  // 7d793037a0760186574b0282f2f435e7 is the MD5 of "world", not of the "hello" sent.
  FakeHttpServer server([](int, const std::string&) {
    return http_reply("200 OK", "hello", "ETag: \"7d793037a0760186574b0282f2f435e7\"\r\n");
  });
  TempDir dir;
  const S3Client client(test_options(server.endpoint()));
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { client.download("bucket", "data.txt", dir.path("data.txt")); }, &message),
            ErrorKind::io);
  EXPECT_NE(message.find("MD5"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir.path("data.txt")));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path("")));
}

TEST(S3Retries, ServerKilledDuringMultipartUploadLeavesNoObject) {
  CLTV_PRIVATE_S3_SERVER(server);
  const ScopedEnv credentials = test::s3rver_credentials();
  TempDir dir;
  S3Options options = test_options(server.endpoint());
  options.multipart_threshold = 5 << 20;
  options.part_size = 5 << 20;
  options.parallel_parts = 2;
  const S3Client client(options);
  const std::string source = dir.write("big.bin", random_bytes(30 << 20, 3));
  const std::string key = unique_key("interrupted.bin");

  std::atomic<bool> killed{false};
  const ByteProgress kill_after_six_megabytes = [&](int64_t done, int64_t) {
    if (done >= (6 << 20) && !killed.exchange(true)) server.stop();
  };
  const auto start = Clock::now();
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { client.upload(source, kTestBucket, key, kill_after_six_megabytes); }, &message),
            ErrorKind::io);
  EXPECT_TRUE(killed.load());
  EXPECT_LT(seconds_since(start), 15.0);
  EXPECT_NE(message.find(fmt::format("s3://{}/{}", kTestBucket, key)), std::string::npos) << message;
  EXPECT_NE(message.find("attempts"), std::string::npos) << message;

  server.start();
  EXPECT_EQ(client.size_of(kTestBucket, key), std::nullopt);
  // The restarted server still has what was stored before it was killed.
  client.put_text(kTestBucket, key + ".marker", "kept");
  server.stop();
  server.start();
  EXPECT_EQ(client.get_text(kTestBucket, key + ".marker"), "kept");
}

}  // namespace
}  // namespace cltv::storage
