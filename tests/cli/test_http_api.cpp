// The management API over real HTTP on 127.0.0.1, against the test node process.
#include "chunked_post.hpp"
#include "node_process.hpp"
#include "raw_socket.hpp"
#include "support/prometheus_sample.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::test_node;
using perdure::testing_support::sample_value;

json body_of(const httplib::Result& r) {
  REQUIRE(r);
  return r->body.empty() ? json() : json::parse(r->body);
}

// Every error answer is JSON {"error", "message"}.
void check_error(const httplib::Result& r, int status, const std::string& code = {}) {
  REQUIRE(r);
  CHECK(r->status == status);
  const json body = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(body.is_object(), r->body);
  CHECK(body["error"].is_string());
  CHECK(body["message"].is_string());
  if (!code.empty()) CHECK(body["error"] == code);
}

json start(httplib::Client& http, const std::string& name, const std::string& input, const std::string& id = {}) {
  const auto r = http.Post("/api/orchestrations/" + name + (id.empty() ? "" : "?instanceId=" + id), input,
                           "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 202, r->body);
  return json::parse(r->body);
}

json wait_for(httplib::Client& http, const std::string& id, const std::string& status) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = body_of(http.Get("/api/instances/" + id));
    if (last.value("runtimeStatus", "") == status) return last;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("instance " << id << " did not become " << status << ": " << last.dump());
  return last;
}

json wait_until(httplib::Client& http, const std::string& id, const std::function<bool(const json&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = body_of(http.Get("/api/instances/" + id));
    if (done(last)) return last;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("instance " << id << " never reached the expected state: " << last.dump());
  return last;
}

// The events of an instance's history (a value: range-for over a member of a temporary dangles).
json events_of(httplib::Client& http, const std::string& id) {
  return body_of(http.Get("/api/instances/" + id + "/history"))["events"];
}

// A new orchestration runs to completion: the node still works.
void check_node_works(httplib::Client& http) {
  const auto health = http.Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  const json started = start(http, "Chain", "\"again\"");
  const json done = wait_for(http, started["id"], "Completed");
  CHECK(done["output"] == "Hello, Hello, Hello, again");
}

}  // namespace

TEST_CASE("start, status and history of a chaining orchestration") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());

  const auto r = http.Post("/api/orchestrations/Chain", "\"Tokyo\"", "application/json");
  REQUIRE(r);
  CHECK(r->status == 202);
  const json started = json::parse(r->body);
  const std::string id = started["id"];
  CHECK(!id.empty());
  const std::string status_uri = "http://127.0.0.1:" + std::to_string(node.port()) + "/api/instances/" + id;
  CHECK(started["statusQueryGetUri"] == status_uri);
  CHECK(r->get_header_value("Location") == status_uri);
  CHECK(started["sendEventPostUri"] == status_uri + "/raiseEvent/{eventName}");
  CHECK(started["terminatePostUri"] == status_uri + "/terminate?reason={text}");
  CHECK(started["suspendPostUri"] == status_uri + "/suspend?reason={text}");
  CHECK(started["resumePostUri"] == status_uri + "/resume?reason={text}");
  CHECK(started["purgeHistoryDeleteUri"] == status_uri);

  const json done = wait_for(http, id, "Completed");
  CHECK(done["instanceId"] == id);
  CHECK(done["name"] == "Chain");
  CHECK(done["input"] == "Tokyo");
  CHECK(done["output"] == "Hello, Hello, Hello, Tokyo");
  CHECK(done["customStatus"].is_null());
  CHECK(!done.contains("failureDetails"));
  for (const char* field : {"createdTime", "lastUpdatedTime"}) {
    const std::string t = done[field];
    CHECK(t.size() == 27);
    CHECK(t.back() == 'Z');
    CHECK(t[10] == 'T');
  }
  const auto completed = http.Get("/api/instances/" + id);
  REQUIRE(completed);
  CHECK(completed->status == 200);  // 202 while it runs

  CHECK(!body_of(http.Get("/api/instances/" + id + "?showInput=false")).contains("input"));
  const json with_history = body_of(http.Get("/api/instances/" + id + "?showHistory=true"));
  REQUIRE(with_history["historyEvents"].is_array());
  CHECK(with_history["historyEvents"][1]["kind"] == "ExecutionStarted");

  const json history = body_of(http.Get("/api/instances/" + id + "/history"));
  CHECK(history["instanceId"] == id);
  const json& events = history["events"];
  REQUIRE(events.is_array());
  std::multiset<std::string> kinds;
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i]["index"] == i);
    CHECK(events[i]["timestamp"].get<std::string>().size() == 27);
    kinds.insert(events[i]["kind"].get<std::string>());
  }
  CHECK(events[0]["kind"] == "EpisodeStarted");
  CHECK(events[1]["kind"] == "ExecutionStarted");
  CHECK(events[1]["name"] == "Chain");
  CHECK(events[1]["input"] == "Tokyo");
  CHECK(events.back()["kind"] == "ExecutionCompleted");
  CHECK(events.back()["output"] == "Hello, Hello, Hello, Tokyo");
  CHECK(kinds.count("TaskScheduled") == 3);
  CHECK(kinds.count("TaskCompleted") == 3);
  for (const json& e : events)
    if (e["kind"] == "TaskScheduled") {
      CHECK(e["name"] == "Greet");
      CHECK(e["taskId"].is_number_integer());
    }
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("events, custom status, suspend, resume, terminate and failures") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());

  SUBCASE("custom status and an event") {
    const std::string id = start(http, "WithStatus", "21", "with-status")["id"];
    CHECK(id == "with-status");
    const json waiting = wait_until(http, id, [](const json& s) { return s["customStatus"] == json{{"stage", 1}}; });
    CHECK(waiting["runtimeStatus"] == "Running");
    CHECK(http.Get("/api/instances/" + id)->status == 202);
    const auto raised = http.Post("/api/instances/" + id + "/raiseEvent/Go", "2", "application/json");
    REQUIRE(raised);
    CHECK(raised->status == 202);
    const json done = wait_for(http, id, "Completed");
    CHECK(done["output"] == 42);
    CHECK(done["customStatus"] == json{{"stage", 2}});
  }
  SUBCASE("suspend and resume") {
    const std::string id = start(http, "WaitForApproval", "", "approval")["id"];
    wait_for(http, id, "Running");
    CHECK(http.Post("/api/instances/" + id + "/suspend?reason=hold", "", "application/json")->status == 202);
    wait_for(http, id, "Suspended");
    CHECK(http.Post("/api/instances/" + id + "/raiseEvent/Approval", "true", "application/json")->status == 202);
    CHECK(http.Post("/api/instances/" + id + "/resume?reason=go", "", "application/json")->status == 202);
    const json done = wait_for(http, id, "Completed");
    CHECK(done["output"] == "approved");
    bool suspended = false, resumed = false;
    for (const json& e : events_of(http, id)) {
      suspended |= e["kind"] == "ExecutionSuspended" && e["reason"] == "hold";
      resumed |= e["kind"] == "ExecutionResumed" && e["reason"] == "go";
    }
    CHECK(suspended);
    CHECK(resumed);
  }
  SUBCASE("terminate") {
    const std::string id = start(http, "WaitForApproval", "")["id"];
    wait_for(http, id, "Running");
    CHECK(http.Post("/api/instances/" + id + "/terminate?reason=no%20longer%20needed", "", "application/json")->status ==
          202);
    wait_for(http, id, "Terminated");
    CHECK(http.Get("/api/instances/" + id)->status == 200);
    bool terminated = false;
    for (const json& e : events_of(http, id))
      terminated |= e["kind"] == "ExecutionTerminated" && e["reason"] == "no longer needed";
    CHECK(terminated);
  }
  SUBCASE("an activity failure fails the orchestration") {
    const std::string id = start(http, "Fail", "")["id"];
    const json failed = wait_for(http, id, "Failed");
    CHECK(http.Get("/api/instances/" + id)->status == 200);
    REQUIRE(failed.contains("failureDetails"));
    CHECK(failed["failureDetails"]["errorType"].is_string());
    CHECK(failed["failureDetails"]["message"].get<std::string>().find("boom") != std::string::npos);
    bool task_failed = false;
    for (const json& e : events_of(http, id))
      task_failed |= e["kind"] == "TaskFailed" && e["failureDetails"]["message"].get<std::string>().find("boom") !=
                                                      std::string::npos;
    CHECK(task_failed);
  }
  SUBCASE("a durable timer") {
    const std::string id = start(http, "Sleep", "50")["id"];
    CHECK(wait_for(http, id, "Completed")["output"] == "slept");
    std::set<std::string> kinds;
    for (const json& e : events_of(http, id)) kinds.insert(e["kind"].get<std::string>());
    CHECK(kinds.count("TimerCreated") == 1);
    CHECK(kinds.count("TimerFired") == 1);
  }
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("list: paging across pages and filters") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  for (int i = 0; i < 25; ++i) start(http, "Chain", "\"p" + std::to_string(i) + "\"", "page-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) start(http, "WaitForApproval", "", "wait-" + std::to_string(i));
  for (int i = 0; i < 25; ++i) wait_for(http, "page-" + std::to_string(i), "Completed");
  for (int i = 0; i < 3; ++i) wait_for(http, "wait-" + std::to_string(i), "Running");

  SUBCASE("pages by query parameter and by header") {
    for (bool by_header : {false, true}) {
      std::set<std::string> seen;
      std::string token;
      int pages = 0;
      do {
        httplib::Headers headers;
        std::string target = "/api/instances?top=7&instanceIdPrefix=page-";
        if (!token.empty()) {
          if (by_header) headers.emplace("x-ms-continuation-token", token);
          else target += "&continuationToken=" + token;
        }
        const auto r = http.Get(target, headers);
        REQUIRE(r);
        REQUIRE(r->status == 200);
        const json page = json::parse(r->body);
        CHECK(page["instances"].size() <= 7);
        for (const json& i : page["instances"]) {
          CHECK(seen.insert(i["instanceId"].get<std::string>()).second);
          CHECK(!i.contains("input"));  // lists leave inputs out unless showInput=true
        }
        token = page["continuationToken"].is_null() ? "" : page["continuationToken"].get<std::string>();
        CHECK(r->get_header_value("x-ms-continuation-token") == token);
        ++pages;
      } while (!token.empty());
      CHECK(pages == 4);
      CHECK(seen.size() == 25);
    }
  }
  SUBCASE("filters") {
    auto ids = [&](const std::string& query) {
      const json page = body_of(http.Get("/api/instances?top=1000&" + query));
      std::set<std::string> found;
      for (const json& i : page["instances"]) found.insert(i["instanceId"].get<std::string>());
      return found;
    };
    CHECK(ids("runtimeStatus=Running") == std::set<std::string>{"wait-0", "wait-1", "wait-2"});
    CHECK(ids("runtimeStatus=running,completed").size() == 28);
    CHECK(ids("name=WaitForApproval").size() == 3);
    CHECK(ids("name=Chain&runtimeStatus=Running").empty());
    CHECK(ids("instanceIdPrefix=wait-1").size() == 1);
    CHECK(ids("createdTimeFrom=2200-01-01T00:00:00Z").empty());
    CHECK(ids("createdTimeTo=2000-01-01").empty());
    CHECK(ids("createdTimeFrom=2000-01-01T00:00:00Z&createdTimeTo=2200-01-01T00:00:00%2B01:00").size() == 28);
    const json with_input = body_of(http.Get("/api/instances?instanceIdPrefix=page-1&showInput=true&top=1"));
    CHECK(with_input["instances"][0].contains("input"));
  }
  SUBCASE("bad list parameters") {
    check_error(http.Get("/api/instances?continuationToken=zz"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?continuationToken=0"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances", {{"x-ms-continuation-token", "not-a-token"}}), 400);
    check_error(http.Get("/api/instances?runtimeStatus=Sleeping"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?runtimeStatus="), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?top=0"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?top=1001"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?top=ten"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?createdTimeFrom=yesterday"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?createdTimeFrom=2999-01-01"), 400, "InvalidArgument");  // past 2262
    check_error(http.Get("/api/instances?showInput=maybe"), 400, "InvalidArgument");
  }
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("purge one instance and by filter") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  for (int i = 0; i < 5; ++i) start(http, "Chain", "\"x\"", "purge-" + std::to_string(i));
  for (int i = 0; i < 5; ++i) wait_for(http, "purge-" + std::to_string(i), "Completed");
  start(http, "WaitForApproval", "", "purge-running");
  wait_for(http, "purge-running", "Running");

  const auto one = http.Delete("/api/instances/purge-0");
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(json::parse(one->body)["instancesDeleted"] == 1);
  check_error(http.Get("/api/instances/purge-0"), 404, "InstanceNotFound");
  check_error(http.Get("/api/instances/purge-0/history"), 404, "InstanceNotFound");
  check_error(http.Delete("/api/instances/purge-0"), 404, "InstanceNotFound");
  check_error(http.Delete("/api/instances/purge-running"), 409, "InstanceNotTerminal");
  check_error(http.Delete("/api/instances"), 400, "InvalidArgument");

  const auto by_filter = http.Delete("/api/instances?instanceIdPrefix=purge-");
  REQUIRE(by_filter);
  CHECK(by_filter->status == 200);
  CHECK(json::parse(by_filter->body)["instancesDeleted"] == 4);  // the running one stays
  const json left = body_of(http.Get("/api/instances?instanceIdPrefix=purge-"));
  REQUIRE(left["instances"].size() == 1);
  CHECK(left["instances"][0]["instanceId"] == "purge-running");
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

// Checks that a histogram is one: its cumulative buckets never decrease and end with +Inf, which
// equals _count. Returns the buckets' counts by bound, in order.
std::vector<std::pair<std::string, double>> check_histogram(const std::string& text, const std::string& name) {
  CHECK_MESSAGE(text.find("# TYPE " + name + " histogram\n") != std::string::npos, name);
  std::vector<std::pair<std::string, double>> buckets;
  const std::string prefix = "\n" + name + "_bucket{le=\"";
  for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    const auto bound_end = text.find('"', at + prefix.size());
    const std::string bound = text.substr(at + prefix.size(), bound_end - at - prefix.size());
    buckets.emplace_back(bound, std::stod(text.substr(bound_end + 3)));
    if (buckets.size() > 1) CHECK_MESSAGE(buckets.back().second >= buckets[buckets.size() - 2].second, name);
  }
  REQUIRE_MESSAGE(buckets.size() > 1, name);
  CHECK(buckets.back().first == "+Inf");
  CHECK(buckets.back().second == sample_value(text, name + "_count"));
  return buckets;
}

TEST_CASE("health and Prometheus metrics") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  const auto health = http.Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(json::parse(health->body)["status"] == "Healthy");

  for (int i = 0; i < 3; ++i) wait_for(http, start(http, "Chain", "\"m\"")["id"], "Completed");
  wait_for(http, start(http, "WaitForApproval", "")["id"], "Running");
  wait_for(http, start(http, "Sleep", "50")["id"], "Completed");
  const auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type").find("text/plain") == 0);
  const std::string& text = metrics->body;
  CHECK(text.find("perdure_instances{status=\"Completed\"} 4\n") != std::string::npos);
  CHECK(text.find("perdure_instances{status=\"Running\"} 1\n") != std::string::npos);
  CHECK(text.find("perdure_activities_completed_total 9\n") != std::string::npos);
  for (const char* name : {"perdure_episodes_total ", "perdure_commits_total ", "perdure_activity_queue_depth ",
                           "perdure_timers_fired_total "})
    CHECK_MESSAGE(text.find(std::string("\n") + name) != std::string::npos, name);
  CHECK(text.find("perdure_cluster_") == std::string::npos);  // a single node has no cluster metrics
  CHECK(text.find("perdure_partition_") == std::string::npos);

  // The node is idle: every commit is counted in both histograms of commits.
  const double commits = sample_value(text, "perdure_commits_total");
  CHECK(commits > 0);
  check_histogram(text, "perdure_commit_latency_seconds");
  CHECK(sample_value(text, "perdure_commit_latency_seconds_count") == commits);
  const auto batches = check_histogram(text, "perdure_commit_batch_episodes");
  CHECK(batches.front().first == "1");
  CHECK(sample_value(text, "perdure_commit_batch_episodes_count") == commits);
  // Five instances started, each in at least one committed episode; no batch holds more than them all.
  const double committed = sample_value(text, "perdure_commit_batch_episodes_sum");
  CHECK(committed >= 5);
  CHECK(committed <= sample_value(text, "perdure_episodes_total"));
  CHECK(sample_value(text, "perdure_commit_batch_episodes_bucket{le=\"256\"}") == commits);

  // Sleep's one timer fired, late by no more than the test took.
  const double timers = sample_value(text, "perdure_timers_fired_total");
  CHECK(timers == 1);
  check_histogram(text, "perdure_timer_lag_seconds");
  CHECK(sample_value(text, "perdure_timer_lag_seconds_count") == timers);
  CHECK(sample_value(text, "perdure_timer_lag_seconds_sum") >= 0);
  CHECK(sample_value(text, "perdure_timer_lag_seconds_bucket{le=\"30\"}") == timers);
  CHECK(node.stop() == 0);  // clean shutdown, no sanitizer report
}

TEST_CASE("bad input gets a 4xx with a JSON error and never hurts the node") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start(http, "WaitForApproval", "", "taken");

  SUBCASE("each bad input") {
    check_error(http.Post("/api/orchestrations/Chain", "{\"unterminated\": ", "application/json"), 400, "InvalidJson");
    check_error(http.Post("/api/orchestrations/Chain", std::string(200 * 1024, '1'), "application/json"), 413,
                "PayloadTooLarge");
    // Within the body limit but over the node's payload limit (64 KiB).
    check_error(http.Post("/api/orchestrations/Chain", "\"" + std::string(100 * 1024, 'a') + "\"", "application/json"),
                400, "InvalidArgument");
    check_error(http.Get("/api/nothing-here"), 404, "NotFound");
    check_error(http.Get("/"), 404, "NotFound");
    check_error(http.Post("/api/instances/taken/explode", "", "application/json"), 404, "NotFound");
    check_error(http.Get("/api/instances/nobody"), 404, "InstanceNotFound");
    check_error(http.Get("/api/instances/nobody/history"), 404, "InstanceNotFound");
    check_error(http.Post("/api/instances/nobody/raiseEvent/Approval", "true", "application/json"), 404,
                "InstanceNotFound");
    for (const char* verb : {"terminate", "suspend", "resume"})
      check_error(http.Post(std::string("/api/instances/nobody/") + verb, "", "application/json"), 404,
                  "InstanceNotFound");
    check_error(http.Delete("/api/instances/nobody"), 404, "InstanceNotFound");
    check_error(http.Post("/api/orchestrations/NoSuchOrchestration", "1", "application/json"), 404,
                "OrchestrationNotFound");
    check_error(http.Post("/api/orchestrations/WaitForApproval?instanceId=taken", "", "application/json"), 409,
                "InstanceAlreadyExists");
    check_error(http.Post("/api/orchestrations/Chain?instanceId=", "\"x\"", "application/json"), 400, "InvalidArgument");
    check_error(http.Post("/api/orchestrations/Chain?instanceId=has%20space", "\"x\"", "application/json"), 400,
                "InvalidArgument");
    check_error(http.Post("/api/orchestrations/Chain?instanceId=" + std::string(300, 'x'), "\"x\"", "application/json"),
                400, "InvalidArgument");
    check_error(http.Get("/api/instances/bad%23id"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances/bad%01id"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances/" + std::string(300, 'y')), 400, "InvalidArgument");
    check_error(http.Post("/api/instances/taken/raiseEvent/Approval", "tru", "application/json"), 400, "InvalidJson");
    check_error(http.Get("/api/instances/taken?showHistory=yes"), 400, "InvalidArgument");
    check_error(http.Delete("/api/instances?runtimeStatus=Nope"), 400, "InvalidArgument");
    check_error(http.Get("/api/instances?createdTimeTo=2024-13-01"), 400, "InvalidArgument");
  }
  SUBCASE("random and truncated request bodies and paths") {
    std::mt19937 random(20240501);
    const std::vector<std::string> valid_bodies{
        "\"Tokyo\"", "{\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\"}", "[true, false, 1.5e10]", "42"};
    const std::vector<std::pair<std::string, std::string>> targets{
        {"POST", "/api/orchestrations/Chain"},        {"POST", "/api/orchestrations/NoSuch"},
        {"POST", "/api/instances/taken/raiseEvent/X"}, {"POST", "/api/instances/nobody/raiseEvent/X"},
        {"POST", "/api/instances/taken/suspend"},     {"POST", "/api/instances/taken/resume"},
        {"GET", "/api/instances"},                    {"DELETE", "/api/instances"},
        {"GET", "/api/instances/taken"},              {"PUT", "/api/instances/taken"}};
    auto random_bytes = [&](size_t n) {
      std::string s(n, '\0');
      for (char& c : s) c = static_cast<char>(random() & 0xff);
      return s;
    };
    auto encoded_random_segment = [&] {
      static constexpr char hex[] = "0123456789ABCDEF";
      std::string s;
      for (size_t i = 0, n = 1 + random() % 12; i < n; ++i) {
        const unsigned c = random() & 0xff;
        s += '%';
        s += hex[c >> 4];
        s += hex[c & 0xf];
      }
      return s;
    };
    int server_errors = 0;
    for (int i = 0; i < 500; ++i) {
      std::string body;
      switch (random() % 3) {
        case 0: body = random_bytes(random() % 300); break;
        case 1: {
          const std::string& valid = valid_bodies[random() % valid_bodies.size()];
          body = valid.substr(0, random() % valid.size());  // truncated
          break;
        }
        default: body = valid_bodies[random() % valid_bodies.size()];
      }
      auto [method, path] = targets[random() % targets.size()];
      if (random() % 4 == 0) path = "/api/instances/" + encoded_random_segment();
      if (random() % 5 == 0) path += "?runtimeStatus=" + encoded_random_segment() + "&top=" + encoded_random_segment();
      httplib::Result r = method == "POST"     ? http.Post(path, body, "application/json")
                          : method == "PUT"    ? http.Put(path, body, "application/json")
                          : method == "DELETE" ? http.Delete(path, body, "application/json")
                                               : http.Get(path);
      REQUIRE_MESSAGE(r, "request " << i << " got no answer: " << method << " " << path);
      if (r->status >= 500) ++server_errors;
      if (r->status >= 400) {
        const json error = json::parse(r->body, nullptr, false);
        CHECK_MESSAGE(error.is_object(), method << " " << path << " -> " << r->status << " " << r->body);
        if (error.is_object()) CHECK(error.contains("error"));
      }
    }
    CHECK(server_errors == 0);
  }
  CHECK(node.alive());
  check_node_works(http);
  CHECK(node.stop() == 0);  // a clean shutdown after all of it
}

// The limit the test node's API applies: twice its 64 KiB payload limit plus 4 KiB.
constexpr size_t test_body_limit = 2 * 64 * 1024 + 4096;

TEST_CASE("a chunked body over the limit is refused while it is read, in bounded memory") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  http.set_read_timeout(30s);
  http.set_write_timeout(30s);
  const size_t rss_before = perdure::cli_test::resident_kib(node.pid());
  // A digit string: valid JSON all the way, so nothing stops early but the limit.
  const auto r = perdure::cli_test::post_chunked(http, "/api/orchestrations/Chain", 64u << 20, '1');
  REQUIRE(r);
  check_error(r, 413, "PayloadTooLarge");
  CHECK(json::parse(r->body)["message"].get<std::string>().find(std::to_string(test_body_limit)) != std::string::npos);
  const size_t rss_after = perdure::cli_test::resident_kib(node.pid());
  INFO("RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
  CHECK(rss_after < rss_before + 32 * 1024);  // the 64 MiB never held
  check_node_works(http);
  CHECK(node.stop() == 0);
}

TEST_CASE("a request head trickled one line at a time is closed at its deadline") {
  test_node node;
  perdure::cli_test::raw_socket slow(node.port());
  REQUIRE(slow.send("GET /api/health HTTP/1.1\r\nHost: x\r\n"));
  // One header line every 500 ms, each well within any per-read timeout; the whole head is
  // due within 10 s, so the node closes the connection before 15 s.
  bool closed = false;
  for (int line = 0; line < 30 && !closed; ++line) {
    slow.read_until_closed(500ms);
    closed = slow.closed_by_peer() || !slow.send("X-Slow-" + std::to_string(line) + ": 1\r\n");
  }
  CHECK(closed);
  httplib::Client http("127.0.0.1", node.port());
  check_node_works(http);
  CHECK(node.stop() == 0);
}

TEST_CASE("two Content-Length headers are refused") {
  test_node node;
  for (const char* lengths : {"Content-Length: 7\r\nContent-Length: 7\r\n", "Content-Length: 7, 7\r\n",
                              "Content-Length: 7\r\nContent-Length: 9\r\n"}) {
    perdure::cli_test::raw_socket socket(node.port());
    REQUIRE(socket.send(std::string("POST /api/orchestrations/Chain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n") +
                        lengths + "\r\n\"Tokyo\""));
    const std::string answer = socket.read_until_closed(10s);
    INFO(lengths << " -> " << answer);
    CHECK(perdure::cli_test::raw_socket::status_of(answer) == 400);
    CHECK(answer.find("\"error\"") != std::string::npos);
  }
  CHECK(body_of(httplib::Client("127.0.0.1", node.port()).Get("/api/instances"))["instances"].empty());
  CHECK(node.stop() == 0);
}

TEST_CASE("the Host header is never reflected into the URLs the API returns") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  const auto r = http.Post("/api/orchestrations/Chain", {{"Host", "evil.example:666"}}, "\"x\"", "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 202);
  const std::string own = "http://127.0.0.1:" + std::to_string(node.port()) + "/api/instances/";
  CHECK(r->get_header_value("Location").starts_with(own));
  const json body = json::parse(r->body);
  for (const char* field : {"statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "suspendPostUri",
                            "resumePostUri", "purgeHistoryDeleteUri"})
    CHECK_MESSAGE(body[field].get<std::string>().starts_with(own), field << ": " << body[field]);
  CHECK(r->body.find("evil") == std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("instance ids and event names '.' and '..' are refused") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start(http, "WaitForApproval", "", "dots");
  for (const std::string dots : {".", ".."}) {
    const std::string encoded = dots == "." ? "%2E" : "%2E%2E";
    check_error(http.Post("/api/orchestrations/Chain?instanceId=" + dots, "\"x\"", "application/json"), 400,
                "InvalidArgument");
    check_error(http.Get("/api/instances/" + encoded), 400, "InvalidArgument");
    check_error(http.Post("/api/instances/" + encoded + "/terminate", "", "application/json"), 400, "InvalidArgument");
    check_error(http.Post("/api/instances/dots/raiseEvent/" + encoded, "true", "application/json"), 400,
                "InvalidArgument");
  }
  CHECK(body_of(http.Get("/api/instances")).at("instances").size() == 1);
  CHECK(node.stop() == 0);
}

// Needs the partition to refuse commands for an instance that has ended (issue 13, item 5).
TEST_CASE("a command or an event for a finished instance is answered 410 Gone and changes nothing") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  start(http, "Chain", "\"Nara\"", "ended");
  const json before = wait_for(http, "ended", "Completed");
  const size_t events = events_of(http, "ended").size();
  for (const std::string target : {"/api/instances/ended/terminate?reason=late", "/api/instances/ended/suspend",
                                   "/api/instances/ended/resume", "/api/instances/ended/raiseEvent/Approval"}) {
    INFO(target);
    const auto r = http.Post(target, "true", "application/json");
    check_error(r, 410, "InstanceFinished");
    const std::string message = json::parse(r->body)["message"];
    CHECK_MESSAGE(message.find("'ended' has already ended") != std::string::npos, message);
  }
  const json after = body_of(http.Get("/api/instances/ended"));
  CHECK(after["runtimeStatus"] == "Completed");
  CHECK(after["lastUpdatedTime"] == before["lastUpdatedTime"]);
  CHECK(events_of(http, "ended").size() == events);
  CHECK(node.stop() == 0);
}

TEST_CASE("a reason that is not UTF-8 is refused alike by terminate, suspend and resume") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  const std::string id = start(http, "WaitForApproval", "", "reasons")["id"];
  wait_for(http, id, "Running");
  for (const char* verb : {"terminate", "suspend", "resume"}) {
    const auto r = http.Post("/api/instances/" + id + "/" + verb + "?reason=bad%FF%FEtext", "", "application/json");
    INFO(verb);
    check_error(r, 400, "InvalidArgument");
    CHECK(json::parse(r->body)["message"].get<std::string>().find("reason") != std::string::npos);
  }
  CHECK(body_of(http.Get("/api/instances/" + id))["runtimeStatus"] == "Running");  // none of them applied
  CHECK(http.Post("/api/instances/" + id + "/terminate?reason=caf%C3%A9", "", "application/json")->status == 202);
  wait_for(http, id, "Terminated");
  CHECK(node.stop() == 0);
}

TEST_CASE("a form content type does not cap the body below the documented limit") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  // curl -d sends application/x-www-form-urlencoded; 20 KB is over 8 KB and under both limits.
  const std::string input = "\"" + std::string(20 * 1024, 'f') + "\"";
  const auto r = http.Post("/api/orchestrations/Chain", input, "application/x-www-form-urlencoded");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 202, r->body);
  const json done = wait_for(http, json::parse(r->body)["id"], "Completed");
  CHECK(done["input"].get<std::string>().size() == 20 * 1024);
  // Over the body limit, the answer names that limit.
  const auto over = http.Post("/api/orchestrations/Chain", std::string(test_body_limit + 1, '1'),
                              "application/x-www-form-urlencoded");
  check_error(over, 413, "PayloadTooLarge");
  CHECK(json::parse(over->body)["message"].get<std::string>().find(std::to_string(test_body_limit)) !=
        std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("health is about this node, the cluster view is a route of its own") {
  test_node node;
  httplib::Client http("127.0.0.1", node.port());
  const auto health = http.Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(json::parse(health->body) == json{{"status", "Healthy"}});
  const json cluster = body_of(http.Get("/api/cluster"));
  CHECK(cluster["status"] == "SingleNode");
  CHECK(cluster["members"].empty());
  CHECK(cluster["partitions"].empty());
  CHECK(cluster["replicated"] == false);
  CHECK(node.stop() == 0);
}

TEST_CASE("a node with idle keep-alive connections exits promptly on SIGTERM") {
  test_node node;
  std::vector<std::unique_ptr<perdure::cli_test::raw_socket>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<perdure::cli_test::raw_socket>(node.port()));
    REQUIRE(idle.back()->send("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(perdure::cli_test::raw_socket::status_of(idle.back()->read_until_closed(300ms)) == 200);
  }
  // Stopping closes the connections instead of waiting out their keep-alive (cpp-httplib's
  // server waited 5 s for each thread holding one). The bound is far from both.
  const auto before = std::chrono::steady_clock::now();
  CHECK(node.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - before < 4s);
}
