// The real `perdure` CLI binary against the real test node over 127.0.0.1.
#include "node_process.hpp"
#include "raw_socket.hpp"
#include "support/free_ports.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::cli_result;
using perdure::cli_test::run_cli;
using perdure::cli_test::test_node;

// Exit codes from docs/cli.md.
constexpr int ok = 0, failed = 1, usage = 2, not_found = 3, unreachable = 4, timed_out = 5, conflict = 6,
              finished = 7;

cli_result cli(const test_node& node, std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoint", node.endpoint()});
  return run_cli(args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string start(const test_node& node, std::vector<std::string> args) {
  args.insert(args.begin(), "start");
  const cli_result r = cli(node, args);
  REQUIRE_MESSAGE(r.exit_code == ok, r.err);
  std::string id = r.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  REQUIRE(!id.empty());
  return id;
}

json status_json(const test_node& node, const std::string& id) {
  const cli_result r = cli(node, {"status", id, "-o", "json"});
  REQUIRE_MESSAGE(r.exit_code == ok, r.err);
  return json::parse(r.out);
}

void wait_status(const test_node& node, const std::string& id, const std::string& status) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (status_json(node, id)["runtimeStatus"] != status) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, id << " never became " << status);
    std::this_thread::sleep_for(50ms);
  }
}

// A TCP port on 127.0.0.1 that takes connections (the kernel completes them) and never answers,
// or, with `answer`, answers the first request with it.
class silent_endpoint {
 public:
  explicit silent_endpoint(std::string answer = {}) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
    port_ = ntohs(address.sin_port);
    if (answer.empty()) return;
    responder_ = std::thread([this, answer = std::move(answer)] {
      const int connection = ::accept(fd_, nullptr, nullptr);
      if (connection < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      [[maybe_unused]] const ssize_t sent = ::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(connection);
    });
  }
  ~silent_endpoint() {
    ::shutdown(fd_, SHUT_RDWR);  // ends a pending accept()
    if (responder_.joinable()) responder_.join();
    ::close(fd_);
  }
  silent_endpoint(const silent_endpoint&) = delete;
  silent_endpoint& operator=(const silent_endpoint&) = delete;
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  int port_ = 0;
  std::thread responder_;
};

}  // namespace

TEST_CASE("cli: start, wait, status and history") {
  test_node node;
  const std::string id = start(node, {"Chain", "--input", "\"Osaka\""});

  const cli_result waited = cli(node, {"wait", id, "--timeout", "30"});
  CHECK_MESSAGE(waited.exit_code == ok, waited.err);
  CHECK(contains(waited.out, "Completed"));

  const cli_result table = cli(node, {"status", id});
  CHECK(table.exit_code == ok);
  CHECK(contains(table.out, "Status:"));
  CHECK(contains(table.out, "Completed"));
  CHECK(contains(table.out, "\"Hello, Hello, Hello, Osaka\""));

  const json s = status_json(node, id);
  CHECK(s["output"] == "Hello, Hello, Hello, Osaka");
  CHECK(s["input"] == "Osaka");

  const cli_result with_history = cli(node, {"status", id, "--history"});
  CHECK(with_history.exit_code == ok);
  CHECK(contains(with_history.out, "TaskScheduled"));

  const cli_result timeline = cli(node, {"history", id});
  CHECK(timeline.exit_code == ok);
  for (const char* part : {"TIME", "OFFSET", "ExecutionStarted", "TaskScheduled", "#0 Greet", "TaskCompleted", "took",
                           "ExecutionCompleted", "+0"})
    CHECK_MESSAGE(contains(timeline.out, part), part << " missing from:\n" << timeline.out);
  CHECK(!contains(timeline.out, "EpisodeStarted"));
  CHECK(contains(cli(node, {"history", id, "--episodes"}).out, "EpisodeStarted"));

  const cli_result history_json = cli(node, {"history", id, "--output", "json"});
  CHECK(history_json.exit_code == ok);
  CHECK(json::parse(history_json.out)["events"].size() >= 8);

  const cli_result started_json = cli(node, {"-o", "json", "start", "Chain", "--input", "\"x\"", "--id", "json-start"});
  CHECK(started_json.exit_code == ok);
  CHECK(json::parse(started_json.out)["id"] == "json-start");
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("cli: raise, suspend, resume, terminate, failures and timeouts") {
  test_node node;
  SUBCASE("suspend, raise while suspended, resume") {
    const std::string id = start(node, {"WaitForApproval", "--id", "cli-approval"});
    CHECK(id == "cli-approval");
    wait_status(node, id, "Running");
    CHECK(cli(node, {"suspend", id, "--reason", "hold on"}).exit_code == ok);
    wait_status(node, id, "Suspended");
    CHECK(cli(node, {"raise", id, "Approval", "--data", "true"}).exit_code == ok);
    CHECK(cli(node, {"resume", id}).exit_code == ok);
    const cli_result done = cli(node, {"wait", id, "--timeout", "30", "-o", "json"});
    CHECK_MESSAGE(done.exit_code == ok, done.err);
    CHECK(json::parse(done.out)["output"] == "approved");
  }
  SUBCASE("event data from a file, custom status") {
    const std::string id = start(node, {"WithStatus", "--input", "5"});
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (status_json(node, id)["customStatus"] != json{{"stage", 1}})
      REQUIRE(std::chrono::steady_clock::now() < deadline);
    const perdure::cli_test::temp_dir dir;
    const auto file = (dir.path() / "go.json").string();
    std::FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f);
    std::fputs("3\n", f);
    std::fclose(f);
    CHECK(cli(node, {"raise", id, "Go", "--data-file", file}).exit_code == ok);
    CHECK(cli(node, {"wait", id}).exit_code == ok);
    CHECK(status_json(node, id)["output"] == 15);
  }
  SUBCASE("terminated and failed instances make wait fail; a timeout is exit 5") {
    const std::string waiting = start(node, {"WaitForApproval"});
    const cli_result timeout = cli(node, {"wait", waiting, "--timeout", "0.3", "--interval", "0.1"});
    CHECK(timeout.exit_code == timed_out);
    CHECK(contains(timeout.err, "still"));
    CHECK(cli(node, {"terminate", waiting, "--reason", "bye"}).exit_code == ok);
    const cli_result terminated = cli(node, {"wait", waiting});
    CHECK(terminated.exit_code == failed);
    CHECK(contains(terminated.out, "Terminated"));

    const std::string failing = start(node, {"Fail"});
    const cli_result failure = cli(node, {"wait", failing});
    CHECK(failure.exit_code == failed);
    CHECK(contains(failure.out, "Failed"));
    CHECK(contains(failure.out, "boom"));
    CHECK(contains(cli(node, {"history", failing}).out, "TaskFailed"));
  }
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("cli: list pages and filters, purge") {
  test_node node;
  for (int i = 0; i < 12; ++i) start(node, {"Chain", "--input", "\"l\"", "--id", "cli-list-" + std::to_string(i)});
  start(node, {"WaitForApproval", "--id", "cli-other"});
  for (int i = 0; i < 12; ++i) CHECK(cli(node, {"wait", "cli-list-" + std::to_string(i)}).exit_code == ok);

  const cli_result first = cli(node, {"list", "--prefix", "cli-list-", "--top", "5", "-o", "json"});
  REQUIRE(first.exit_code == ok);
  const json page = json::parse(first.out);
  CHECK(page["instances"].size() == 5);
  REQUIRE(page["continuationToken"].is_string());
  const cli_result second =
      cli(node, {"list", "--prefix", "cli-list-", "--top", "5", "--continuation-token", page["continuationToken"].get<std::string>(), "-o",
                 "json"});
  REQUIRE(second.exit_code == ok);
  CHECK(json::parse(second.out)["instances"].size() == 5);
  CHECK(json::parse(second.out)["instances"][0]["instanceId"] != page["instances"][0]["instanceId"]);

  const cli_result all = cli(node, {"list", "--prefix", "cli-list-", "--top", "5", "--all", "-o", "json"});
  REQUIRE(all.exit_code == ok);
  CHECK(json::parse(all.out)["instances"].size() == 12);
  CHECK(json::parse(all.out)["continuationToken"].is_null());

  const cli_result table = cli(node, {"list", "--top", "5"});
  CHECK(table.exit_code == ok);
  CHECK(contains(table.out, "INSTANCE ID"));
  CHECK(contains(table.err, "--continuation-token"));

  CHECK(json::parse(cli(node, {"list", "--status", "Running", "-o", "json"}).out)["instances"].size() == 1);
  CHECK(json::parse(cli(node, {"list", "--status", "running,completed", "-o", "json"}).out)["instances"].size() == 13);
  CHECK(json::parse(cli(node, {"list", "--name", "Chain", "--from", "2000-01-01", "-o", "json"}).out)["instances"].size() ==
        12);
  CHECK(json::parse(cli(node, {"list", "--to", "2000-01-01T00:00:00Z", "-o", "json"}).out)["instances"].empty());

  CHECK(cli(node, {"purge", "cli-list-0"}).exit_code == ok);
  CHECK(cli(node, {"status", "cli-list-0"}).exit_code == not_found);
  CHECK(cli(node, {"purge", "cli-other"}).exit_code == conflict);
  const cli_result by_filter = cli(node, {"purge", "--prefix", "cli-list-"});
  CHECK(by_filter.exit_code == ok);
  CHECK(contains(by_filter.out, "purged 11"));
  CHECK(cli(node, {"purge"}).exit_code == usage);
  CHECK(cli(node, {"purge", "cli-other", "--status", "Completed"}).exit_code == usage);
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("cli: clear errors and exit codes") {
  test_node node;
  start(node, {"WaitForApproval", "--id", "cli-taken"});

  const cli_result unknown = cli(node, {"status", "nobody-here"});
  CHECK(unknown.exit_code == not_found);
  CHECK(contains(unknown.err, "nobody-here"));
  CHECK(cli(node, {"history", "nobody-here"}).exit_code == not_found);
  CHECK(cli(node, {"raise", "nobody-here", "E"}).exit_code == not_found);
  CHECK(cli(node, {"terminate", "nobody-here"}).exit_code == not_found);
  CHECK(cli(node, {"wait", "nobody-here"}).exit_code == not_found);

  const cli_result bad_json = cli(node, {"start", "Chain", "--input", "{oops"});
  CHECK(bad_json.exit_code == usage);
  CHECK(contains(bad_json.err, "not valid JSON"));
  CHECK(cli(node, {"raise", "cli-taken", "Approval", "--data", "yes"}).exit_code == usage);
  CHECK(cli(node, {"start", "Chain", "--input-file", "/nonexistent/input.json"}).exit_code == usage);
  CHECK(cli(node, {"start", "Chain", "--id", "a/b"}).exit_code == usage);
  CHECK(cli(node, {"start", "NoSuchOrchestration"}).exit_code == not_found);
  const cli_result taken = cli(node, {"start", "WaitForApproval", "--id", "cli-taken"});
  CHECK(taken.exit_code == conflict);
  CHECK(contains(taken.err, "already exists"));
  CHECK(cli(node, {"list", "--status", "Bogus"}).exit_code == usage);
  CHECK(cli(node, {"list", "--from", "yesterday"}).exit_code == usage);
  CHECK(cli(node, {"list", "--continuation-token", "zz"}).exit_code == usage);
  CHECK(cli(node, {"list", "-o", "xml"}).exit_code == usage);
  CHECK(cli(node, {"frobnicate"}).exit_code == usage);
  CHECK(run_cli({}).exit_code == usage);
  CHECK(run_cli({"--help"}).exit_code == ok);
  CHECK(run_cli({"--endpoint", "ftp://127.0.0.1:1", "list"}).exit_code == usage);

  const cli_result down = run_cli({"--endpoint", "http://127.0.0.1:1", "list"});
  CHECK(down.exit_code == unreachable);
  CHECK(contains(down.err, "cannot reach"));

  // The endpoint from the environment (inherited by the CLI process).
  REQUIRE(setenv("PERDURE_ENDPOINT", node.endpoint().c_str(), 1) == 0);
  CHECK(run_cli({"status", "cli-taken"}).exit_code == ok);
  unsetenv("PERDURE_ENDPOINT");
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("cli: --timeout bounds a call to an endpoint that never answers") {
  silent_endpoint silent;
  const auto started = std::chrono::steady_clock::now();
  const cli_result r = run_cli({"--endpoint", silent.endpoint(), "--timeout", "1", "status", "x"});
  CHECK(r.exit_code == timed_out);
  CHECK_MESSAGE(contains(r.err, "got no answer within 1000 ms (--timeout)"), r.err);
  CHECK(std::chrono::steady_clock::now() - started < 50s);  // not the old 75 s (a bound, not a speed check)
  const cli_result waited = run_cli({"--endpoint", silent.endpoint(), "wait", "x", "--timeout", "1"});
  CHECK(waited.exit_code == timed_out);
  CHECK(run_cli({"--timeout", "0", "list"}).exit_code == usage);
}

TEST_CASE("cli: an endpoint port out of range is a usage error") {
  for (const char* endpoint : {"http://127.0.0.1:99999", "http://127.0.0.1:0", "http://127.0.0.1:80a"}) {
    CAPTURE(endpoint);
    const cli_result r = run_cli({"--endpoint", endpoint, "list"});
    CHECK(r.exit_code == usage);
    CHECK(contains(r.err, "port must be a number from 1 to 65535"));
  }
}

TEST_CASE("cli: a 503 from the node (an unreachable owner) exits unreachable") {
  const std::string body = R"({"error":"Unavailable","message":"the owner of partition 3 is unreachable"})";
  silent_endpoint node("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
                       "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const cli_result r = run_cli({"--endpoint", node.endpoint(), "status", "x"});
  CHECK(r.exit_code == unreachable);
  CHECK(contains(r.err, "the owner of partition 3 is unreachable"));
}

TEST_CASE("cli: a 410 from the node (an instance that has ended) exits 7 with the node's message") {
  const std::string body =
      R"json({"error":"InstanceFinished","message":"orchestration instance 'x' has already ended (completed)"})json";
  silent_endpoint node("HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const cli_result r = run_cli({"--endpoint", node.endpoint(), "terminate", "x"});
  CHECK(r.exit_code == finished);
  CHECK_MESSAGE(contains(r.err, "has already ended (completed) (HTTP 410 InstanceFinished)"), r.err);
  CHECK(r.out.empty());  // not "accepted"
}

TEST_CASE("cli: an event name that breaks the instance id rule is refused before anything is sent") {
  // No node listens there: only a check made before connecting can answer.
  for (const std::string& event : std::vector<std::string>{"with space", "a/b", "..", std::string(257, 'e')}) {
    CAPTURE(event);
    const cli_result r = run_cli({"--endpoint", "http://127.0.0.1:1", "raise", "x", event});
    CHECK(r.exit_code == usage);
    CHECK_MESSAGE(contains(r.err, "the event name"), r.err);
  }
  const cli_result empty = run_cli({"--endpoint", "http://127.0.0.1:1", "raise", "x", ""});
  CHECK(empty.exit_code == usage);
  CHECK(contains(empty.err, "the event name is empty"));
}

TEST_CASE("cli: start --traceparent --tracestate and raise --traceparent carry the caller's trace context") {
  test_node node;
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const std::string sender = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string id = start(node, {"WaitForApproval", "--id", "cli-traced", "--traceparent", traceparent,
                                      "--tracestate", "vendor=x"});
  wait_status(node, id, "Running");
  CHECK(cli(node, {"raise", id, "Approval", "--data", "true", "--traceparent", sender}).exit_code == ok);
  CHECK(cli(node, {"wait", id}).exit_code == ok);
  const cli_result history = cli(node, {"history", id, "--episodes", "-o", "json"});
  REQUIRE_MESSAGE(history.exit_code == ok, history.err);
  const json events = json::parse(history.out)["events"];
  bool started = false, raised = false;
  for (const auto& event : events) {
    if (event["kind"] == "ExecutionStarted") {
      started = true;
      CHECK(event["traceParent"] == traceparent);
      CHECK(event["traceState"] == "vendor=x");
    }
    if (event["kind"] == "EventRaised") {
      raised = true;
      CHECK(event["traceParent"] == sender);
    }
  }
  CHECK(started);
  CHECK(raised);

  // A malformed one is refused before anything is sent (no node listens there).
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"start", "WaitForApproval", "--traceparent", "00-not-a-trace-01"},
        std::vector<std::string>{"raise", "x", "Approval", "--traceparent", "00-not-a-trace-01"},
        std::vector<std::string>{"entity", "signal", "Counter", "c", "add", "1", "--traceparent", "00-not-a-trace-01"},
        std::vector<std::string>{"start", "WaitForApproval", "--tracestate", "vendor=x"}}) {
    auto with_endpoint = args;
    with_endpoint.insert(with_endpoint.begin(), {"--endpoint", "http://127.0.0.1:1"});
    const cli_result r = run_cli(with_endpoint);
    CHECK(r.exit_code == usage);
    CHECK_MESSAGE(contains(r.err, "--trace"), r.err);
  }
  CHECK(node.stop() == 0);
}

// Needs the partition to refuse commands for an instance that has ended (issue 13, item 5).
TEST_CASE("cli: terminate, raise, suspend and resume of a finished instance exit 7 and change nothing") {
  test_node node;
  const std::string id = start(node, {"Chain", "--input", "\"Kyoto\"", "--id", "cli-done"});
  REQUIRE(cli(node, {"wait", id, "--timeout", "30"}).exit_code == ok);
  const json before = status_json(node, id);
  for (std::vector<std::string> args : {std::vector<std::string>{"terminate", id, "--reason", "late"},
                                        {"raise", id, "Approval", "--data", "true"},
                                        {"suspend", id},
                                        {"resume", id}}) {
    CAPTURE(args.front());
    const cli_result r = cli(node, args);
    CHECK(r.exit_code == finished);
    CHECK_MESSAGE(contains(r.err, "has already ended"), r.err);
    CHECK_MESSAGE(contains(r.err, "HTTP 410 InstanceFinished"), r.err);
  }
  const json after = status_json(node, id);
  CHECK(after["runtimeStatus"] == "Completed");
  CHECK(after["lastUpdatedTime"] == before["lastUpdatedTime"]);
  CHECK(node.stop() == 0);
}

TEST_CASE("cli: wait takes --no-input as status does, status says when it cuts a payload") {
  test_node node;
  const std::string who(300, 'o');
  const std::string id = start(node, {"Chain", "--input", "\"" + who + "\""});
  const cli_result waited = cli(node, {"wait", id, "--timeout", "30", "--no-input"});
  CHECK_MESSAGE(waited.exit_code == ok, waited.err);
  CHECK(!contains(waited.out, "Input:"));
  CHECK(contains(cli(node, {"wait", id, "--timeout", "30"}).out, "Input:"));

  const cli_result table = cli(node, {"status", id, "--no-input"});
  CHECK(table.exit_code == ok);
  const std::string output = "\"Hello, Hello, Hello, " + who + "\"";
  CHECK(contains(table.out, "(cut: " + std::to_string(output.size()) + " characters in all; -o json shows all)"));
  CHECK(contains(cli(node, {"status", id, "-o", "json"}).out, who));
  CHECK(node.stop() == 0);
}

TEST_CASE("cli: wait long-polls the node instead of polling it") {
  test_node node;
  const std::string id = start(node, {"WaitForApproval"});
  cli_result waited;
  std::thread waiting([&] { waited = cli(node, {"wait", id, "--timeout", "120"}); });
  // Held by the node: one waiting request (its gauge), not a poll every --interval.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (true) {
    perdure::cli_test::raw_socket metrics(node.port());
    REQUIRE(metrics.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    if (contains(metrics.read_until_closed(10s), "\nperdure_http_waiting_requests 1\n")) break;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the CLI's wait is not held by the node");
    std::this_thread::sleep_for(20ms);
  }
  CHECK(cli(node, {"raise", id, "Approval", "--data", "true"}).exit_code == ok);
  waiting.join();
  CHECK_MESSAGE(waited.exit_code == ok, waited.err);
  CHECK(contains(waited.out, "Completed"));
  CHECK(contains(waited.out, "approved"));
  CHECK(node.stop() == 0);
}

TEST_CASE("cli: the example node's FanOut sums past the range of an int") {
  perdure::cli_test::temp_dir dir;
  const int port = perdure::testing_support::free_base_port(1);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  const pid_t pid = perdure::cli_test::spawn(
      {PERDURE_CLUSTER_NODE_PATH, "--data", (dir.path() / "data").string(), "--http-port", std::to_string(port),
       "--partitions", "2", "--workers", "4", "--sync", "off", "--log-level", "warn"},
      dir.path() / "node.out", dir.path() / "node.err");
  struct stop_node {
    pid_t pid;
    ~stop_node() {
      ::kill(pid, SIGTERM);
      int status = 0;
      for (int i = 0; i < 300 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
  } stopper{pid};
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    up = run_cli({"--endpoint", endpoint, "--timeout", "2", "list"}).exit_code == ok;
    if (!up) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(up);
  const cli_result started = run_cli({"--endpoint", endpoint, "start", "FanOut", "--input", "70000"});
  REQUIRE_MESSAGE(started.exit_code == ok, started.err);
  std::string id = started.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  const cli_result waited = run_cli({"--endpoint", endpoint, "-o", "json", "wait", id, "--timeout", "50"});
  REQUIRE_MESSAGE(waited.exit_code == ok, waited.err);
  CHECK(json::parse(waited.out)["output"] == int64_t{70000} * 69999 / 2);  // 2,449,965,000 > INT_MAX
}
