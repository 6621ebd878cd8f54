// S3 test helpers: the shared server's endpoint, scoped environment variables, and a private
// s3rver child process that tests can kill and restart.
#include "support/s3_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace cltv::test {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// A loopback port nobody listens on right now (the kernel's choice).
int free_loopback_port() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool bound = ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                     ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(socket_fd);
  if (!bound) throw std::runtime_error("cannot find a free loopback port");
  return ntohs(address.sin_port);
}

// Whether an HTTP server answers on 127.0.0.1:PORT.
bool answers_http(int port) {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{1, 0};
  ::setsockopt(socket_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool answered = false;
  if (::connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "HEAD / HTTP/1.0\r\n\r\n";
    char reply[16] = {};
    answered = ::send(socket_fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()) &&
               ::recv(socket_fd, reply, sizeof(reply) - 1, 0) > 0 && std::string(reply).starts_with("HTTP/");
  }
  ::close(socket_fd);
  return answered;
}

}  // namespace

std::string shared_s3_endpoint() { return environment("CLTV_TEST_S3_ENDPOINT"); }
std::string s3rver_executable() { return environment("CLTV_TEST_S3RVER"); }

ScopedEnv::ScopedEnv(std::initializer_list<std::pair<std::string, std::optional<std::string>>> variables) {
  for (const auto& variable : variables) set(variable.first, variable.second);
}

ScopedEnv::~ScopedEnv() {
  for (auto saved = saved_.rbegin(); saved != saved_.rend(); ++saved) {
    if (saved->second) {
      ::setenv(saved->first.c_str(), saved->second->c_str(), 1);
    } else {
      ::unsetenv(saved->first.c_str());
    }
  }
}

void ScopedEnv::set(const std::string& name, const std::optional<std::string>& value) {
  const char* old = std::getenv(name.c_str());
  saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
  if (value) {
    ::setenv(name.c_str(), value->c_str(), 1);
  } else {
    ::unsetenv(name.c_str());
  }
}

ScopedEnv s3rver_credentials() {
  return ScopedEnv{{"AWS_ACCESS_KEY_ID", "S3RVER"},
                   {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
                   {"AWS_SESSION_TOKEN", std::nullopt},
                   {"AWS_PROFILE", std::nullopt},
                   {"AWS_REGION", "us-east-1"},
                   {"AWS_ENDPOINT_URL", std::nullopt}};
}

PrivateS3Server::PrivateS3Server(std::string executable) : executable_(std::move(executable)) {
  static std::atomic<int> counter{0};
  dir_ = std::filesystem::temp_directory_path() /
         ("cltv-s3rver-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir_ / "data");
  port_ = free_loopback_port();
  endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
  start();
}

PrivateS3Server::~PrivateS3Server() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void PrivateS3Server::start() {
  if (running()) return;
  const std::string data = (dir_ / "data").string(), log = (dir_ / "server.log").string();
  const std::string port = std::to_string(port_);
  std::vector<std::string> arguments{executable_, "-d", data, "-a", "127.0.0.1", "-p", port,
                                     "-s", "--configure-bucket", kTestBucket};
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, executable_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start s3rver '" + executable_ + "': " + std::strerror(spawned));
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!answers_http(port_)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid_ = -1;
      throw std::runtime_error("s3rver exited during startup on port " + port + ": " + read_file(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("s3rver did not answer on port " + port + " within 20 s: " + read_file(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

void PrivateS3Server::stop() {
  const pid_t pid = pid_.exchange(-1);
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace cltv::test
