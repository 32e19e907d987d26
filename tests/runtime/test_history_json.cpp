// The history export (<perdure/history_json.hpp>): every event kind and every field comes back
// exactly, payload text included, and a document that is not an export is refused with a message
// naming what is wrong.
#include "runtime/http_json.hpp"

#include <perdure/history_json.hpp>

#include <doctest/doctest.h>

#include <set>

using namespace perdure;
using nlohmann::json;

namespace {

// Times with nanoseconds: the export must not round them to the display form's microseconds.
time_point at(int64_t nanoseconds_since_epoch) {
  return time_point{std::chrono::nanoseconds{1'717'000'000'123'456'789 + nanoseconds_since_epoch}};
}

// Payload texts that parsing and re-writing would change, or could not carry at all.
const std::vector<std::string> awkward_payloads{
    R"({"b":1,"a":[1.0,2e3,-0.0]})",  // key order, number spelling
    " { \"spaced\" : true } ",         // whitespace
    R"("caf\u00e9 \/ \"quoted\"")",    // escapes
    "null",                            // JSON null, which is not "no payload"
    "",                                // no payload
    "not json at all",                 // stored before payloads were checked
    std::string(100, '[') + std::string(100, ']'),  // deeper than payloads may nest
    "\"caf\xc3\xa9\"",                 // UTF-8
};

failure_details failure(int n) {
  return failure_details{"Type" + std::to_string(n), "message " + std::to_string(n), "details\nline 2", n % 2 == 0};
}

// One event of every kind, every field set away from its default.
history every_kind(const std::string& payload) {
  history h;
  int64_t t = 0;
  const auto add = [&](event_payload p) { h.push_back(history_event{at(t++), std::move(p)}); };
  add(events::execution_started{"Order", "order-42", "exec-1", payload, parent_instance{"Parent", "p-1", "exec-0", 7}, 3});
  add(events::episode_started{});
  add(events::patch_marker{"send-sms", true});
  add(events::task_scheduled{1, "Charge", payload, 2, 0,
                             activity_timeouts{at(2'000'000'003), at(3'000'000'007), std::chrono::nanoseconds(1'500'000'001)},
                             payload});
  add(events::task_completed{1, payload});
  add(events::task_failed{2, failure(1), payload});
  add(events::timer_created{3, at(1'000'000'001)});
  add(events::timer_fired{3, at(1'000'000'001)});
  add(events::sub_orchestration_created{4, "Child", "order-42:child", payload, 2});
  add(events::sub_orchestration_completed{4, payload});
  add(events::sub_orchestration_failed{5, failure(2)});
  add(events::event_raised{"approval", payload});
  add(events::event_sent{6, "other-1", "ping", payload});
  add(events::entity_called{7, "@counter@a", "add", payload});
  add(events::entity_signaled{8, "@counter@b", "reset", payload});
  add(events::entity_signaled{10, "@counter@b", "add", payload, at(1'000'000'002)});
  add(events::entity_call_completed{7, payload});
  add(events::entity_call_failed{9, failure(3)});
  add(events::entity_operation{"add", payload, "caller-1", "exec-9", 11});
  add(events::entity_operation{"add", payload, "caller-1", "exec-9", -1, at(1'000'000'003)});
  add(events::execution_suspended{"maintenance"});
  add(events::execution_resumed{"done"});
  add(events::execution_completed{payload});
  add(events::execution_failed{failure(4)});
  add(events::continued_as_new{payload});
  add(events::execution_terminated{"operator: stop"});
  add(events::execution_rewound{"Charge fixed"});
  add(events::execution_restarted{"exec-0", 12, 3});
  return h;
}

}  // namespace

TEST_CASE("history export round-trips every event kind and field, payload text exactly") {
  std::set<size_t> kinds;
  for (const auto& e : every_kind("")) kinds.insert(e.payload.index());
  REQUIRE(kinds.size() == std::variant_size_v<event_payload>);

  for (const auto& payload : awkward_payloads) {
    CAPTURE(payload);
    const history original = every_kind(payload);
    const history read_back = read_history_json(write_history_json("order-42", original));
    REQUIRE(read_back.size() == original.size());
    for (size_t i = 0; i < original.size(); ++i) {
      CAPTURE(i);
      CHECK(read_back[i] == original[i]);
    }
  }
}

TEST_CASE("history export keeps defaults that are left out of the document") {
  // A first attempt has no firstTaskId and a top-level start no parent: both are written as absent.
  const history original{history_event{at(0), events::execution_started{"Order", "o-1", "e-1", "{}", std::nullopt, 0}},
                         history_event{at(1), events::task_scheduled{1, "Charge", "{}", 1, -1}}};
  const json document = json::parse(write_history_json("o-1", original));
  CHECK_FALSE(document["events"][0].contains("parent"));
  CHECK_FALSE(document["events"][1].contains("firstTaskId"));
  CHECK(read_history_json(document.dump()) == original);
}

TEST_CASE("history export document names its format and carries payloads as their text") {
  const history h{history_event{at(0), events::execution_started{"Order", "o-1", "e-1", R"({"b":1,"a":2})", {}, 2}}};
  const json document = json::parse(write_history_json("o-1", h));
  CHECK(document["format"] == "perdure-history");
  CHECK(document["formatVersion"] == 1);
  CHECK(document["instanceId"] == "o-1");
  const json& started = document["events"][0];
  CHECK(started["kind"] == "ExecutionStarted");
  CHECK(started["index"] == 0);
  CHECK(started["input"] == R"({"b":1,"a":2})");
  CHECK(started["timestamp"] == "2024-05-29T16:26:40.123456789Z");
  // The display form (the history route, the web view) embeds the same payload as a value.
  CHECK(event_json(0, h[0])["input"] == json{{"a", 2}, {"b", 1}});
  CHECK(event_json(0, h[0])["timestamp"] == "2024-05-29T16:26:40.123456Z");
}

TEST_CASE("history export reader refuses what is not an export, naming the problem") {
  const auto refusal = [](const std::string& text) {
    try {
      read_history_json(text);
    } catch (const invalid_argument_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refusal("{").find("not valid JSON") != std::string::npos);
  // The history route's display form is not an export: its payloads lost their text.
  CHECK(refusal(R"({"instanceId":"o-1","events":[]})").find("not a history export") != std::string::npos);
  CHECK(refusal(R"({"format":"perdure-history","formatVersion":2,"events":[]})").find("formatVersion 2") !=
        std::string::npos);
  const std::string head = R"({"format":"perdure-history","formatVersion":1,"events":[)";
  CHECK(refusal(head + R"({"kind":"Nope","timestamp":"2024-01-01T00:00:00Z"}]})").find("event 0 has an unknown kind 'Nope'") == 0);
  CHECK(refusal(head + R"({"kind":"TaskCompleted","timestamp":"2024-01-01T00:00:00Z","output":null}]})") ==
        "event 0 (TaskCompleted) has no 'taskId'");
  CHECK(refusal(head + R"({"kind":"TaskCompleted","timestamp":"2024-01-01T00:00:00Z","taskId":"1","output":null}]})") ==
        "event 0 (TaskCompleted) field 'taskId' must be a 32-bit integer");
  CHECK(refusal(head + R"({"kind":"TaskCompleted","timestamp":"2024-01-01T00:00:00Z","taskId":1,"output":{}}]})") ==
        "event 0 (TaskCompleted) field 'output' must be null or a string holding the payload's JSON text");
  CHECK(refusal(head + R"({"kind":"EpisodeStarted","timestamp":"yesterday"}]})").find("event 0 field 'timestamp' must be an ISO 8601 time") == 0);
  CHECK(refusal(head + R"({"kind":"EpisodeStarted","timestamp":"2024-01-01T00:00:00Z"}]})") == "accepted");
}
