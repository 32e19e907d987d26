// Traces on a real node process (tests/runtime/trace_node.cpp, RocksDB on disk, its management
// API): an instance started with a W3C traceparent, its activities, timer and sub-orchestration are
// spans of one trace, exported by OTLP/HTTP JSON to a collector stand-in in the test; a kill -9 and a
// restart mid-run export no span twice; a collector that is down costs spans (counted in /metrics),
// not the node's work; --log-format json lines carry instance_id and trace_id.
#include "node_fixture.hpp"
#include "support/child_process.hpp"
#include "support/free_ports.hpp"
#include "support/prometheus_sample.hpp"

#include "runtime/http_time.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

using namespace perdure;
using nlohmann::json;
using testing_support::child_process;
using testing_support::eventually;
using testing_support::temp_dir;

namespace {

constexpr const char* given_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* given_span = "00f067aa0ba902b7";

// An OTLP/HTTP JSON receiver: every span posted to /v1/traces, with its resource's attributes. Over
// https:// with a certificate and key.
class collector {
 public:
  collector() : collector(std::make_unique<httplib::Server>(), "http://") {}
  collector(const std::string& certificate, const std::string& key)
      : collector(std::make_unique<httplib::SSLServer>(certificate.c_str(), key.c_str()), "https://") {}

 private:
  collector(std::unique_ptr<httplib::Server> server, std::string scheme)
      : server_(std::move(server)), scheme_(std::move(scheme)) {
    REQUIRE(server_->is_valid());
    server_->Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      const auto request = json::parse(req.body);
      std::lock_guard lock{mutex_};
      for (const auto& resource : request.at("resourceSpans"))
        for (const auto& scope : resource.at("scopeSpans"))
          for (auto span : scope.at("spans")) {
            span["resource"] = resource.at("resource").at("attributes");
            spans_.push_back(std::move(span));
          }
      res.set_content("{}", "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }

 public:
  ~collector() {
    server_->stop();
    thread_.join();
  }
  std::string endpoint() const { return scheme_ + "127.0.0.1:" + std::to_string(port_); }
  std::vector<json> spans() {
    std::lock_guard lock{mutex_};
    return spans_;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<json> spans_;
};

std::string attribute(const json& attributes, const std::string& key) {
  for (const auto& a : attributes)
    if (a.at("key") == key) {
      const auto& value = a.at("value");
      return value.contains("stringValue") ? value.at("stringValue").get<std::string>()
                                           : value.at("intValue").get<std::string>();
    }
  return {};
}

std::string attribute_of(const json& span, const std::string& key) { return attribute(span.at("attributes"), key); }

// The spans of operations run on the entity `entity` (its instance-id form, "@Counter@key").
std::vector<json> entity_spans(const std::vector<json>& spans, const std::string& operation, const std::string& entity) {
  std::vector<json> out;
  for (const auto& s : spans)
    if (s.at("name") == "entity Counter " + operation && attribute_of(s, "perdure.entity_id") == entity) out.push_back(s);
  return out;
}

std::vector<json> named(const std::vector<json>& spans, const std::string& name, const std::string& instance) {
  std::vector<json> out;
  for (const auto& s : spans)
    if (s.at("name") == name && attribute_of(s, "perdure.instance_id") == instance) out.push_back(s);
  return out;
}

// tests/runtime/trace_node.cpp on `dir`, until destroyed or killed.
struct trace_node {
  std::unique_ptr<child_process> process;
  int port = -1;

  trace_node(const std::filesystem::path& dir, const std::string& otlp_endpoint,
             const std::vector<std::string>& more_flags = {}) {
    std::vector<std::string> args{TRACE_NODE_PATH, "--data",     (dir / "hub").string(), "--otlp-endpoint",
                                  otlp_endpoint,   "--log-format", "json",                 "--log-level",
                                  "info"};
    args.insert(args.end(), more_flags.begin(), more_flags.end());
    process = std::make_unique<child_process>(args);
    auto line = process->wait_for_line("PORT ", 120'000);
    REQUIRE(line);
    port = std::stoi(line->substr(5));
  }

  httplib::Client http() const { return httplib::Client("127.0.0.1", port); }

  json get(const std::string& path) const {
    auto r = http().Get(path);
    REQUIRE(r);
    REQUIRE_MESSAGE((r->status == 200 || r->status == 202), r->body);  // 202: the instance runs
    return json::parse(r->body);
  }

  void start(const std::string& name, const std::string& id, const httplib::Headers& headers,
             const std::string& input = "\"\"") {
    auto r = http().Post("/api/orchestrations/" + name + "?instanceId=" + id, headers, input, "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 202, r->body);
  }

  void start_parent(const std::string& id, const httplib::Headers& headers) { start("Parent", id, headers); }

  void wait_for_status(const std::string& id, const std::string& status) {
    REQUIRE(eventually([&] { return get("/api/instances/" + id).value("runtimeStatus", "") == status; }));
  }

  void post(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) {
    auto r = http().Post(path, headers, body, "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 202, r->body);
  }

  void signal(const std::string& entity_key, const std::string& operation, const std::string& input,
              const httplib::Headers& headers = {}) {
    post("/api/entities/Counter/" + entity_key + "/signals/" + operation, input, headers);
  }

  void wait_until_waiting(const std::string& id) {
    REQUIRE(eventually([&] { return get("/api/instances/" + id).value("customStatus", json{}) == "waiting"; }));
  }

  void finish(const std::string& id) {
    auto r = http().Post("/api/instances/" + id + "/raiseEvent/finish", "1", "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 202, r->body);
    REQUIRE(eventually([&] { return get("/api/instances/" + id).value("runtimeStatus", "") == "Completed"; }));
  }

  size_t episodes_in_history(const std::string& id) const {
    size_t count = 0;
    const auto history = get("/api/instances/" + id + "/history");
    for (const auto& event : history.at("events"))
      if (event.value("kind", "") == "EpisodeStarted") ++count;
    return count;
  }

  std::string metrics() const {
    auto r = http().Get("/metrics");
    REQUIRE(r);
    return r->body;
  }
};

}  // namespace

TEST_CASE("traces: an instance started with a traceparent, its activities, timer and sub-orchestration form one "
          "trace, and a kill -9 with a restart mid-run exports no span twice") {
  temp_dir dir;
  collector otlp;
  const std::string id = "traced";
  const std::string child_id = id + "-child";
  const std::string traceparent = std::string{"00-"} + given_trace + "-" + given_span + "-01";
  {
    trace_node node{dir.path(), otlp.endpoint()};
    node.start_parent(id, {{"traceparent", traceparent}, {"tracestate", "vendor=x"}});
    node.wait_until_waiting(id);
    // Every span of the work so far has reached the collector before the kill.
    REQUIRE(eventually([&] {
      const auto spans = otlp.spans();
      return named(spans, "orchestration Child", child_id).size() == 1 &&
             named(spans, "activity Work", id).size() == 1 && named(spans, "activity Work", child_id).size() == 1 &&
             named(spans, "timer", id).size() == 1;
    }));

    // --log-format json: every line is one JSON object; the orchestration's own line names its
    // instance and trace.
    bool seen_parent_line = false;
    while (auto line = node.process->read_line(2'000)) {
      const auto entry = json::parse(*line);
      CHECK(entry.contains("time"));
      CHECK(entry.contains("level"));
      if (entry.value("message", "").find("parent begins") != std::string::npos) {
        seen_parent_line = true;
        CHECK(entry.value("instance_id", "") == id);
        CHECK(entry.value("trace_id", "") == given_trace);
      }
      if (seen_parent_line) break;
    }
    CHECK(seen_parent_line);
    node.process->kill();
    node.process->wait();
  }
  trace_node node{dir.path(), otlp.endpoint()};
  node.finish(id);
  REQUIRE(eventually([&] { return named(otlp.spans(), "orchestration Parent", id).size() == 1; }));
  REQUIRE(eventually([&] { return named(otlp.spans(), "activity Work", id).size() == 2; }));
  const auto spans = otlp.spans();

  std::set<std::string> span_ids;
  for (const auto& span : spans) {
    CHECK(span.at("traceId") == given_trace);
    CHECK_MESSAGE(span_ids.insert(span.at("spanId").get<std::string>()).second, "span exported twice: ", span.dump());
    CHECK(attribute(span.at("resource"), "service.name") == "perdure");
  }

  const auto parent = named(spans, "orchestration Parent", id);
  REQUIRE(parent.size() == 1);
  CHECK(parent[0].at("parentSpanId") == given_span);
  CHECK(parent[0].value("traceState", "") == "vendor=x");
  CHECK(attribute_of(parent[0], "perdure.status") == "Completed");
  const auto child = named(spans, "orchestration Child", child_id);
  REQUIRE(child.size() == 1);
  CHECK(child[0].at("parentSpanId") == parent[0].at("spanId"));
  CHECK(attribute_of(child[0], "perdure.parent_instance_id") == id);
  const std::map<std::string, json> instance_span{{id, parent[0]}, {child_id, child[0]}};

  // Every other span is a child of its instance's span.
  std::set<std::tuple<std::string, std::string, std::string>> attempts;
  std::map<std::string, size_t> episodes;
  for (const auto& span : spans) {
    const auto name = span.at("name").get<std::string>();
    if (name.starts_with("orchestration ")) continue;
    const auto instance = attribute_of(span, "perdure.instance_id");
    REQUIRE(instance_span.contains(instance));
    CHECK(span.at("parentSpanId") == instance_span.at(instance).at("spanId"));
    CHECK(!attribute_of(span, "perdure.execution_id").empty());
    CHECK(!span.contains("status"));  // nothing failed
    if (name == "activity Work") {
      CHECK(attribute_of(span, "perdure.attempt") == "1");
      CHECK(attempts.emplace(instance, attribute_of(span, "perdure.task_id"), attribute_of(span, "perdure.attempt"))
                .second);
    }
    if (name.starts_with("episode ")) ++episodes[instance];
  }
  CHECK(named(spans, "activity Work", child_id).size() == 1);

  // The timer's span ends with the commit that recorded it fired, not at its fire time: no earlier
  // than the episode that applied its TimerFired (the event's timestamp, in microseconds).
  const auto timer = named(spans, "timer", id);
  REQUIRE(timer.size() == 1);
  const auto history = node.get("/api/instances/" + id + "/history");
  std::optional<json> fired;
  for (const auto& event : history.at("events"))
    if (event.value("kind", "") == "TimerFired") fired.emplace(event);
  REQUIRE(fired);
  const auto unix_micros = [](const std::string& iso) {
    const auto at = parse_iso8601(iso);
    REQUIRE(at);
    return std::chrono::duration_cast<std::chrono::microseconds>(at->time_since_epoch()).count();
  };
  const auto nanos = [](const json& text) { return std::stoll(text.get<std::string>()); };
  CHECK(nanos(timer[0].at("startTimeUnixNano")) / 1000 == unix_micros(fired->at("createdAt")));
  CHECK(nanos(timer[0].at("endTimeUnixNano")) / 1000 >= unix_micros(fired->at("timestamp")));
  CHECK(nanos(timer[0].at("endTimeUnixNano")) / 1000 >= unix_micros(fired->at("fireAt")));
  // At most one span per committed episode: the episode after the restart replayed the history
  // and exported only its own span.
  CHECK(episodes[id] >= 1);
  CHECK(episodes[id] <= node.episodes_in_history(id));
  CHECK(episodes[child_id] <= node.episodes_in_history(child_id));

  // Each activity saw the traceparent of its own attempt's span.
  const auto output = node.get("/api/instances/" + id).at("output");
  REQUIRE(output.size() == 3);
  std::set<std::string> activity_span_ids;
  for (const auto& span : spans)
    if (span.at("name") == "activity Work") activity_span_ids.insert(span.at("spanId").get<std::string>());
  for (const auto& seen : output) {
    const auto text = seen.get<std::string>();
    REQUIRE(text.size() == 55);
    CHECK(text.substr(3, 32) == given_trace);
    CHECK(activity_span_ids.contains(text.substr(36, 16)));
  }
}

TEST_CASE("traces: without a traceparent an instance begins its own trace, and a malformed one is ignored") {
  temp_dir dir;
  collector otlp;
  trace_node node{dir.path(), otlp.endpoint()};
  node.start_parent("own", {});
  node.start_parent("malformed", {{"traceparent", "00-not-a-trace-01"}});
  for (const auto* id : {"own", "malformed"}) {
    node.wait_until_waiting(id);
    node.finish(id);
  }
  REQUIRE(eventually([&] {
    const auto spans = otlp.spans();
    return named(spans, "orchestration Parent", "own").size() == 1 &&
           named(spans, "orchestration Parent", "malformed").size() == 1;
  }));
  const auto spans = otlp.spans();
  const auto own = named(spans, "orchestration Parent", "own")[0];
  const auto malformed = named(spans, "orchestration Parent", "malformed")[0];
  CHECK(!own.contains("parentSpanId"));
  CHECK(!malformed.contains("parentSpanId"));
  CHECK(own.at("traceId") != malformed.at("traceId"));
  CHECK(own.at("traceId").get<std::string>().size() == 32);
}

TEST_CASE("traces: a collector that is down costs spans, counted in /metrics, and never the node's work") {
  temp_dir dir;
  const auto closed_port = testing_support::free_base_port(1);  // nothing listens there
  trace_node node{dir.path(), "http://127.0.0.1:" + std::to_string(closed_port)};
  node.start_parent("unheard", {});
  node.wait_until_waiting("unheard");
  node.finish("unheard");
  CHECK(eventually([&] { return testing_support::sample_value(node.metrics(), "perdure_spans_dropped_total") > 0; }));
  CHECK(testing_support::sample_value(node.metrics(), "perdure_spans_exported_total") == 0);
}

TEST_CASE("traces: an event sent links the receiving episode to the sending one, and entity operations are "
          "children of the span that sent them") {
  temp_dir dir;
  collector otlp;
  trace_node node{dir.path(), otlp.endpoint()};
  const std::string traceparent = std::string{"00-"} + given_trace + "-" + given_span + "-01";
  const std::string client_trace = "0af7651916cd43dd8448eb211c80319c";
  const std::string client_span = "b7ad6b7169203331";
  const std::string client_traceparent = "00-" + client_trace + "-" + client_span + "-01";

  node.start("Receiver", "receiver", {});
  node.start("Receiver", "raised-to", {});
  node.wait_for_status("receiver", "Running");
  node.wait_for_status("raised-to", "Running");
  node.start("Sender", "sender", {{"traceparent", traceparent}}, "\"receiver\"");
  node.post("/api/instances/raised-to/raiseEvent/ping", "3", {{"traceparent", client_traceparent}});
  node.signal("hop", "relay", "5", {{"traceparent", client_traceparent}});
  for (const auto* id : {"sender", "receiver", "raised-to"}) node.wait_for_status(id, "Completed");
  REQUIRE(eventually([&] {
    const auto spans = otlp.spans();
    return named(spans, "orchestration Sender", "sender").size() == 1 &&
           named(spans, "orchestration Receiver", "receiver").size() == 1 &&
           named(spans, "orchestration Receiver", "raised-to").size() == 1 &&
           entity_spans(spans, "add", "@Counter@shared").size() == 2 &&
           entity_spans(spans, "add", "@Counter@relayed").size() == 1;
  }));
  const auto spans = otlp.spans();

  // The sending episode: the one whose span the receiver's links to.
  std::set<std::string> sender_episodes;
  for (const auto& span : named(spans, "episode Sender", "sender")) sender_episodes.insert(span.at("spanId"));
  const auto linked_episode = [&](const std::string& receiver) {
    std::vector<json> links;
    for (const auto& span : named(spans, "episode Receiver", receiver))
      if (span.contains("links")) links.push_back(span);
    REQUIRE(links.size() == 1);
    CHECK(links[0].at("parentSpanId") == named(spans, "orchestration Receiver", receiver)[0].at("spanId"));
    REQUIRE(links[0].at("links").size() == 1);
    return links[0].at("links")[0];
  };
  const auto sent_from = linked_episode("receiver");
  CHECK(sent_from.at("traceId") == given_trace);
  CHECK(sender_episodes.contains(sent_from.at("spanId")));
  CHECK(named(spans, "orchestration Receiver", "receiver")[0].at("traceId") != given_trace);  // a trace of its own

  // The client's raise links to the client's span.
  const auto raised_from = linked_episode("raised-to");
  CHECK(raised_from.at("traceId") == client_trace);
  CHECK(raised_from.at("spanId") == client_span);

  // The signal and the call: children of the episode that sent them, in the sender's trace.
  for (const auto& span : entity_spans(spans, "add", "@Counter@shared")) {
    CHECK(span.at("traceId") == given_trace);
    CHECK(span.at("parentSpanId") == sent_from.at("spanId"));
    CHECK(attribute_of(span, "perdure.caller_instance_id") == "sender");
    CHECK(attribute_of(span, "perdure.operation") == "add");
    CHECK(!span.contains("status"));
  }

  // The client's signal, and the signal its operation sent: a chain of children in the client's trace.
  const auto relay = entity_spans(spans, "relay", "@Counter@hop");
  REQUIRE(relay.size() == 1);
  CHECK(relay[0].at("traceId") == client_trace);
  CHECK(relay[0].at("parentSpanId") == client_span);
  CHECK(attribute_of(relay[0], "perdure.caller_instance_id").empty());
  const auto relayed = entity_spans(spans, "add", "@Counter@relayed")[0];
  CHECK(relayed.at("traceId") == client_trace);
  CHECK(relayed.at("parentSpanId") == relay[0].at("spanId"));
  CHECK(attribute_of(relayed, "perdure.caller_instance_id") == "@Counter@hop");
}

TEST_CASE("traces: an entity operation's span is exported at most once across a kill -9 and a restart") {
  temp_dir dir;
  collector otlp;
  constexpr int adds = 40;
  {
    trace_node node{dir.path(), otlp.endpoint()};
    for (int i = 0; i < adds; ++i) node.signal("crash", "add", "1");
    node.process->kill();  // some operations committed, some of their spans exported, some neither
    node.process->wait();
  }
  trace_node node{dir.path(), otlp.endpoint()};
  REQUIRE(eventually([&] {
    auto r = node.http().Get("/api/entities/Counter/crash");
    return r && r->status == 200 && json::parse(r->body).at("state") == adds;  // each ran once
  }));
  // A last operation: the restarted node exports its span after any it exports for earlier ones.
  const std::string marker_span = "1111111111111111";
  node.signal("crash", "add", "1", {{"traceparent", std::string{"00-"} + given_trace + "-" + marker_span + "-01"}});
  REQUIRE(eventually([&] {
    for (const auto& span : entity_spans(otlp.spans(), "add", "@Counter@crash"))
      if (span.value("parentSpanId", "") == marker_span) return true;
    return false;
  }));
  const auto spans = entity_spans(otlp.spans(), "add", "@Counter@crash");
  std::set<std::string> span_ids;
  for (const auto& span : spans)
    CHECK_MESSAGE(span_ids.insert(span.at("spanId").get<std::string>()).second, "span exported twice: ", span.dump());
  CHECK(spans.size() <= adds + 1);
}

TEST_CASE("traces: an https:// collector's certificate is checked against --otlp-ca-file") {
  temp_dir dir;
  const auto certs = (dir.path() / "certs").string();
  const std::string make_certs = std::string{PERDURE_SOURCE_DIR} + "/scripts/make-test-certs.sh " + certs + " collector >/dev/null";
  REQUIRE_MESSAGE(std::system(make_certs.c_str()) == 0, make_certs);
  collector otlp{certs + "/collector.pem", certs + "/collector.key"};
  REQUIRE(otlp.endpoint().starts_with("https://"));
  {
    // Without the test CA the collector's certificate is not trusted: nothing reaches it.
    trace_node untrusting{dir.path() / "untrusting", otlp.endpoint()};
    untrusting.start_parent("untrusted", {});
    untrusting.wait_until_waiting("untrusted");
    CHECK(eventually(
        [&] { return testing_support::sample_value(untrusting.metrics(), "perdure_spans_dropped_total") > 0; }));
    CHECK(testing_support::sample_value(untrusting.metrics(), "perdure_spans_exported_total") == 0);
  }
  trace_node node{dir.path() / "trusting", otlp.endpoint(), {"--otlp-ca-file", certs + "/ca.pem"}};
  node.start_parent("secure", {});
  node.wait_until_waiting("secure");
  node.finish("secure");
  CHECK(eventually([&] { return named(otlp.spans(), "orchestration Parent", "secure").size() == 1; }));
  CHECK(named(otlp.spans(), "orchestration Parent", "untrusted").empty());
}
