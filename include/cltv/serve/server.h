// The HTTP side of `cltv serve` (cpp-httplib): routes to the API handlers (serve/api.h) and the
// dashboard, bearer-token checks, body limits, Prometheus metrics, JSON access log lines, and the
// background reload that follows a LATEST pointer. All state is in the Server object: two servers
// in one process share nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cltv/params.h"
#include "cltv/serve/served_run.h"

namespace cltv::serve {

struct ServerOptions {
  ServeSources sources;
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string token_file;                  // --token-file
  std::string token_env;                   // --token-env: the environment variable holding the token
  std::string tls_cert, tls_key;           // both or neither
  int64_t max_body_mb = 16;
  int64_t reload_seconds = 10;  // how often a LATEST pointer is checked (0: never)
  int64_t threads = 64;         // connections served at once (keep-alive connections hold one each)
};

// Declares every flag of `cltv serve`.
void declare_serve_params(ParamSet& params, ServerOptions& options);

class Server {
 public:
  // Checks the options (config errors) and reads the token; LOG receives access and event lines.
  Server(ServerOptions options, std::function<void(const std::string&)> log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket (io error when it cannot); returns the port.
  int bind();
  // Loads the run (model error when it cannot) and serves until stop(); blocks.
  void serve();
  void stop();
  // The run currently served (null before the first load).
  std::shared_ptr<const ServedRun> current() const;
  // Checks the LATEST pointer once and swaps in a new complete run; a failed load is logged and the
  // old run stays. Returns whether a new run was swapped in. serve() calls this every
  // reload_seconds.
  bool reload_if_moved();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cltv::serve
