// Test helpers for S3: the shared S3-compatible server started by scripts/s3-server (skip when
// absent, fail under CI=true), a private s3rver instance a test can kill and restart, and scoped
// environment variables (credentials, region).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.h"

namespace cltv::test {

// The bucket scripts/s3-server and PrivateS3Server create.
inline constexpr const char* kTestBucket = "cltv-test";

// Env CLTV_TEST_S3_ENDPOINT (e.g. "http://127.0.0.1:4568"), or "" when unset.
std::string shared_s3_endpoint();
// Env CLTV_TEST_S3RVER: the s3rver executable, or "" when unset.
std::string s3rver_executable();

// Expands to: std::string VAR holding the shared server's endpoint, skipping the test (or failing
// under CI=true) when scripts/s3-server has not exported it.
#define CLTV_S3_ENDPOINT(var)                                                                      \
  const std::string var = ::cltv::test::shared_s3_endpoint();                                     \
  if (var.empty()) {                                                                               \
    if (::cltv::test::running_in_ci()) FAIL() << "CLTV_TEST_S3_ENDPOINT unset under CI=true";     \
    GTEST_SKIP() << "CLTV_TEST_S3_ENDPOINT unset (eval \"$(scripts/s3-server start)\"); skipped"; \
  }

// Expands to: PrivateS3Server VAR, running; skipped (failed under CI=true) without CLTV_TEST_S3RVER.
#define CLTV_PRIVATE_S3_SERVER(var)                                                                \
  if (::cltv::test::s3rver_executable().empty()) {                                                 \
    if (::cltv::test::running_in_ci()) FAIL() << "CLTV_TEST_S3RVER unset under CI=true";          \
    GTEST_SKIP() << "CLTV_TEST_S3RVER unset (eval \"$(scripts/s3-server start)\"); skipped";      \
  }                                                                                                \
  ::cltv::test::PrivateS3Server var(::cltv::test::s3rver_executable())

// Sets (or, with nullopt, unsets) environment variables; the destructor restores the old values.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(std::initializer_list<std::pair<std::string, std::optional<std::string>>> variables);
  ~ScopedEnv();
  ScopedEnv(ScopedEnv&& other) noexcept : saved_(std::move(other.saved_)) { other.saved_.clear(); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ScopedEnv& operator=(ScopedEnv&&) = delete;

  void set(const std::string& name, const std::optional<std::string>& value);

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;  // in setting order
};

// s3rver's account (access key and secret "S3RVER"), region us-east-1, and no profile, session
// token or endpoint variable from the developer's own environment.
ScopedEnv s3rver_credentials();

// An s3rver child process of its own on a free loopback port, with its own data directory and the
// bucket cltv-test. stop() kills it (SIGKILL) and reaps it; start() brings it back on the same
// port and data directory, so objects stored before are still there.
class PrivateS3Server {
 public:
  explicit PrivateS3Server(std::string executable);  // starts it; throws std::runtime_error on failure
  ~PrivateS3Server();
  PrivateS3Server(const PrivateS3Server&) = delete;
  PrivateS3Server& operator=(const PrivateS3Server&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // "http://127.0.0.1:PORT"
  bool running() const { return pid_ > 0; }
  void start();  // no-op when running; waits until it answers (up to 20 s)
  void stop();   // no-op when stopped; safe to call from any thread

 private:
  std::string executable_;
  std::filesystem::path dir_;  // data/ and the server log
  int port_ = 0;
  std::string endpoint_;
  std::atomic<pid_t> pid_{-1};
};

}  // namespace cltv::test
