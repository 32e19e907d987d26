// Bad clients against a real node's management API, all at once and bounded in time: random and
// truncated requests, deep nesting, huge and chunked bodies, slow headers and many idle
// connections. Throughout, health answers within 1 s, no answer is a 5xx but the documented 503s,
// the node's memory stays bounded, and every instance acknowledged completes afterwards.
#include "chunked_post.hpp"
#include "node_process.hpp"
#include "raw_socket.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::raw_socket;
using perdure::cli_test::test_node;

constexpr size_t rss_bound_kib = 300 * 1024;
constexpr int idle_connections = 1000;
constexpr int slow_connections = 20;

// Samples health and memory every 100 ms from a thread of its own, and starts an instance at
// each sample, so that work is acknowledged during the abuse too.
class watcher {
 public:
  explicit watcher(test_node& node) : node_(node), thread_([this] { run(); }) {}
  ~watcher() { finish(); }

  void finish() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }

  int health_failures = 0;
  int health_checks = 0;
  std::string first_failure;
  size_t max_rss_kib = 0;
  std::vector<std::string> acknowledged;

 private:
  void run() {
    httplib::Client health("127.0.0.1", node_.port());
    health.set_connection_timeout(1s);
    health.set_read_timeout(1s);
    health.set_write_timeout(1s);
    httplib::Client work("127.0.0.1", node_.port());
    work.set_read_timeout(10s);
    int n = 0;
    while (!done_) {
      const auto r = health.Get("/api/health");
      ++health_checks;
      if (!r || r->status != 200) {
        ++health_failures;
        if (first_failure.empty()) first_failure = r ? std::to_string(r->status) + " " + r->body : "no answer within 1 s";
      }
      max_rss_kib = std::max(max_rss_kib, perdure::cli_test::resident_kib(node_.pid()));
      const std::string id = "during-" + std::to_string(n++);
      const auto started = work.Post("/api/orchestrations/Chain?instanceId=" + id, "\"d\"", "application/json");
      if (started && started->status == 202) acknowledged.push_back(id);
      std::this_thread::sleep_for(100ms);
    }
  }

  test_node& node_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A status no answer may have: a 5xx other than the documented 503s (busy, unavailable).
bool undocumented_server_error(int status) { return status >= 500 && status != 503; }

}  // namespace

TEST_CASE("bad clients never take the management API down" * doctest::timeout(120)) {
  test_node node;
  const int port = node.port();
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(30s);
  http.set_write_timeout(30s);

  std::vector<std::string> acknowledged;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "before-" + std::to_string(i);
    const auto r = http.Post("/api/orchestrations/Sleep?instanceId=" + id, "2000", "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    acknowledged.push_back(id);
  }
  REQUIRE(http.Post("/api/orchestrations/WaitForApproval?instanceId=target", "", "application/json")->status == 202);

  watcher watch(node);
  int undocumented = 0;
  auto note = [&](int status, const std::string& what) {
    if (!undocumented_server_error(status)) return;
    ++undocumented;
    MESSAGE(what << " -> " << status);
  };

  // Many idle connections, held to the end.
  std::vector<std::unique_ptr<raw_socket>> idle;
  for (int i = 0; i < idle_connections; ++i) idle.push_back(std::make_unique<raw_socket>(port));

  // Slow headers: one line every 300 ms on each, in a thread, until the node closes them.
  std::atomic<int> slow_closed{0};
  std::jthread slow_thread([&] {  // joined on every exit, a failed REQUIRE included
    std::vector<std::unique_ptr<raw_socket>> slow;
    std::vector<bool> closed(slow_connections, false);
    for (int i = 0; i < slow_connections; ++i) {
      slow.push_back(std::make_unique<raw_socket>(port));
      slow.back()->send("POST /api/orchestrations/Chain HTTP/1.1\r\nHost: x\r\n");
    }
    for (int round = 0; round < 60 && slow_closed < slow_connections; ++round) {  // at most 18 s
      std::this_thread::sleep_for(300ms);
      for (int i = 0; i < slow_connections; ++i) {
        if (closed[i]) continue;
        slow[i]->read_until_closed(1ms);
        if (slow[i]->closed_by_peer() || !slow[i]->send("X-Slow: " + std::to_string(round) + "\r\n")) {
          closed[i] = true;
          ++slow_closed;
        }
      }
    }
  });

  std::mt19937 random(20261202);
  // Random bytes, and truncated or mangled requests, each on a connection of its own.
  const std::vector<std::string> valid{
      "POST /api/orchestrations/Chain HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nConnection: close\r\n\r\n\"Tokyo\"",
      "GET /api/instances?top=5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "POST /api/instances/target/raiseEvent/Other HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n4\r\ntrue\r\n0\r\n\r\n",
      "DELETE /api/instances/nobody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"};
  for (int i = 0; i < 300; ++i) {
    std::string bytes;
    switch (random() % 3) {
      case 0:
        bytes.resize(random() % 2000);
        for (char& c : bytes) c = static_cast<char>(random() & 0xff);
        break;
      case 1: {
        const std::string& v = valid[random() % valid.size()];
        bytes = v.substr(0, random() % v.size());
        break;
      }
      default: {
        bytes = valid[random() % valid.size()];
        for (int k = 0; k < 3; ++k) bytes[random() % bytes.size()] = static_cast<char>(random() & 0xff);
      }
    }
    raw_socket socket(port);  // an incomplete request is left to the node's deadlines
    socket.send(bytes);
    const std::string answer = socket.read_until_closed(std::chrono::milliseconds(random() % 4 == 0 ? 200 : 20));
    if (const int status = raw_socket::status_of(answer)) note(status, "random request " + std::to_string(i));
  }

  // Deep nesting in a start and in an event: 100,000 '[' (the input), and a balanced
  // document as deep as the test node's body limit allows.
  const std::string deep(100'000, '[');
  const std::string balanced = std::string(60'000, '[') + std::string(60'000, ']');
  for (const std::string& target : {std::string("/api/orchestrations/Chain"),
                                    std::string("/api/instances/target/raiseEvent/Approval")})
    for (const std::string* body : {&deep, &balanced}) {
      const auto r = http.Post(target, *body, "application/json");
      REQUIRE(r);
      CHECK_MESSAGE(r->status == 400, target << " " << body->size() << " bytes -> " << r->status << " " << r->body);
    }

  // A huge declared body is refused from its head; a huge chunked body while it is read.
  {
    raw_socket socket(port);
    socket.send("POST /api/orchestrations/Chain HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n[[[[");
    const std::string answer = socket.read_until_closed(10s);
    CHECK(raw_socket::status_of(answer) == 413);
  }
  for (int i = 0; i < 3; ++i) {
    const auto r = perdure::cli_test::post_chunked(http, "/api/orchestrations/Chain", 32u << 20, '7');
    REQUIRE(r);
    CHECK(r->status == 413);
  }

  slow_thread.join();
  CHECK(slow_closed == slow_connections);
  // The idle connections are still held (their idle timeout is longer than this test) and did not
  // starve anyone: a new client is served.
  const auto served = http.Get("/api/health");
  REQUIRE(served);
  CHECK(served->status == 200);
  watch.finish();
  idle.clear();

  INFO("health: " << watch.health_failures << " of " << watch.health_checks << " failed; first: " << watch.first_failure);
  CHECK(watch.health_checks > 10);
  CHECK(watch.health_failures == 0);
  CHECK(undocumented == 0);
  INFO("largest RSS seen: " << watch.max_rss_kib << " KiB");
  CHECK(watch.max_rss_kib < rss_bound_kib);
  REQUIRE(node.alive());

  acknowledged.insert(acknowledged.end(), watch.acknowledged.begin(), watch.acknowledged.end());
  CHECK(watch.acknowledged.size() > 5);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (const auto& id : acknowledged) {
    std::string status;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto r = http.Get("/api/instances/" + id);
      REQUIRE(r);
      status = json::parse(r->body).value("runtimeStatus", "");
      if (status == "Completed") break;
      std::this_thread::sleep_for(50ms);
    }
    CHECK_MESSAGE(status == "Completed", id);
  }
  CHECK(node.stop() == 0);
}
