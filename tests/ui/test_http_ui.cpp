// The web view's server side against the test node: its files (types, caching, every module the
// page imports is served) and GET /api/instance-counts. Runs without a browser, so these hold
// where Chromium is not installed too.
#include "cli/node_process.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cctype>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::test_node;

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  return json::parse(r->body);
}

std::string start(httplib::Client& http, const std::string& name, const std::string& id, const std::string& input) {
  const auto r = http.Post("/api/orchestrations/" + name + "?instanceId=" + id, input, "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 202, r->body);
  return id;
}

void wait_for(httplib::Client& http, const std::string& id, const std::string& status) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (body_of(http.Get("/api/instances/" + id)).value("runtimeStatus", "") == status) return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("instance " << id << " did not become " << status);
}

}  // namespace

TEST_CASE("the web view's files are served with their type, an ETag and a 304 while unchanged") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  for (const char* page : {"/ui", "/ui/"}) {
    const auto r = http.Get(page);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(r->body.find("src=\"/ui/app.js\"") != std::string::npos);
    CHECK(r->get_header_value("Content-Security-Policy").find("connect-src 'self'") != std::string::npos);
  }
  const auto style = http.Get("/ui/style.css");
  REQUIRE(style);
  CHECK(style->get_header_value("Content-Type") == "text/css; charset=utf-8");

  const auto script = http.Get("/ui/app.js");
  REQUIRE(script);
  CHECK(script->status == 200);
  CHECK(script->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(script->get_header_value("Cache-Control") == "no-cache");
  const std::string etag = script->get_header_value("ETag");
  CHECK(etag.size() == 18);
  const auto unchanged = http.Get("/ui/app.js", {{"If-None-Match", etag}});
  REQUIRE(unchanged);
  CHECK(unchanged->status == 304);
  CHECK(unchanged->body.empty());
  const auto changed = http.Get("/ui/app.js", {{"If-None-Match", "\"0000000000000000\""}});
  REQUIRE(changed);
  CHECK(changed->status == 200);

  for (const char* missing : {"/ui/nothing.js", "/ui/a/b.js"}) {
    const auto r = http.Get(missing);
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(body_of(r)["error"] == "NotFound");
  }
  const auto post = http.Post("/ui", "", "text/plain");
  REQUIRE(post);
  CHECK(post->status == 404);
}

// The files named by `from './x.js'` in a module. Not std::regex: GCC 12's -Wmaybe-uninitialized
// fires inside <regex> in the sanitizer build.
static std::vector<std::string> imported_modules(const std::string& module) {
  std::vector<std::string> files;
  const std::string prefix = "from './";
  for (size_t at = module.find(prefix); at != std::string::npos; at = module.find(prefix, at + 1)) {
    const size_t begin = at + prefix.size();
    size_t end = begin;
    while (end < module.size() && (std::islower(static_cast<unsigned char>(module[end])) || module[end] == '_')) ++end;
    if (module.compare(end, 4, ".js'") == 0) files.push_back(module.substr(begin, end - begin + 3));
  }
  return files;
}

TEST_CASE("every module the page imports is embedded (a file left out of runtime/CMakeLists.txt is a 404)") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  std::set<std::string> seen{"app.js"};
  std::vector<std::string> to_read{"app.js"};
  while (!to_read.empty()) {
    const std::string file = to_read.back();
    to_read.pop_back();
    const auto r = http.Get("/ui/" + file);
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, "/ui/" << file << " is not served");
    for (const auto& imported : imported_modules(r->body))
      if (seen.insert(imported).second) to_read.push_back(imported);
  }
  CHECK(seen.size() >= 10);
}

TEST_CASE("instance counts by status follow the list's filters but the status") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start(http, "Chain", "count-chain-1", "\"a\"");
  start(http, "Chain", "count-chain-2", "\"b\"");
  start(http, "Fail", "count-failed", "");
  start(http, "WaitForApproval", "other-waiting", "");
  wait_for(http, "count-chain-1", "Completed");
  wait_for(http, "count-chain-2", "Completed");
  wait_for(http, "count-failed", "Failed");
  wait_for(http, "other-waiting", "Running");

  const json all = body_of(http.Get("/api/instance-counts"));
  CHECK(all["total"] == 4);
  CHECK(all["complete"] == true);
  CHECK(all["counts"]["Completed"] == 2);
  CHECK(all["counts"]["Failed"] == 1);
  CHECK(all["counts"]["Running"] == 1);
  CHECK(all["counts"]["Terminated"] == 0);
  CHECK(all["counts"].size() == 7);

  const json chains = body_of(http.Get("/api/instance-counts?name=Chain"));
  CHECK(chains["total"] == 2);
  CHECK(chains["counts"]["Completed"] == 2);
  const json prefixed = body_of(http.Get("/api/instance-counts?instanceIdPrefix=count-"));
  CHECK(prefixed["total"] == 3);
  CHECK(prefixed["counts"]["Running"] == 0);
  const json none = body_of(http.Get("/api/instance-counts?createdTimeFrom=2261-01-01"));
  CHECK(none["total"] == 0);

  const auto bad = http.Get("/api/instance-counts?createdTimeTo=yesterday");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(body_of(bad)["error"] == "InvalidArgument");
}

TEST_CASE("a call's activity options and an attempt's last heartbeat are in its history events") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start(http, "BeatThenFail", "beat", "");
  wait_for(http, "beat", "Failed");
  const json events = body_of(http.Get("/api/instances/beat/history"))["events"];  // not a temporary's member
  size_t seen = 0;
  for (const json& e : events) {
    if (e["kind"] == "TaskScheduled") {
      ++seen;
      const json& timeouts = e["timeouts"];
      CHECK(timeouts.contains("startToCloseDeadline"));
      CHECK(!timeouts.contains("scheduleToCloseDeadline"));  // not set by the call
      CHECK(timeouts["heartbeatTimeoutNs"] == 60'000'000'000);
    }
    if (e["kind"] == "TaskFailed") {
      ++seen;
      CHECK(e["lastHeartbeatDetails"] == json{{"step", 1}});
    }
  }
  CHECK(seen == 2);
}

TEST_CASE("a scheduled task's history event says which attempt it is") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start(http, "Chain", "attempts", "\"x\"");
  wait_for(http, "attempts", "Completed");
  size_t scheduled = 0;
  const json events = body_of(http.Get("/api/instances/attempts/history"))["events"];  // not a temporary's member
  for (const json& e : events) {
    if (e["kind"] != "TaskScheduled") continue;
    ++scheduled;
    CHECK(e["attempt"] == 1);
    CHECK(!e.contains("firstTaskId"));  // only a retry names its first attempt
  }
  CHECK(scheduled == 3);
}
