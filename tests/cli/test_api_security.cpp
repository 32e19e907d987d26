// Who may use a node's management API (docs/security.md), against the real test node and the real
// CLI: bearer tokens and their roles, HTTPS with certificates from scripts/make-test-certs.sh, and
// the refusal of an exposed API without them.
#include "node_process.hpp"
#include "raw_socket.hpp"
#include "support/prometheus_sample.hpp"
#include "tls_socket.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::cli_result;
using perdure::cli_test::raw_socket;
using perdure::cli_test::run_cli;
using perdure::cli_test::temp_dir;
using perdure::cli_test::test_node;
using perdure::cli_test::tls_socket;
using perdure::testing_support::sample_value;

constexpr int ok = 0, usage = 2, unreachable = 4, denied = 8;  // docs/cli.md
const std::string admin_token = "admin-7f3c9a1e5b2d4f6a8c0e";
const std::string read_token = "read-1b3d5f7a9c2e4f6b8d0a";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A token file and a test CA with a certificate for 127.0.0.1, made by the script users run.
struct credentials {
  temp_dir dir;
  std::string tokens = (dir.path() / "tokens").string();
  std::string certs = (dir.path() / "certs").string();
  std::string ca = certs + "/ca.pem";

  credentials() {
    std::ofstream(tokens) << "# test tokens\nadmin " << admin_token << "\nread " << read_token << "\n";
    const std::string make = std::string(PERDURE_SOURCE_DIR) + "/scripts/make-test-certs.sh " + certs + " node >/dev/null";
    REQUIRE_MESSAGE(std::system(make.c_str()) == 0, make);
  }
  std::vector<std::string> token_flags() const { return {"--api-token-file", tokens}; }
  std::vector<std::string> tls_flags() const {
    return {"--api-tls-cert", certs + "/node.pem", "--api-tls-key", certs + "/node.key"};
  }
  std::vector<std::string> all_flags() const {
    auto flags = token_flags();
    for (auto& f : tls_flags()) flags.push_back(f);
    return flags;
  }
};

credentials& shared_credentials() {
  static credentials c;
  return c;
}

std::unique_ptr<httplib::Client> client_of(const test_node& node, const std::string& token = {}) {
  auto http = std::make_unique<httplib::Client>(node.endpoint());
  http->set_ca_cert_path(shared_credentials().ca);
  http->enable_server_certificate_verification(true);
  if (!token.empty()) http->set_bearer_token_auth(token);
  http->set_read_timeout(30s);
  return http;
}

cli_result cli(const test_node& node, const std::string& token, std::vector<std::string> args) {
  std::vector<std::string> front{"--endpoint", node.endpoint()};
  if (node.endpoint().starts_with("https://")) front.insert(front.end(), {"--cacert", shared_credentials().ca});
  if (!token.empty()) front.insert(front.end(), {"--token", token});
  args.insert(args.begin(), front.begin(), front.end());
  return run_cli(args);
}

std::string start_waiting_instance(const test_node& node) {
  const cli_result r = cli(node, admin_token, {"start", "WaitForApproval"});
  REQUIRE_MESSAGE(r.exit_code == ok, r.err);
  return r.out.substr(0, r.out.find('\n'));
}

std::string status_of(const test_node& node, const std::string& id) {
  const cli_result r = cli(node, read_token, {"status", id, "-o", "json"});
  REQUIRE_MESSAGE(r.exit_code == ok, r.err);
  return json::parse(r.out)["runtimeStatus"].get<std::string>();
}

size_t instance_count(const test_node& node) {
  const auto res = client_of(node, read_token)->Get("/api/instances");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return json::parse(res->body)["instances"].size();
}

}  // namespace

TEST_CASE("without a token or with an unknown one the API answers 401 and changes nothing") {
  test_node node(0, shared_credentials().token_flags());
  for (const std::string& token : {std::string{}, std::string("unknown-token-0123456789")}) {
    auto http = client_of(node, token);
    const std::string challenge = token.empty() ? R"(Bearer realm="perdure")" : R"(Bearer realm="perdure", error="invalid_token")";
    std::vector<httplib::Result> answers;
    answers.push_back(http->Get("/api/instances"));
    answers.push_back(http->Get("/metrics"));
    answers.push_back(http->Post("/api/orchestrations/Chain", R"("x")", "application/json"));
    answers.push_back(http->Delete("/api/instances?runtimeStatus=Completed"));
    for (const auto& res : answers) {
      REQUIRE(res);
      CHECK(res->status == 401);
      CHECK(res->get_header_value("WWW-Authenticate") == challenge);
      CHECK(json::parse(res->body)["error"] == "Unauthorized");
    }
  }
  CHECK(instance_count(node) == 0);

  // Health stays open for load balancers, and so do the web view's static files.
  auto anonymous = client_of(node);
  const auto health = anonymous->Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  const auto page = anonymous->Get("/ui/");
  REQUIRE(page);
  CHECK(page->status == 200);

  // Refused from the head: a body (within the limit) announced without a token is never waited for.
  raw_socket socket(node.port());
  REQUIRE(socket.send("POST /api/orchestrations/Chain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100000\r\n\r\n"));
  const auto started = std::chrono::steady_clock::now();
  const std::string answer = socket.read_until_closed(10s);
  CHECK(raw_socket::status_of(answer) == 401);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(instance_count(node) == 0);

  const cli_result without = cli(node, "", {"list"});
  CHECK(without.exit_code == denied);
  CHECK(contains(without.err, "needs a token: pass --token or set PERDURE_TOKEN (HTTP 401)"));
  const cli_result wrong = cli(node, "unknown-token-0123456789", {"start", "Chain", "--input", R"("x")"});
  CHECK(wrong.exit_code == denied);
  CHECK(contains(wrong.err, "refused the token"));
  CHECK(instance_count(node) == 0);
}

TEST_CASE("a read token lists and reads but a change is 403 and the instance keeps running") {
  test_node node(0, shared_credentials().token_flags());
  const std::string id = start_waiting_instance(node);
  CHECK(status_of(node, id) == "Running");
  CHECK(cli(node, read_token, {"list"}).exit_code == ok);
  CHECK(cli(node, read_token, {"history", id}).exit_code == ok);
  const auto metrics = client_of(node, read_token)->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);

  const cli_result terminate = cli(node, read_token, {"terminate", id, "--reason", "not allowed"});
  CHECK(terminate.exit_code == denied);
  CHECK(contains(terminate.err, "needs a token with the admin role; this token has the read role (HTTP 403"));
  auto http = client_of(node, read_token);
  std::vector<httplib::Result> answers;
  answers.push_back(http->Post("/api/instances/" + id + "/raiseEvent/Approval", "true", "application/json"));
  answers.push_back(http->Post("/api/instances/" + id + "/suspend", "", "application/json"));
  answers.push_back(http->Post("/api/orchestrations/Chain", R"("x")", "application/json"));
  answers.push_back(http->Delete("/api/instances?instanceIdPrefix=" + id));
  answers.push_back(http->Post("/api/entities/Counter/c/signals/add", "1", "application/json"));
  for (const auto& res : answers) {
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(json::parse(res->body)["error"] == "Forbidden");
  }
  CHECK(status_of(node, id) == "Running");
  CHECK(instance_count(node) == 1);
}

TEST_CASE("an admin token changes through the CLI given by --token or PERDURE_TOKEN") {
  test_node node(0, shared_credentials().token_flags());
  const std::string id = start_waiting_instance(node);
  ::setenv("PERDURE_TOKEN", admin_token.c_str(), 1);
  const cli_result raised = run_cli({"--endpoint", node.endpoint(), "raise", id, "Approval", "--data", "true"});
  ::unsetenv("PERDURE_TOKEN");
  REQUIRE_MESSAGE(raised.exit_code == ok, raised.err);
  const cli_result waited = cli(node, admin_token, {"wait", id, "--timeout", "30"});
  CHECK_MESSAGE(waited.exit_code == ok, waited.err);
  CHECK(status_of(node, id) == "Completed");
  CHECK(cli(node, admin_token, {"purge", id}).exit_code == ok);
  CHECK(instance_count(node) == 0);
}

TEST_CASE("over HTTPS the CLI and an HTTP client with the CA are served") {
  test_node node(0, shared_credentials().all_flags());
  REQUIRE(node.endpoint().starts_with("https://"));
  const cli_result started = cli(node, admin_token, {"start", "Chain", "--input", R"("TLS")", "--id", "over-tls"});
  REQUIRE_MESSAGE(started.exit_code == ok, started.err);
  CHECK(cli(node, admin_token, {"wait", "over-tls", "--timeout", "30"}).exit_code == ok);
  const auto res = client_of(node, read_token)->Get("/api/instances/over-tls");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(json::parse(res->body)["output"] == "Hello, Hello, Hello, TLS");

  // Without the CA, the node's certificate is not trusted; with http://, the port says it is HTTPS.
  const cli_result untrusted = run_cli({"--endpoint", node.endpoint(), "--token", read_token, "list"});
  CHECK(untrusted.exit_code == unreachable);
  CHECK(contains(untrusted.err, "pass --cacert"));
  const std::string plain_endpoint = "http://127.0.0.1:" + std::to_string(node.port());
  const cli_result plain = run_cli({"--endpoint", plain_endpoint, "--token", read_token, "list"});
  CHECK(plain.exit_code == usage);
  CHECK(contains(plain.err, "serves HTTPS only: use https://"));
}

TEST_CASE("a plain HTTP client or garbage on the HTTPS port fails cleanly and the node keeps serving") {
  test_node node(0, shared_credentials().all_flags());
  httplib::Client plain("http://127.0.0.1:" + std::to_string(node.port()));
  plain.set_read_timeout(10s);
  const auto res = plain.Get("/api/health");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(json::parse(res->body)["error"] == "HttpsRequired");

  for (const std::string& garbage : {std::string("\x16\x03\x01\x00\x05hello", 10), std::string(5000, '\x16')}) {
    raw_socket socket(node.port());
    socket.send(garbage);
    socket.read_until_closed(10s);
    CHECK(socket.closed_by_peer());
  }

  // Clients that start a handshake and stall hold no worker and are dropped at the head's deadline.
  std::vector<std::unique_ptr<raw_socket>> stalled;
  for (int i = 0; i < 20; ++i) {
    stalled.push_back(std::make_unique<raw_socket>(node.port()));
    stalled.back()->send(std::string(1, '\x16'));
  }
  const auto health = client_of(node)->Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  for (auto& s : stalled) {
    s->read_until_closed(20s);
    CHECK(s->closed_by_peer());
  }
  CHECK(node.alive());
  const auto after = client_of(node, read_token)->Get("/api/instances");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("a node refuses an API bound to a non-loopback address without TLS and tokens and says what to pass") {
  const auto start_failure = [](std::vector<std::string> flags) {
    try {
      test_node node(0, std::move(flags));
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("started");
  };
  const std::string bare = start_failure({"--http-address", "0.0.0.0"});
  CHECK(contains(bare, "refusing to serve the management API on 0.0.0.0, which is not a loopback address, without "
                       "--api-tls-cert and --api-tls-key (HTTPS) and --api-token-file (bearer tokens)"));
  CHECK(contains(bare, "--insecure"));
  auto tokens_only = shared_credentials().token_flags();
  tokens_only.insert(tokens_only.end(), {"--http-address", "0.0.0.0"});
  CHECK(contains(start_failure(tokens_only), "without --api-tls-cert and --api-tls-key (HTTPS):"));

  auto secured = shared_credentials().all_flags();
  secured.insert(secured.end(), {"--http-address", "0.0.0.0"});
  test_node node(0, secured);
  const auto health = client_of(node)->Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("over TLS pipelined requests in separate records are answered and the limits of plain HTTP hold") {
  test_node node(0, shared_credentials().tls_flags());
  const std::string& ca = shared_credentials().ca;

  // Two requests in two TLS records sent at once: the second waits inside the TLS layer, not in
  // the socket, when the first is answered; it must still be read at once.
  {
    tls_socket socket(node.port(), ca);
    REQUIRE(socket.send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(socket.send("GET /api/instances HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const auto started = std::chrono::steady_clock::now();
    const std::string answers = socket.read_until_closed(20s);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(answers.find("\"Healthy\"") != std::string::npos);
    CHECK(answers.find("\"instances\"") != std::string::npos);
  }

  // A body over the limit is refused from its head; a header larger than its limit too.
  {
    tls_socket socket(node.port(), ca);
    REQUIRE(socket.send("POST /api/orchestrations/Chain HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
    CHECK(raw_socket::status_of(socket.read_until_closed(10s)) == 413);
  }
  {
    tls_socket socket(node.port(), ca);
    socket.send("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    CHECK(raw_socket::status_of(socket.read_until_closed(10s)) == 431);
  }

  // A long-poll whose client leaves gives its waiter's place back at once, as on plain HTTP.
  auto http = client_of(node);
  const auto started = http->Post("/api/orchestrations/WaitForApproval?instanceId=tls-wait", "", "application/json");
  REQUIRE(started);
  REQUIRE(started->status == 202);
  const auto waiting = [&] { return sample_value(http->Get("/metrics")->body, "perdure_http_waiting_requests"); };
  {
    tls_socket socket(node.port(), ca);
    REQUIRE(socket.send("GET /api/instances/tls-wait?waitForCompletion=120s HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (waiting() != 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    REQUIRE(waiting() == 1);
    socket.close();
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (waiting() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  CHECK(waiting() == 0);

  // A header trickled over TLS is cut at the head's deadline (10 s), as on plain HTTP.
  tls_socket slow(node.port(), ca);
  const auto began = std::chrono::steady_clock::now();
  REQUIRE(slow.send("GET /api/health HTTP/1.1\r\n"));
  for (int i = 0; i < 14 && slow.send("X-Slow-" + std::to_string(i) + ": 1\r\n"); ++i) {
    slow.read_until_closed(1s);
    if (slow.closed_by_peer()) break;
  }
  slow.read_until_closed(5s);
  CHECK(slow.closed_by_peer());
  CHECK(std::chrono::steady_clock::now() - began < 16s);
  CHECK(node.alive());
}
