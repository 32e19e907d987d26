// The management API's entity routes over real HTTP, against the test node process (its Counter
// entity adds each "add" input to its state).
#include "node_process.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <set>
#include <string>
#include <thread>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::test_node;

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  return r->body.empty() ? json() : json::parse(r->body);
}

// Every error answer is JSON {"error", "message"}.
void check_error(const httplib::Result& r, int status, const std::string& code) {
  REQUIRE(r);
  CHECK(r->status == status);
  const json body = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(body.is_object(), r->body);
  CHECK(body["error"] == code);
  CHECK(body["message"].is_string());
}

void signal(httplib::Client& http, const std::string& path, const std::string& input) {
  const auto r = http.Post("/api/entities/" + path, input, "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 202, r->body);
}

// Signals run after the 202: polls until the entity's GET answers `status` with `state` (or any
// state for a 404), failing after 30 s.
json wait_for_entity(httplib::Client& http, const std::string& path, int status, const json& state = {}) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto r = http.Get("/api/entities/" + path);
    REQUIRE(r);
    if (r->status == status && (status != 200 || json::parse(r->body)["state"] == state)) return json::parse(r->body);
    last = std::to_string(r->status) + " " + r->body;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("entity " << path << " never answered " << status << " with state " << state.dump() << ": " << last);
  return {};
}

}  // namespace

TEST_CASE("entities: signal creates, get reads the state, delete removes it after earlier signals") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());

  check_error(http.Get("/api/entities/Counter/c1"), 404, "EntityNotFound");
  signal(http, "Counter/c1/signals/add", "2");
  signal(http, "Counter/c1/signals/add", "40");
  const json entity = wait_for_entity(http, "Counter/c1", 200, 42);
  CHECK(entity["name"] == "Counter");
  CHECK(entity["key"] == "c1");
  for (const char* field : {"createdTime", "lastModifiedTime"}) {
    REQUIRE(entity[field].is_string());
    CHECK(entity[field].get<std::string>().size() == 27);
  }
  CHECK(entity["createdTime"] <= entity["lastModifiedTime"]);

  // A delete queued behind a signal runs after it: the entity ends without state, not with 43.
  signal(http, "Counter/c1/signals/add", "1");
  const auto deleted = http.Delete("/api/entities/Counter/c1");
  REQUIRE(deleted);
  CHECK(deleted->status == 202);
  wait_for_entity(http, "Counter/c1", 404);
  // A signal after the delete recreates it, from nothing.
  signal(http, "Counter/c1/signals/add", "5");
  wait_for_entity(http, "Counter/c1", 200, 5);
  // Percent-encoded names and keys.
  signal(http, "Counter/50%25%40off/signals/add", "1");
  CHECK(wait_for_entity(http, "Counter/50%25%40off", 200, 1)["key"] == "50%@off");
}

TEST_CASE("entities: bad names, keys, operations and payloads are 400s of the one error model") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());

  check_error(http.Post("/api/entities/Counter/k/signals/add", "{not json", "application/json"), 400, "InvalidJson");
  check_error(http.Post("/api/entities/Count@er/k/signals/add", "1", "application/json"), 400, "InvalidArgument");
  check_error(http.Post("/api/entities/Counter/k/signals/$delete", "", "application/json"), 400, "InvalidArgument");
  check_error(http.Get("/api/entities/Counter/" + std::string(300, 'k')), 400, "InvalidArgument");
  check_error(http.Delete("/api/entities/Count@er/k"), 400, "InvalidArgument");
  check_error(http.Get("/api/entities?keyPrefix=a"), 400, "InvalidArgument");
  check_error(http.Get("/api/entities?pageSize=0"), 400, "InvalidArgument");
  check_error(http.Get("/api/entities?pageSize=1001"), 400, "InvalidArgument");
  check_error(http.Get("/api/entities?continuationToken=zz"), 400, "InvalidArgument");
  check_error(http.Put("/api/entities/Counter/k", "1", "application/json"), 404, "NotFound");
  // A token of an instance listing (kind byte 01) is not an entity listing's.
  check_error(http.Get("/api/entities?continuationToken=0141"), 400, "InvalidArgument");
  // Nothing above reached an entity.
  const json page = body_of(http.Get("/api/entities"));
  CHECK(page["entities"].empty());
  CHECK(page["continuationToken"].is_null());
}

TEST_CASE("entities: listing filters by name and key prefix and pages in (name, key) order") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());

  std::set<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    const std::string key = (i % 2 ? "odd-" : "even-") + std::to_string(100 + i);
    keys.insert(key);
    signal(http, "Counter/" + key + "/signals/add", std::to_string(i));
  }
  for (const auto& key : keys) wait_for_entity(http, "Counter/" + key, 200, std::stoi(key.substr(key.find('-') + 1)) - 100);

  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    const json page = body_of(http.Get("/api/entities?name=Counter&pageSize=7" +
                                       (token.empty() ? std::string() : "&continuationToken=" + token)));
    ++pages;
    for (const auto& e : page["entities"]) {
      CHECK(e["name"] == "Counter");
      listed.push_back(e["key"]);
    }
    token = page["continuationToken"].is_null() ? "" : page["continuationToken"].get<std::string>();
  } while (!token.empty());
  CHECK(pages == 4);
  CHECK(listed == std::vector<std::string>(keys.begin(), keys.end()));

  const json odd = body_of(http.Get("/api/entities?name=Counter&keyPrefix=odd-"));
  CHECK(odd["entities"].size() == 12);
  CHECK(odd["continuationToken"].is_null());
  CHECK(odd["entities"][0]["key"] == "odd-101");
  CHECK(odd["entities"][0]["state"] == 1);
  CHECK(body_of(http.Get("/api/entities?name=Other"))["entities"].empty());
}

TEST_CASE("entities: a signal with ?at= waits for its time, one whose time passed runs at once, a bad time is a 400") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  check_error(http.Post("/api/entities/Counter/later/signals/add?at=tomorrow", "1", "application/json"), 400,
              "InvalidArgument");
  // Far ahead: queued durably, not run.
  signal(http, "Counter/later/signals/add?at=2200-01-01T00:00:00Z", "100");
  // Passed: at once, and after the far one was queued.
  signal(http, "Counter/later/signals/add?at=2001-01-01T00:00:00Z", "1");
  wait_for_entity(http, "Counter/later", 200, 1);
  // Near: a moment from now.
  const auto soon = std::chrono::system_clock::now() + 1500ms;
  const std::time_t whole = std::chrono::system_clock::to_time_t(soon);
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  signal(http, std::string("Counter/later/signals/add?at=") + text, "10");
  wait_for_entity(http, "Counter/later", 200, 11);
  std::this_thread::sleep_for(300ms);
  CHECK(body_of(http.Get("/api/entities/Counter/later"))["state"] == 11);  // the far one still waits
}
