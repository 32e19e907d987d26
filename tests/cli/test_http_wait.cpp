// Waiting over HTTP against the real test node: start-and-wait (POST ...?waitForCompletion=),
// long-polls (GET /api/instances/{id}?waitForCompletion=), their bound and parameters, and the
// idempotent start. No timings are asserted: what is checked is what gets answered, and when a
// request is held (the node's perdure_http_waiting_requests gauge).
#include "node_process.hpp"
#include "raw_socket.hpp"
#include "support/prometheus_sample.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::raw_socket;
using perdure::cli_test::test_node;
using perdure::testing_support::sample_value;

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  return r->body.empty() ? json() : json::parse(r->body);
}

void check_error(const httplib::Result& r, int status, const std::string& code) {
  REQUIRE(r);
  CHECK(r->status == status);
  const json body = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(body.is_object(), r->body);
  CHECK(body["error"] == code);
  CHECK(body["message"].is_string());
}

// A response taken on another thread (httplib::Result has no empty state); status 0 if none came.
struct answer {
  int status = 0;
  std::string body = "null";
};

answer answer_of(const httplib::Result& r) { return r ? answer{r->status, r->body} : answer{}; }

size_t waiting_requests(httplib::Client& http) {
  const auto r = http.Get("/metrics");
  REQUIRE(r);
  return static_cast<size_t>(sample_value(r->body, "perdure_http_waiting_requests"));
}

// Until the node holds `count` waiting requests (the test fails after 60 s).
void await_waiting(httplib::Client& http, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  size_t now = 0;
  while ((now = waiting_requests(http)) != count) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the node holds " << now << " waits, not " << count);
    std::this_thread::sleep_for(20ms);
  }
}

std::string start_waiting_instance(httplib::Client& http, const std::string& id) {
  const auto r = http.Post("/api/orchestrations/WaitForApproval?instanceId=" + id, "", "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 202, r->body);
  return id;
}

void approve(httplib::Client& http, const std::string& id) {
  const auto r = http.Post("/api/instances/" + id + "/raiseEvent/Approval", "true", "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 202, r->body);
}

std::string long_poll(const std::string& id, const std::string& wait) {
  return "GET /api/instances/" + id + "?waitForCompletion=" + wait +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

json json_after_head(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  REQUIRE_MESSAGE(at != std::string::npos, response);
  return json::parse(response.substr(at + 4));
}

size_t threads_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("Threads:")) return std::stoul(line.substr(8));
  return 0;
}

// Room for `sockets` more descriptors in this process and the node it starts (which inherits it).
void raise_fd_limit(rlim_t sockets) {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= sockets + 256) return;
  REQUIRE_MESSAGE(limit.rlim_max >= sockets + 256, "the hard limit of open files is too low for this test");
  limit.rlim_cur = sockets + 256;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
}

}  // namespace

TEST_CASE("start-and-wait answers 200 with the instance when it ends within the wait") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());

  const auto r = http.Post("/api/orchestrations/Chain?waitForCompletion=30s", "\"Oslo\"", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  const json done = json::parse(r->body);
  CHECK(done["runtimeStatus"] == "Completed");
  CHECK(done["output"] == "Hello, Hello, Hello, Oslo");
  CHECK(done == body_of(http.Get("/api/instances/" + done["instanceId"].get<std::string>())));  // the same record

  SUBCASE("the wait can be a Prefer header (RFC 7240, seconds)") {
    const auto p = http.Post("/api/orchestrations/Chain", {{"Prefer", "respond-async, wait=30"}}, "\"Rome\"",
                             "application/json");
    REQUIRE(p);
    CHECK(p->status == 200);
    CHECK(json::parse(p->body)["output"] == "Hello, Hello, Hello, Rome");
  }
  SUBCASE("a failed instance is answered as it is") {
    const auto f = http.Post("/api/orchestrations/Fail?waitForCompletion=30s", "", "application/json");
    REQUIRE(f);
    CHECK(f->status == 200);
    CHECK(json::parse(f->body)["runtimeStatus"] == "Failed");
  }
  CHECK(node.stop() == 0);
}

TEST_CASE("start-and-wait answers 202 with the status URLs when the wait runs out") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  const auto r = http.Post("/api/orchestrations/WaitForApproval?waitForCompletion=200ms&instanceId=late", "",
                           "application/json");
  REQUIRE(r);
  CHECK(r->status == 202);
  const json body = json::parse(r->body);
  const std::string status_uri = "http://127.0.0.1:" + std::to_string(node.port()) + "/api/instances/late";
  CHECK(body["id"] == "late");
  CHECK(body["statusQueryGetUri"] == status_uri);
  CHECK(body["sendEventPostUri"] == status_uri + "/raiseEvent/{eventName}");
  CHECK(r->get_header_value("Location") == status_uri);
  CHECK(body_of(http.Get("/api/instances/late"))["runtimeStatus"] == "Running");
  CHECK(waiting_requests(http) == 0);  // the waiter's place was given back
  CHECK(node.stop() == 0);
}

TEST_CASE("a long-poll is answered when the instance ends while it waits") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start_waiting_instance(http, "polled");

  httplib::Client poller("127.0.0.1", node.port());
  poller.set_read_timeout(120s);
  answer polled;
  std::thread waiting([&] { polled = answer_of(poller.Get("/api/instances/polled?waitForCompletion=60s&showInput=false")); });
  await_waiting(http, 1);
  approve(http, "polled");
  waiting.join();
  CHECK(polled.status == 200);
  const json done = json::parse(polled.body);
  CHECK(done["runtimeStatus"] == "Completed");
  CHECK(done["output"] == "approved");
  CHECK(!done.contains("input"));
  CHECK(waiting_requests(http) == 0);

  SUBCASE("an instance that has ended is answered at once") {
    const auto r = http.Get("/api/instances/polled?waitForCompletion=60s&showHistory=true");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(json::parse(r->body)["historyEvents"].is_array());
  }
  SUBCASE("a wait that runs out answers the running instance's status, as without a wait") {
    start_waiting_instance(http, "still");
    const auto r = http.Get("/api/instances/still?waitForCompletion=100ms");
    REQUIRE(r);
    CHECK(r->status == 202);
    CHECK(json::parse(r->body)["runtimeStatus"] == "Running");
  }
  SUBCASE("an instance that does not exist is a 404") {
    check_error(http.Get("/api/instances/nobody?waitForCompletion=10s"), 404, "InstanceNotFound");
  }
  CHECK(node.stop() == 0);
}

TEST_CASE("a thousand long-polls are held at once, each without a thread of its own") {
  constexpr size_t polls = 1000;
  raise_fd_limit(2 * polls);
  test_node node;  // the default worker pool: 32 threads
  httplib::Client http("127.0.0.1", node.port());
  constexpr size_t instances = 10;
  for (size_t i = 0; i < instances; ++i) start_waiting_instance(http, "held-" + std::to_string(i));

  std::vector<std::unique_ptr<raw_socket>> clients;
  for (size_t i = 0; i < polls; ++i) {
    clients.push_back(std::make_unique<raw_socket>(node.port()));
    REQUIRE(clients.back()->send(long_poll("held-" + std::to_string(i % instances), "120s")));
  }
  await_waiting(http, polls);

  // A worker per waiter would leave none for this, and the node would need 1,000 threads.
  const auto health = http.Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  const auto status = http.Get("/api/instances/held-0");
  REQUIRE(status);
  CHECK(status->status == 202);
  const size_t threads = threads_of(node.pid());
  CHECK(threads > 0);
  CHECK_MESSAGE(threads < 200, "the node runs " << threads << " threads while " << polls << " requests wait");

  for (size_t i = 0; i < instances; ++i) approve(http, "held-" + std::to_string(i));
  size_t completed = 0;
  for (auto& client : clients) {
    const std::string response = client->read_until_closed(60s);
    if (raw_socket::status_of(response) == 200 && json_after_head(response)["runtimeStatus"] == "Completed")
      ++completed;
  }
  CHECK(completed == polls);
  CHECK(waiting_requests(http) == 0);
  CHECK(node.stop() == 0);
}

TEST_CASE("past --http-max-waiters a wait is refused with 503, and a client that leaves gives its place back") {
  test_node node(3);
  httplib::Client http("127.0.0.1", node.port());
  start_waiting_instance(http, "bounded");
  std::vector<std::unique_ptr<raw_socket>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<raw_socket>(node.port()));
    REQUIRE(clients.back()->send(long_poll("bounded", "120s")));
  }
  await_waiting(http, 3);

  const auto refused = http.Get("/api/instances/bounded?waitForCompletion=10s");
  check_error(refused, 503, "TooManyWaiters");
  CHECK(refused->get_header_value("Retry-After") == "1");
  CHECK(json::parse(refused->body)["message"].get<std::string>().find("--http-max-waiters") != std::string::npos);
  // A start-and-wait that finds no place starts nothing.
  check_error(http.Post("/api/orchestrations/Chain?waitForCompletion=10s&instanceId=not-started", "\"x\"",
                        "application/json"),
              503, "TooManyWaiters");
  check_error(http.Get("/api/instances/not-started"), 404, "InstanceNotFound");
  // Without a wait, everything is still served.
  CHECK(body_of(http.Get("/api/instances/bounded"))["runtimeStatus"] == "Running");

  clients.erase(clients.begin());  // this client closes its connection
  await_waiting(http, 2);
  clients.push_back(std::make_unique<raw_socket>(node.port()));
  REQUIRE(clients.back()->send(long_poll("bounded", "120s")));
  await_waiting(http, 3);

  approve(http, "bounded");
  for (auto& client : clients) CHECK(raw_socket::status_of(client->read_until_closed(60s)) == 200);
  CHECK(waiting_requests(http) == 0);
  CHECK(node.stop() == 0);
}

TEST_CASE("bad wait parameters are refused with 400 and start nothing") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  for (const char* wait : {"-1s", "abc", "10x", "301s", "6m", "1.2.3s", "", "s", "10%20s"}) {
    CAPTURE(wait);
    const auto r = http.Post(std::string("/api/orchestrations/Chain?instanceId=bad-wait&waitForCompletion=") + wait,
                             "\"x\"", "application/json");
    check_error(r, 400, "InvalidArgument");
    CHECK(json::parse(r->body)["message"].get<std::string>().find("waitForCompletion") != std::string::npos);
    check_error(http.Get(std::string("/api/instances/bad-wait?waitForCompletion=") + wait), 400, "InvalidArgument");
  }
  check_error(http.Get("/api/instances/bad-wait"), 404, "InstanceNotFound");
  for (const char* prefer : {"wait=abc", "wait=-1", "wait=1.5", "wait=301"}) {
    CAPTURE(prefer);
    check_error(http.Post("/api/orchestrations/Chain", {{"Prefer", prefer}}, "\"x\"", "application/json"), 400,
                "InvalidArgument");
  }
  // The maximum itself, and a wait of zero (answer at once), are accepted.
  const auto zero = http.Post("/api/orchestrations/WaitForApproval?waitForCompletion=0s", "", "application/json");
  REQUIRE(zero);
  CHECK(zero->status == 202);
  CHECK(body_of(http.Get("/api/instances/" + json::parse(zero->body)["id"].get<std::string>() +
                         "?waitForCompletion=1ms"))["runtimeStatus"] == "Running");
  CHECK(node.stop() == 0);
}

TEST_CASE("an idempotent start over HTTP answers the running instance") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start_waiting_instance(http, "once");
  check_error(http.Post("/api/orchestrations/WaitForApproval?instanceId=once", "", "application/json"), 409,
              "InstanceAlreadyExists");
  check_error(http.Post("/api/orchestrations/WaitForApproval?instanceId=once&ifRunning=fail", "", "application/json"),
              409, "InstanceAlreadyExists");
  check_error(http.Post("/api/orchestrations/WaitForApproval?instanceId=once&ifRunning=maybe", "", "application/json"),
              400, "InvalidArgument");
  // A start-and-wait the partition refuses gives its waiter's place back.
  check_error(http.Post("/api/orchestrations/WaitForApproval?instanceId=once&waitForCompletion=30s", "",
                        "application/json"),
              409, "InstanceAlreadyExists");
  CHECK(waiting_requests(http) == 0);

  const auto again = http.Post("/api/orchestrations/WaitForApproval?instanceId=once&ifRunning=returnExisting", "",
                               "application/json");
  REQUIRE(again);
  CHECK(again->status == 202);
  CHECK(json::parse(again->body)["id"] == "once");
  size_t starts = 0;
  const json history = body_of(http.Get("/api/instances/once/history"));
  for (const json& event : history["events"])
    starts += event["kind"] == "ExecutionStarted";
  CHECK(starts == 1);  // the running instance was left alone

  // With a wait, the retried start answers the running instance's result.
  httplib::Client waiter("127.0.0.1", node.port());
  waiter.set_read_timeout(120s);
  answer result;
  std::thread retry([&] {
    result = answer_of(waiter.Post("/api/orchestrations/WaitForApproval?instanceId=once&ifRunning=returnExisting"
                         "&waitForCompletion=60s",
                         "", "application/json"));
  });
  await_waiting(http, 1);
  approve(http, "once");
  retry.join();
  CHECK(result.status == 200);
  CHECK(json::parse(result.body)["output"] == "approved");
  CHECK(node.stop() == 0);
}
