// cltv serve's HTTP layer on cpp-httplib: routing, the bearer token, limits, metrics, access log
// lines, and the reload loop. Errors from the library become JSON responses here and only here.
#include "cltv/serve/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/crypto.h>

#include <array>
#include <ctime>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/io/input_options.h"
#include "cltv/serve/api.h"
#include "cltv/serve/web_assets.h"
#include "cltv/storage/bundle.h"
#include "cltv/text.h"
#include "cltv/time.h"

namespace cltv::serve {
namespace {

using Clock = std::chrono::steady_clock;

// Latency buckets of the histogram, in seconds.
constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

// The route labels (so metrics have a bounded set) and the statuses counted one by one.
constexpr std::array<const char*, 10> kRoutes{"/v1/customers/{id}", "/v1/run", "/v1/segments", "/v1/charts",
                                              "/v1/score",          "/healthz", "/readyz",    "/metrics",
                                              "dashboard",          "other"};
constexpr std::array<int, 9> kStatuses{200, 400, 401, 404, 413, 422, 500, 503, 0};  // 0: any other

size_t route_of(const std::string& path) {
  if (path.starts_with("/v1/customers/")) return 0;
  for (size_t r = 1; r < 8; ++r) {
    if (path == kRoutes[r]) return r;
  }
  if (path == "/" || path.starts_with("/assets/")) return 8;
  return 9;
}

// Requests by route and status and their latency, for GET /metrics; counters only, no lock.
class Metrics {
 public:
  void observe(size_t route, int status, double seconds) {
    Route& r = routes_[route];
    size_t s = 0;
    while (s + 1 < kStatuses.size() && kStatuses[s] != status) ++s;
    r.by_status[s].fetch_add(1, std::memory_order_relaxed);
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      if (seconds <= kBuckets[b]) r.buckets[b].fetch_add(1, std::memory_order_relaxed);
    }
    r.count.fetch_add(1, std::memory_order_relaxed);
    r.sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  }
  void reloaded(bool ok) { (ok ? reloads_ok_ : reloads_failed_).fetch_add(1, std::memory_order_relaxed); }

  std::string text(const ServedRun* run) const {
    std::string out =
        "# HELP cltv_requests_total Requests served, by route and status.\n# TYPE cltv_requests_total counter\n";
    for (size_t r = 0; r < kRoutes.size(); ++r) {
      for (size_t s = 0; s < kStatuses.size(); ++s) {
        const uint64_t n = routes_[r].by_status[s].load(std::memory_order_relaxed);
        if (n == 0) continue;
        const std::string status = kStatuses[s] == 0 ? "other" : std::to_string(kStatuses[s]);
        out += fmt::format("cltv_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", kRoutes[r], status, n);
      }
    }
    out += "# HELP cltv_request_duration_seconds Request latency.\n# TYPE cltv_request_duration_seconds histogram\n";
    for (size_t r = 0; r < kRoutes.size(); ++r) out += histogram_text(r);
    out += "# TYPE cltv_reloads_total counter\n";
    out += fmt::format("cltv_reloads_total{{result=\"ok\"}} {}\ncltv_reloads_total{{result=\"failed\"}} {}\n",
                       reloads_ok_.load(), reloads_failed_.load());
    if (run != nullptr) {
      const double age = std::chrono::duration<double>(std::chrono::system_clock::now() - run->loaded_at).count();
      out += fmt::format("# TYPE cltv_run_info gauge\ncltv_run_info{{run=\"{}\",model=\"{}\"}} 1\n", run->name(),
                         run->bundle.info.model_kind);
      out += fmt::format("# TYPE cltv_run_age_seconds gauge\ncltv_run_age_seconds {:.3f}\n", age);
    }
    return out;
  }

 private:
  struct Route {
    std::array<std::atomic<uint64_t>, kStatuses.size()> by_status{};
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};
    std::atomic<uint64_t> count{0}, sum_ns{0};
  };

  std::string histogram_text(size_t r) const {
    const Route& route = routes_[r];
    const uint64_t count = route.count.load(std::memory_order_relaxed);
    if (count == 0) return {};
    std::string out;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      out += fmt::format("cltv_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", kRoutes[r], kBuckets[b],
                         route.buckets[b].load(std::memory_order_relaxed));
    }
    out += fmt::format("cltv_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", kRoutes[r], count);
    out += fmt::format("cltv_request_duration_seconds_sum{{route=\"{}\"}} {}\n", kRoutes[r],
                       static_cast<double>(route.sum_ns.load(std::memory_order_relaxed)) / 1e9);
    out += fmt::format("cltv_request_duration_seconds_count{{route=\"{}\"}} {}\n", kRoutes[r], count);
    return out;
  }

  std::array<Route, kRoutes.size()> routes_{};
  std::atomic<uint64_t> reloads_ok_{0}, reloads_failed_{0};
};

// Now as "YYYY-MM-DDTHH:MM:SSZ", formatted once a second per thread.
const std::string& utc_now_text() {
  thread_local std::time_t second = 0;
  thread_local std::string text;
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != second) {
    second = now;
    text = format_utc(std::chrono::system_clock::from_time_t(now), "%Y-%m-%dT%H:%M:%SZ");
  }
  return text;
}

int status_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::input:
    case ErrorKind::config:
      return 400;
    case ErrorKind::model:
      return 422;
    default:
      return 500;
  }
}

// "HOST:PORT" (HOST may be "[::1]").
std::pair<std::string, int> parse_listen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const std::string digits = listen.substr(colon + 1);
    char* end = nullptr;
    const long value = std::strtol(digits.c_str(), &end, 10);
    if (!digits.empty() && *end == '\0' && value >= 0 && value <= 65535) port = static_cast<int>(value);
  }
  if (port < 0 || colon == 0) {
    throw_config(fmt::format("--listen '{}' is not HOST:PORT", listen), "for example --listen 127.0.0.1:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, port};
}

std::string read_token(const ServerOptions& o) {
  if (!o.token_file.empty() && !o.token_env.empty()) {
    throw_config("--token-file and --token-env are two ways to give the token", "give one of them");
  }
  std::string token;
  if (!o.token_file.empty()) {
    token = std::string(trim(io::read_whole_file(o.token_file)));
    if (token.empty()) throw_config(fmt::format("--token-file '{}' is empty", o.token_file), "write the token in it");
  } else if (!o.token_env.empty()) {
    const char* value = std::getenv(o.token_env.c_str());
    token = value == nullptr ? std::string() : std::string(trim(value));
    if (token.empty()) {
      throw_config(fmt::format("--token-env {}: the environment variable is unset or empty", o.token_env),
                   "export the token in it before starting the server");
    }
  }
  return token;
}

// Whether HEADER is "Bearer TOKEN", compared in constant time for a token of that length.
bool token_matches(const std::string& header, const std::string& token) {
  const std::string expected = "Bearer " + token;
  if (header.size() != expected.size()) return false;
  return CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

void send(httplib::Response& res, const ApiResponse& api) {
  res.status = api.status;
  res.set_content(api.body, api.content_type.c_str());
}

thread_local Clock::time_point request_start;

}  // namespace

struct Server::State {
  ServerOptions options;
  std::function<void(const std::string&)> log;
  std::string token;
  std::unique_ptr<httplib::Server> http;
  Metrics metrics;
  mutable std::mutex run_mutex;
  std::shared_ptr<const ServedRun> run;
  std::string pointed_run;  // the run the LATEST pointer named at the last load or attempt (not retried)
  std::mutex stop_mutex;
  std::condition_variable stop_signal;
  bool stopping = false;

  std::shared_ptr<const ServedRun> current() const {
    const std::lock_guard lock(run_mutex);
    return run;
  }

  void set_run(std::shared_ptr<const ServedRun> next) {
    const std::lock_guard lock(run_mutex);
    run = std::move(next);
  }

  void event(const nlohmann::ordered_json& fields) {
    nlohmann::ordered_json line = {{"time", format_utc(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ")}};
    line.update(fields);
    log(line.dump());
  }

  // Runs HANDLER on the current run; 503 before one is loaded; library errors become JSON.
  template <class Handler>
  httplib::Server::Handler with_run(Handler handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res) {
      const std::shared_ptr<const ServedRun> served = current();
      if (!served) return send(res, error_response(503, "no run loaded yet"));
      try {
        send(res, handler(*served, req));
      } catch (const Error& e) {
        send(res, error_response(status_of(e.kind()), e.what(), e.hint()));
      } catch (const std::exception& e) {
        send(res, error_response(500, "internal error"));
        event({{"event", "error"}, {"route", kRoutes[route_of(req.path)]}, {"message", e.what()}});
      }
    };
  }

  void add_routes();
  void add_hooks();
};

void Server::State::add_routes() {
  auto query_of = [](const httplib::Request& req) {
    QueryParams query;
    for (const auto& [key, value] : req.params) query[key] = value;
    return query;
  };
  http->Get("/v1/run", with_run([](const ServedRun& r, const httplib::Request&) { return run_response(r); }));
  http->Get("/v1/charts", with_run([](const ServedRun& r, const httplib::Request&) { return charts_response(r); }));
  http->Get(R"(/v1/customers/([^/]+))", with_run([](const ServedRun& r, const httplib::Request& req) {
              return customer_response(r, req.matches[1].str());
            }));
  http->Get("/v1/segments", with_run([query_of](const ServedRun& r, const httplib::Request& req) {
              return segments_response(r, query_of(req));
            }));
  http->Post("/v1/score", with_run([query_of](const ServedRun& r, const httplib::Request& req) {
               return score_response(r, req.body, req.get_header_value("Content-Type"), query_of(req));
             }));
  // The dashboard (web/, embedded at build time): the page at / and its files under /assets/.
  http->Get(R"(/|/assets/[^/]+)", [](const httplib::Request& req, httplib::Response& res) {
    const std::optional<WebAsset> asset = find_web_asset(req.path);
    if (!asset) return send(res, error_response(404, "unknown route"));
    // The page and its files come from this server only (the page's own meta tag says the same).
    res.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                              "frame-ancestors 'none'; base-uri 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(asset->bytes.data(), asset->bytes.size(), std::string(asset->content_type));
  });
  http->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const std::shared_ptr<const ServedRun> served = current();
    if (!served) return send(res, error_response(503, "no run loaded yet"));
    res.set_content(nlohmann::ordered_json{{"status", "ready"}, {"run", served->name()}}.dump(), "application/json");
  });
  http->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const std::shared_ptr<const ServedRun> served = current();
    res.set_content(metrics.text(served.get()), "text/plain; version=0.0.4");
  });
}

void Server::State::add_hooks() {
  http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    // Refused from the declared length, before the body is read (and the connection closed, so
    // the unread body is never drained).
    if (std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
        static_cast<uint64_t>(options.max_body_mb) << 20) {
      res.set_header("Connection", "close");
      send(res, error_response(413, "request body too large", fmt::format("send at most {} MiB", options.max_body_mb)));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (token.empty() || !req.path.starts_with("/v1/")) return httplib::Server::HandlerResponse::Unhandled;
    if (token_matches(req.get_header_value("Authorization"), token)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    send(res, error_response(401, "missing or wrong bearer token"));
    return httplib::Server::HandlerResponse::Handled;
  });
  http->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* message = res.status == 404 ? "unknown route" : res.status == 413 ? "request body too large" : "request failed";
    send(res, error_response(res.status, message));
  });
  http->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double seconds = std::chrono::duration<double>(Clock::now() - request_start).count();
    const size_t route = route_of(req.path);
    metrics.observe(route, res.status, seconds);
    // Method and route come from fixed lists (any other method is "other"): nothing to escape.
    const bool known_method = req.method == "GET" || req.method == "POST" || req.method == "HEAD";
    log(fmt::format(R"({{"time":"{}","method":"{}","route":"{}","status":{},"seconds":{:.6f},"bytes":{}}})",
                    utc_now_text(), known_method ? req.method : "other", kRoutes[route], res.status, seconds,
                    res.body.size()));
  });
}

void declare_serve_params(ParamSet& params, ServerOptions& o) {
  params.add_required_text("model", o.sources.model,
                           "the run to serve: a run directory or a LATEST pointer (followed: new runs are loaded as "
                           "they are published), a path or s3:// location",
                           "LOCATION");
  params.add_text("predictions", o.sources.predictions, "", "serve this predictions file instead of the run's", "LOCATION");
  ParamSet input_params;
  io::declare_input_params(input_params, o.sources.input);
  for (ParamSet::Param p : input_params.params()) {
    if (p.name == "input") {
      p.required = false;
      p.description = "the transactions the run scored: adds each customer's history, level probabilities and "
                      "feature contributions";
    }
    if (p.name == "schema") {
      p.required = false;
      p.default_text = "the model's";
    }
    params.add_custom(std::move(p));
  }
  params.add_text("listen", o.listen, o.listen, "address and port to listen on (port 0: any free port)", "HOST:PORT");
  params.add_text("token-file", o.token_file, "", "require 'Authorization: Bearer <token>' on /v1/, the token read from this file", "PATH");
  params.add_text("token-env", o.token_env, "", "the same with the token in this environment variable", "NAME");
  params.add_text("tls-cert", o.tls_cert, "", "serve HTTPS with this certificate (PEM; with --tls-key)", "PATH");
  params.add_text("tls-key", o.tls_key, "", "the certificate's private key (PEM)", "PATH");
  params.add_int("max-body-mb", o.max_body_mb, 16, 1, 4096, "largest request body accepted, in MiB (else 413)");
  params.add_int("reload-seconds", o.reload_seconds, 10, 0, 86400,
                 "how often to check a LATEST pointer for a new run (0: never)");
  params.add_int("connections", o.threads, 64, 1, 4096, "connections served at once (keep-alive ones hold one each)");
  params.mark_path("model", PathRole::input);
  params.mark_path("input", PathRole::input);
  params.mark_path("predictions", PathRole::input);
}

Server::Server(ServerOptions options, std::function<void(const std::string&)> log) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.options = std::move(options);
  s.log = std::move(log);
  s.token = read_token(s.options);
  if (s.options.tls_cert.empty() != s.options.tls_key.empty()) {
    throw_config("--tls-cert and --tls-key go together", "give both, or neither for plain HTTP");
  }
  if (s.options.tls_cert.empty()) {
    s.http = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(s.options.tls_cert.c_str(), s.options.tls_key.c_str());
    if (!tls->is_valid()) {
      throw_config("--tls-cert / --tls-key: the certificate or key cannot be read or do not match",
                   "give PEM files of one certificate and its key");
    }
    s.http = std::move(tls);
  }
  const auto threads = static_cast<size_t>(s.options.threads);
  s.http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http->set_payload_max_length(static_cast<size_t>(s.options.max_body_mb) << 20);
  s.http->set_keep_alive_max_count(1000000);
  s.http->set_keep_alive_timeout(5);
  s.http->set_tcp_nodelay(true);  // small answers go out at once, not after the peer's delayed ACK
  s.add_routes();
  s.add_hooks();
}

Server::~Server() { stop(); }

int Server::bind() {
  const auto [host, port] = parse_listen(state_->options.listen);
  const int bound = port == 0 ? state_->http->bind_to_any_port(host) : (state_->http->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    throw_io(fmt::format("cannot listen on {}", state_->options.listen), "is the port in use, or the address not this machine's?");
  }
  return bound;
}

void Server::serve() {
  State& s = *state_;
  std::exception_ptr failure;
  std::thread loader([&] {
    try {
      const storage::Location pointer = storage::parse_location(s.options.sources.model, s.options.sources.input.s3);
      if (pointer.name() == storage::latest_pointer_name) s.pointed_run = storage::read_latest_pointer(pointer);
      s.set_run(load_served_run(s.options.sources));
      s.event({{"event", "loaded"}, {"run", current()->name()}});
    } catch (...) {
      failure = std::current_exception();
      s.http->stop();
      return;
    }
    if (s.options.reload_seconds == 0) return;
    std::unique_lock lock(s.stop_mutex);
    while (!s.stop_signal.wait_for(lock, std::chrono::seconds(s.options.reload_seconds), [&] { return s.stopping; })) {
      lock.unlock();
      reload_if_moved();
      lock.lock();
    }
  });
  s.http->listen_after_bind();
  stop();
  loader.join();
  if (failure) std::rethrow_exception(failure);
}

void Server::stop() {
  State& s = *state_;
  {
    const std::lock_guard lock(s.stop_mutex);
    s.stopping = true;
  }
  s.stop_signal.notify_all();
  s.http->stop();
}

std::shared_ptr<const ServedRun> Server::current() const { return state_->current(); }

bool Server::reload_if_moved() {
  State& s = *state_;
  const storage::Location pointer = storage::parse_location(s.options.sources.model, s.options.sources.input.s3);
  if (pointer.name() != storage::latest_pointer_name) return false;
  std::string named;
  try {
    named = storage::read_latest_pointer(pointer);
  } catch (const Error& e) {
    s.event({{"event", "reload_failed"}, {"message", e.what()}});
    return false;
  }
  if (named == s.pointed_run) return false;
  s.pointed_run = named;
  const std::shared_ptr<const ServedRun> served = current();
  try {
    s.set_run(load_served_run(s.options.sources));
    s.metrics.reloaded(true);
    s.event({{"event", "reloaded"}, {"run", named}});
    return true;
  } catch (const std::exception& e) {
    s.metrics.reloaded(false);
    s.event({{"event", "reload_failed"}, {"run", named}, {"message", e.what()}, {"serving", served ? served->name() : ""}});
    return false;
  }
}

}  // namespace cltv::serve
