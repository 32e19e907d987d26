// The management API's transport in-process (runtime/http_server): the connection bound, the
// bounded worker queue and the cheap lane for health; and the rendering bound of payload_json.
#include "runtime/http_json.hpp"
#include "runtime/http_server.hpp"
#include "raw_socket.hpp"

#include <perdure/detail/json_payload.hpp>

#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;
using perdure::cli_test::raw_socket;
namespace http = perdure::http;

http::response error_writer(int status, const std::string& code, const std::string& message) {
  return http::response{status, "application/json", {}, "{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}"};
}

// A handler that holds every request but health until released.
struct gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int waiting = 0;

  http::response handle(const http::request& req) {
    if (req.path == "/api/health") return http::response{200, "application/json", {}, "{}"};
    std::unique_lock lock(mutex);
    ++waiting;
    changed.notify_all();
    changed.wait(lock, [&] { return open; });
    return http::response{200, "application/json", {}, "{}"};
  }
  void wait_for(int n) {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 10s, [&] { return waiting >= n; }));
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

bool is_health(const http::request& req) { return req.path == "/api/health"; }

}  // namespace

TEST_CASE("past the connection bound, a new connection is answered 503 with Retry-After") {
  gate g;
  g.release();
  http::server_options o;
  o.max_connections = 2;
  http::server server(o, [&](const http::request& r) { return g.handle(r); }, is_health, error_writer);
  const int port = server.listen("127.0.0.1", 0);
  server.serve();
  auto first = std::make_unique<raw_socket>(port);
  raw_socket second(port);  // connections are admitted in the order they are accepted
  {
    raw_socket third(port);
    third.send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string answer = third.read_until_closed(5s);
    CHECK(raw_socket::status_of(answer) == 503);
    CHECK(answer.find("Retry-After: 1") != std::string::npos);
    CHECK(answer.find("\"Busy\"") != std::string::npos);
  }
  first.reset();  // one slot frees
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    raw_socket again(port);
    again.send("GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    served = raw_socket::status_of(again.read_until_closed(5s)) == 200;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  CHECK(served);
  server.stop();
  server.stop();  // idempotent
}

TEST_CASE("a full worker queue answers 503 with Retry-After, and health still answers") {
  gate g;
  http::server_options o;
  o.workers = 1;
  o.queue_limit = 1;
  http::server server(o, [&](const http::request& r) { return g.handle(r); }, is_health, error_writer);
  const int port = server.listen("127.0.0.1", 0);
  server.serve();
  raw_socket running(port);
  running.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  g.wait_for(1);
  // The worker is held: of two more requests, one waits in the queue and the other is refused.
  raw_socket second(port);
  second.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_socket third(port);
  third.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string refused = third.read_until_closed(2s);
  const bool third_refused = !refused.empty();
  if (!third_refused) refused = second.read_until_closed(2s);
  CHECK(raw_socket::status_of(refused) == 503);
  CHECK(refused.find("Retry-After: 1") != std::string::npos);

  httplib::Client health("127.0.0.1", port);
  health.set_read_timeout(2s);
  const auto r = health.Get("/api/health");
  REQUIRE(r);
  CHECK(r->status == 200);

  g.release();
  CHECK(raw_socket::status_of(running.read_until_closed(1s)) == 200);
  CHECK(raw_socket::status_of((third_refused ? second : third).read_until_closed(1s)) == 200);
  server.stop();
}

TEST_CASE("payload_json never parses text nested deeper than the payload rule allows") {
  // Stored before payloads were checked: rendering it used to overflow the reader's stack.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const auto rendered = perdure::payload_json(deep);
  REQUIRE(rendered.is_string());
  CHECK(rendered.get<std::string>().size() == deep.size());
  CHECK(!rendered.dump().empty());
  const size_t limit = perdure::detail::max_json_depth;
  CHECK(perdure::payload_json(std::string(limit, '[') + std::string(limit, ']')).is_array());
  CHECK(perdure::payload_json(std::string(limit + 1, '[') + std::string(limit + 1, ']')).is_string());
  CHECK(perdure::payload_json("{\"a\": [1, 2]}") == nlohmann::json{{"a", {1, 2}}});
}
