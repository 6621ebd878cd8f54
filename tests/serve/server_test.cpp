// cltv serve end to end on loopback: every status code, the token, the body limit, answers equal to
// the run's files and to `cltv predict`, metrics, reload (a new run, a corrupted run, under load)
// and a restart giving the same answers.
#include "cltv/serve/server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "cltv/io/csv.h"
#include "cltv/text.h"
#include "support/test_support.h"

namespace cltv::serve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

constexpr const char* kToken = "s3cret-t0ken-value";

// A generated data set and two published runs of it: the first, then a second that moves LATEST.
struct Published {
  test::TempDir dir;
  std::string data, work, first_run, first_customer;

  Published() {
    data = dir.path("tx.csv");
    work = dir.path("work");
    const auto made = run_cli({"generate", "--customers", "3000", "--months", "5", "--start", "2019-05", "--seed", "3",
                               "--out", data});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    publish();
    first_run = latest();
    const io::CsvDocument predictions = io::read_csv(run_dir(first_run) + "/predictions.csv");
    first_customer = predictions.rows.at(0).at(0);
  }
  void publish() {
    const auto ran = run_cli({"run", "--source", data, "--schema", "lpoint", "--work", work, "--model", "hurdle",
                              "--rounds", "40", "--threads", "1"});
    ASSERT_EQ(ran.exit_code, 0) << ran.err;
  }
  std::string latest() const { return std::string(trim(test::read_file(work + "/models/LATEST"))); }
  std::string pointer() const { return work + "/models/LATEST"; }
  std::string run_dir(const std::string& name) const { return work + "/models/" + name; }
};

Published& published() {
  static Published p;  // shared by the tests; removed at exit
  return p;
}

// Waits (up to 30 s) until CLIENT's server answers /readyz with 200.
template <class Client>
void wait_until_ready(Client& client) {
  for (int i = 0; i < 600; ++i) {
    const auto res = client.Get("/readyz");
    if (res && res->status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// A server on a free loopback port, serving in a background thread; its log lines kept.
class RunningServer {
 public:
  explicit RunningServer(ServerOptions options) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(std::move(options), [this](const std::string& line) {
      const std::lock_guard lock(mutex_);
      log_ += line + "\n";
    });
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->serve(); });
    httplib::Client client("127.0.0.1", port_);
    wait_until_ready(client);
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  Server& server() { return *server_; }
  std::string log() {
    const std::lock_guard lock(mutex_);
    return log_;
  }
  httplib::Client client(bool with_token = true) const {
    httplib::Client c("127.0.0.1", port_);
    if (with_token) c.set_bearer_token_auth(kToken);
    return c;
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::string log_;
};

ServerOptions options_for(const std::string& model, const test::TempDir& dir, bool with_input = true) {
  ServerOptions o;
  o.sources.model = model;
  if (with_input) {
    o.sources.input.input = published().data;
    o.sources.input.schema = "lpoint";
    o.sources.input.on_bad_row = "skip";
  }
  o.token_file = dir.write("token", std::string(kToken) + "\n");
  o.reload_seconds = 0;  // the tests reload by hand
  o.threads = 16;
  return o;
}

json get_json(httplib::Client& client, const std::string& path, int expected_status = 200) {
  const auto res = client.Get(path);
  EXPECT_TRUE(res) << path;
  if (!res) return {};
  EXPECT_EQ(res->status, expected_status) << path << ": " << res->body;
  return json::parse(res->body);
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    published();
    dir_ = new test::TempDir();
    server_ = new RunningServer(options_for(published().pointer(), *dir_));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static RunningServer& server() { return *server_; }

 private:
  static test::TempDir* dir_;
  static RunningServer* server_;
};
test::TempDir* ServeTest::dir_ = nullptr;
RunningServer* ServeTest::server_ = nullptr;

TEST_F(ServeTest, HealthAndReadinessNeedNoToken) {
  auto client = server().client(false);
  EXPECT_EQ(get_json(client, "/healthz")["status"], "ok");
  EXPECT_EQ(get_json(client, "/readyz")["run"], published().first_run);
}

TEST_F(ServeTest, ApiNeedsTheTokenWhichNeverAppearsInAnswersOrLogs) {
  auto anonymous = server().client(false);
  const json missing = get_json(anonymous, "/v1/run", 401);
  EXPECT_EQ(missing["error"]["status"], 401);
  httplib::Client wrong("127.0.0.1", server().port());
  wrong.set_bearer_token_auth("s3cret-t0ken-valuX");
  const auto res = wrong.Get("/v1/customers/1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body.find(kToken), std::string::npos);
  auto client = server().client();
  const json run = get_json(client, "/v1/run");
  EXPECT_EQ(run["run"], published().first_run);
  EXPECT_EQ(run["currency"], "KRW");  // the lpoint schema's
  EXPECT_EQ(server().log().find(kToken), std::string::npos);
}

TEST_F(ServeTest, CustomerRowEqualsThePredictionsFile) {
  const io::CsvDocument predictions = io::read_csv(published().run_dir(published().first_run) + "/predictions.csv");
  auto client = server().client();
  for (const size_t r : {size_t{0}, predictions.rows.size() / 2, predictions.rows.size() - 1}) {
    const auto& row = predictions.rows[r];
    const json answer = get_json(client, "/v1/customers/" + row[0]);
    ASSERT_EQ(answer["customer_id"], row[0]);
    for (size_t c = 1; c < predictions.header.size(); ++c) {
      const json& value = answer[predictions.header[c]];
      if (value.is_string()) {
        EXPECT_EQ(value.get<std::string>(), row[c]) << predictions.header[c];
      } else {
        EXPECT_DOUBLE_EQ(value.get<double>(), std::stod(row[c])) << predictions.header[c];
      }
    }
    // With the input: the level probabilities (which sum to 1 and agree with p_same) and the history.
    double sum = 0;
    for (const double p : answer["level_probabilities"]) sum += p;
    EXPECT_NEAR(sum, 1.0, 1e-9);
    EXPECT_NEAR(answer["level_probabilities"][answer["current_level"].get<size_t>()].get<double>(),
                answer["p_same"].get<double>(), 1e-12);
    EXPECT_EQ(answer["history"].size(), 2u);
    // A tree model: the top contributions of both parts, largest first.
    ASSERT_EQ(answer["contributions"].size(), 2u);
    EXPECT_EQ(answer["contributions"][0]["part"], "p_buy");
    EXPECT_EQ(answer["contributions"][1]["part"], "spend_if_buying");
    for (const auto& part : answer["contributions"]) {
      ASSERT_FALSE(part["top"].empty());
      EXPECT_LE(part["top"].size(), 8u);
      for (size_t i = 1; i < part["top"].size(); ++i) {
        EXPECT_GE(std::abs(part["top"][i - 1]["value"].get<double>()), std::abs(part["top"][i]["value"].get<double>()));
      }
    }
  }
  EXPECT_EQ(get_json(client, "/v1/customers/no-such-customer", 404)["error"]["status"], 404);
}

TEST_F(ServeTest, SegmentsEqualTheRunsSummaryAndPageFilterAndSort) {
  const json segments = json::parse(test::read_file(published().run_dir(published().first_run) + "/segments.json"));
  auto client = server().client();
  const json all = get_json(client, "/v1/segments?limit=1000");
  EXPECT_EQ(all["current_level_counts"], segments["current_level_counts"]);
  EXPECT_EQ(all["transitions"], segments["transitions"]);
  EXPECT_EQ(all["at_risk"]["customers"], segments["at_risk"]["customers"]);
  const json& rows = all["at_risk"]["rows"];
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1]["spend_at_risk"], rows[i]["spend_at_risk"]);
  for (const auto& row : rows) EXPECT_GE(row["p_down"].get<double>(), 0.5);
  const json by_p_down = get_json(client, "/v1/segments?sort=p_down&limit=20");
  for (size_t i = 1; i < by_p_down["at_risk"]["rows"].size(); ++i) {
    EXPECT_GE(by_p_down["at_risk"]["rows"][i - 1]["p_down"], by_p_down["at_risk"]["rows"][i]["p_down"]);
  }
  const json page = get_json(client, "/v1/segments?offset=3&limit=2");
  ASSERT_EQ(page["at_risk"]["rows"].size(), 2u);
  EXPECT_EQ(page["at_risk"]["rows"][0], rows[3]);
  const json level = get_json(client, "/v1/segments?level=1&limit=1000");
  for (const auto& row : level["at_risk"]["rows"]) EXPECT_EQ(row["current_level"], 1);
  const std::string prefix = rows[0]["customer_id"].get<std::string>().substr(0, 2);
  const json by_prefix = get_json(client, "/v1/segments?q=" + prefix);
  for (const auto& row : by_prefix["at_risk"]["rows"]) {
    EXPECT_TRUE(row["customer_id"].get<std::string>().starts_with(prefix));
  }
  for (const char* bad : {"/v1/segments?sort=name", "/v1/segments?limit=0", "/v1/segments?limit=x",
                          "/v1/segments?level=99", "/v1/segments?offset=-1"}) {
    EXPECT_EQ(get_json(client, bad, 400)["error"]["status"], 400) << bad;
  }
}

TEST_F(ServeTest, ChartsAndMetrics) {
  auto client = server().client();
  const json charts = get_json(client, "/v1/charts");
  EXPECT_EQ(charts["deciles"].size(), 10u);
  EXPECT_FALSE(charts["gain"].empty());
  EXPECT_FALSE(charts["reliability_p_buy"].empty());
  get_json(client, "/v1/nothing-here", 404);
  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("cltv_requests_total{route=\"/v1/charts\",status=\"200\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("cltv_requests_total{route=\"other\",status=\"404\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("cltv_request_duration_seconds_bucket{route=\"/v1/charts\",le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("cltv_run_info{run=\"" + published().first_run), std::string::npos);
  EXPECT_NE(server().log().find(R"("route":"/v1/charts","status":200)"), std::string::npos);
}

TEST_F(ServeTest, ScoreAnswersAsCltvPredict) {
  // Every line of 40 customers, posted as CSV and as JSON lines, against cltv predict on the file.
  const std::string all = test::read_file(published().data);
  const io::CsvDocument lines = io::read_csv(published().data);
  const test::TempDir dir;
  std::string csv = all.substr(0, all.find('\n') + 1), ndjson;
  std::set<std::string> customers;
  for (const auto& row : lines.rows) {
    if (customers.size() == 40 && !customers.contains(row[0])) continue;
    customers.insert(row[0]);
    std::string line;
    json object;
    for (size_t c = 0; c < row.size(); ++c) {
      line += (c > 0 ? "," : "") + row[c];
      object[lines.header[c]] = row[c];
    }
    csv += line + "\n";
    ndjson += object.dump() + "\n";
  }
  const std::string body_file = dir.write("body.csv", csv);
  const auto predicted = run_cli({"predict", "--model", published().pointer(), "--input", body_file, "--schema", "lpoint",
                                  "--as-of", "2019-10-01", "--allow-partial-window", "--out", dir.path("p.csv")});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const io::CsvDocument expected = io::read_csv(dir.path("p.csv"));
  auto client = server().client();
  for (const auto& [body, type] : {std::pair{csv, "text/csv"}, {ndjson, "application/x-ndjson"}}) {
    const auto res = client.Post("/v1/score?as_of=2019-10-01", body, type);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const json answer = json::parse(res->body);
    ASSERT_EQ(answer["customers"].size(), expected.rows.size());
    for (size_t r = 0; r < expected.rows.size(); ++r) {
      EXPECT_EQ(answer["customers"][r]["customer_id"], expected.rows[r][0]);
      EXPECT_DOUBLE_EQ(answer["customers"][r]["expected_spend"].get<double>(), std::stod(expected.rows[r][1]));
      EXPECT_DOUBLE_EQ(answer["customers"][r]["p50"].get<double>(), std::stod(expected.rows[r][4]));
    }
  }
  // Data in units the model never saw: a model error, 422.
  std::string other_units;
  for (const auto& row : lines.rows) {
    if (!customers.contains(row[0])) continue;
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) line += (c > 0 ? "," : "") + (lines.header[c] == "biz_unit" ? "ZZ" : row[c]);
    other_units += line + "\n";
  }
  const auto mismatch = client.Post("/v1/score?as_of=2019-10-01", csv.substr(0, csv.find('\n') + 1) + other_units, "text/csv");
  ASSERT_TRUE(mismatch);
  EXPECT_EQ(mismatch->status, 422) << mismatch->body;
  const auto bad = client.Post("/v1/score", "not,a,transaction,file\n1,2,3,4\n", "text/csv");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json::parse(bad->body)["error"]["message"].get<std::string>().find("request body"), std::string::npos);
}

TEST_F(ServeTest, ABodyOverTheLimitIsRefusedFromItsDeclaredLength) {
  // 100 MB declared, 10 bytes sent: the answer comes without the body being read.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server().port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string request = std::string("POST /v1/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
                              "\r\nContent-Type: text/csv\r\nContent-Length: 104857600\r\n\r\n0123456789";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char buffer[512] = {};
  const ssize_t got = read(fd, buffer, sizeof(buffer) - 1);
  close(fd);
  ASSERT_GT(got, 0);
  EXPECT_TRUE(std::string(buffer).starts_with("HTTP/1.1 413")) << buffer;
}

TEST(ServeReload, ANewRunIsSwappedInUnderLoadAndACorruptedRunIsRefused) {
  Published& p = published();
  const test::TempDir dir;
  RunningServer running(options_for(p.pointer(), dir, false));
  const std::string before = running.server().current()->name();
  // Clients read customers continuously while runs are swapped.
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, answered{0};
  const std::string customer(running.server().current()->predictions.id(0));
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto client = running.client();
      while (!done) {
        const auto res = client.Get("/v1/customers/" + customer);
        if (!res || res->status != 200) ++failures;
        ++answered;
      }
    });
  }
  p.publish();  // a new complete run: LATEST moves
  const std::string second = p.latest();
  ASSERT_NE(second, before);
  EXPECT_TRUE(running.server().reload_if_moved());
  EXPECT_EQ(running.server().current()->name(), second);
  // A corrupted run: a copy of the second with an altered prediction, named by LATEST.
  const std::string broken = p.run_dir("broken-run");
  fs::copy(p.run_dir(second), broken, fs::copy_options::recursive);
  std::ofstream(broken + "/predictions.csv", std::ios::app) << "altered\n";
  std::ofstream(p.pointer(), std::ios::trunc) << "broken-run\n";
  EXPECT_FALSE(running.server().reload_if_moved());
  EXPECT_EQ(running.server().current()->name(), second);  // the old run keeps serving
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  done = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(answered, 0);
  EXPECT_NE(running.log().find(R"("event":"reload_failed","run":"broken-run")"), std::string::npos);
  std::ofstream(p.pointer(), std::ios::trunc) << second << "\n";
}

TEST(ServeRestart, ARestartedServerGivesTheSameAnswers) {
  Published& p = published();
  const test::TempDir dir;
  const std::string run = p.run_dir(p.first_run);
  std::string first_answer, segments;
  {
    RunningServer first(options_for(run, dir));
    auto client = first.client();
    const std::string id(first.server().current()->predictions.id(7));
    first_answer = client.Get("/v1/customers/" + id)->body;
    segments = client.Get("/v1/segments?limit=10")->body;
  }
  RunningServer second(options_for(run, dir));
  auto client = second.client();
  EXPECT_EQ(client.Get("/v1/customers/" + std::string(second.server().current()->predictions.id(7)))->body, first_answer);
  EXPECT_EQ(client.Get("/v1/segments?limit=10")->body, segments);
}

// A loopback port free at the time of asking.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

TEST(ServeProcess, AServerKilledAndStartedAgainGivesTheSameAnswers) {
  Published& p = published();
  const std::string run = p.run_dir(p.first_run);
  std::string answers[2];
  for (std::string& answer : answers) {
    const int port = free_port();
    test::CliProcess server({"serve", "--model", run, "--listen", fmt::format("127.0.0.1:{}", port)});
    httplib::Client client("127.0.0.1", port);
    wait_until_ready(client);
    const auto row = client.Get("/v1/customers/" + std::string(p.first_customer));
    const auto segments = client.Get("/v1/segments?limit=5");
    kill(server.pid(), SIGKILL);
    const test::CliResult ended = server.wait();
    ASSERT_TRUE(row && segments) << ended.err;
    EXPECT_EQ(row->status, 200);
    answer = row->body + segments->body;
  }
  EXPECT_EQ(answers[0], answers[1]);
  EXPECT_NE(answers[0].find("\"at_risk\""), std::string::npos);
}

TEST(ServeTls, HttpsWithACertificateAndKey) {
  const test::TempDir dir;
  const std::string key = dir.path("key.pem"), cert = dir.path("cert.pem");
  const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
                              " -subj /CN=localhost -days 1 2>/dev/null";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "openssl could not make a test certificate";
  ServerOptions o = options_for(published().run_dir(published().first_run), dir, false);
  o.tls_cert = cert;
  o.tls_key = key;
  o.listen = "127.0.0.1:0";
  Server server(o, [](const std::string&) {});
  const int port = server.bind();
  std::thread serving([&] { server.serve(); });
  httplib::SSLClient client("127.0.0.1", port);
  client.enable_server_certificate_verification(false);
  client.set_bearer_token_auth(kToken);
  wait_until_ready(client);
  const auto run = client.Get("/v1/run");
  ASSERT_TRUE(run);
  EXPECT_EQ(json::parse(run->body)["run"], published().first_run);
  httplib::Client plain("127.0.0.1", port);
  EXPECT_FALSE(plain.Get("/healthz") && plain.Get("/healthz")->status == 200);  // no plain HTTP on a TLS port
  server.stop();
  serving.join();
}

TEST(PredictionTable, RowsBecomeJsonAsWrittenWithQuotedIdsAndEmptyFields) {
  const PredictionTable table = PredictionTable::parse(
      "customer_id,expected_spend,current_level,trend,next_purchase_date,p_down,spend_at_risk\n"
      "\"a,\"\"b\",1.5,2,up,,0.25,3\n"
      "c2,2e-05,0,down,2019-10-03,0.75,0\n",
      "p.csv");
  ASSERT_EQ(table.rows(), 2u);
  EXPECT_EQ(table.id(0), "a,\"b");
  ASSERT_TRUE(table.find("a,\"b"));
  EXPECT_FALSE(table.find("c3"));
  std::string json_text;
  table.append_json(json_text, *table.find("a,\"b"));
  EXPECT_EQ(json::parse(json_text), json::parse(R"({"customer_id":"a,\"b","expected_spend":1.5,"current_level":2,)"
                                                R"("trend":"up","next_purchase_date":null,"p_down":0.25,"spend_at_risk":3})"));
  json_text.clear();
  table.append_json(json_text, 1);
  EXPECT_EQ(json::parse(json_text)["next_purchase_date"], "2019-10-03");
  EXPECT_DOUBLE_EQ(json::parse(json_text)["expected_spend"].get<double>(), 2e-05);
  EXPECT_EQ(*table.numbers("p_down"), (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(table.numbers("expected_spend"), nullptr);  // not a sort or filter column
  const std::string header = "customer_id,expected_spend\n";
  for (const char* bad : {"x,nan\n", "x,inf\n", "x,+1\n", "x,.5\n", "x,0x10\n", "x,1\ny,2\nx,3\n"}) {
    EXPECT_EQ(test::error_kind_of([&] { PredictionTable::parse(header + bad, "p.csv"); }), ErrorKind::input) << bad;
  }
  EXPECT_EQ(test::error_kind_of([] { PredictionTable::parse("id,x\n1,2\n", "p.csv"); }), ErrorKind::input);
}

TEST(ServeOptions, BadOptionsAreConfigErrors) {
  const test::TempDir dir;
  ServerOptions o;
  o.sources.model = "x";
  o.token_file = dir.write("empty", "\n");
  EXPECT_EQ(test::error_kind_of([&] { Server(o, [](const std::string&) {}); }), ErrorKind::config);
  o.token_file.clear();
  o.tls_cert = "cert.pem";
  EXPECT_EQ(test::error_kind_of([&] { Server(o, [](const std::string&) {}); }), ErrorKind::config);
  o.tls_cert.clear();
  o.listen = "localhost";
  Server server(o, [](const std::string&) {});
  EXPECT_EQ(test::error_kind_of([&] { server.bind(); }), ErrorKind::config);
}

}  // namespace
}  // namespace cltv::serve
