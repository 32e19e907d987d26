// Orchestration versions and patches in the partition state machine, the code production's
// partitions and orchestration_tester both run: nodes with different code registered (a state
// machine per "deploy") take turns on one store.
#include <partition/state_machine.hpp>

#include <perdure/orchestration_context.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>
#include <perdure/task.hpp>
#include <perdure/testing.hpp>

#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <variant>

using namespace perdure;
using namespace perdure::partition;

namespace {

task<std::string> order_v1(orchestration_context& ctx, std::string item) {
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_return "v1:" + item + ":" + go;
}

task<std::string> order_v2(orchestration_context& ctx, std::string item) {
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_return "v2:" + item + ":" + go;
}

// Continues as new once, into the version its input names (-1: unspecified, the latest).
task<std::string> hop(orchestration_context& ctx, int target_version) {
  if (target_version != -2) {
    ctx.continue_as_new(-2, false, target_version >= 0 ? std::optional<int32_t>(target_version) : std::nullopt);
    co_return "";
  }
  co_return "ran version " + std::to_string(ctx.version());
}

registry registered(std::vector<int32_t> versions) {
  registry r;
  for (int32_t v : versions) {
    r.add_orchestration("Order", v == 1 ? order_v1 : order_v2, {.version = v});
    r.add_orchestration("Hop", hop, {.version = v});
  }
  return r;
}

// One "node": a state machine with its own registry over the hub's store.
struct node_on {
  registry functions;
  std::unique_ptr<state_machine> machine;
  time_point now = time_point(std::chrono::seconds(1704067200));

  node_on(storage::hub_store& store, registry code) : functions(std::move(code)) {
    state_machine_config config;
    config.store = &store;
    config.functions = &functions;
    config.new_execution_id = [n = 0](std::string_view id) mutable { return std::string(id) + "#" + std::to_string(++n); };
    machine = std::make_unique<state_machine>(std::move(config));
    flush_with(machine->recover(now), store);
  }

  actions flush_with(actions first, storage::hub_store& store) {
    while (machine->wants_flush()) {
      auto batch = machine->prepare(now);
      storage::commit_result result;
      if (has_writes(batch)) result = store.commit(batch);
      auto out = machine->committed(std::move(batch), std::move(result), now);
      first.insert(first.end(), out.begin(), out.end());
    }
    return first;
  }

  std::optional<refusal> start(storage::hub_store& store, std::string name, std::string input, std::string id,
                               int32_t version = events::execution_started::any_version) {
    auto out = flush_with(machine->start(1, std::move(name), std::move(input), std::move(id), false, version, now), store);
    for (auto& a : out)
      if (auto* reply = std::get_if<answer>(&a))
        if (auto* refused = std::get_if<refusal>(&reply->value)) return *refused;
    return std::nullopt;
  }

  void raise(storage::hub_store& store, const std::string& id, std::string payload) {
    message go{id, {}, history_event{now, events::event_raised{"go", std::move(payload)}}};
    flush_with(machine->command(2, std::move(go)), store);
  }
};

std::unique_ptr<storage::hub_store> memory_hub(const char* name) {
  return storage::hub_store::open(name, storage::store_options{1, false, 4u << 20, storage::wal_damage::refuse, true});
}

// The node log's lines while it lives (spdlog's default logger, which the partition logs to).
struct captured_log {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  captured_log() { spdlog::default_logger()->sinks().push_back(sink); }
  ~captured_log() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }
  size_t lines_with(std::string_view text) const {
    const auto lines = sink->last_formatted();
    return static_cast<size_t>(
        std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
  }
};

int32_t started_version(const history& events) {
  for (const auto& e : events)
    if (auto* s = std::get_if<events::execution_started>(&e.payload)) return s->version;
  FAIL("no ExecutionStarted");
  return -1;
}

}  // namespace

TEST_CASE("new instances start on the latest version, a start may name one, and each keeps its own") {
  auto hub = memory_hub("versions_side_by_side");
  node_on node(*hub, registered({1, 2}));
  REQUIRE_FALSE(node.start(*hub, "Order", "\"a\"", "latest"));
  REQUIRE_FALSE(node.start(*hub, "Order", "\"b\"", "named", 1));
  CHECK(hub->instance("latest")->version == 2);
  CHECK(started_version(hub->history("latest")) == 2);
  CHECK(hub->instance("named")->version == 1);
  CHECK(started_version(hub->history("named")) == 1);

  auto refused = node.start(*hub, "Order", "\"c\"", "missing", 7);
  REQUIRE(refused);
  CHECK(refused->code == refusal_code::unknown_function);
  CHECK(refused->message.find("version 7 is not registered") != std::string::npos);
  CHECK(refused->message.find("registered: 1, 2") != std::string::npos);

  node.raise(*hub, "latest", "\"go\"");
  node.raise(*hub, "named", "\"go\"");
  CHECK(hub->instance("latest")->output == "\"v2:a:go\"");
  CHECK(hub->instance("named")->output == "\"v1:b:go\"");

  instance_query q;
  q.version = 1;
  const auto page = hub->list(q);
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].instance_id == "named");
}

TEST_CASE("a node without an instance's version keeps it waiting and shows it, and a node with it continues it") {
  auto hub = memory_hub("versions_waiting");
  {
    node_on v1_only(*hub, registered({1}));
    REQUIRE_FALSE(v1_only.start(*hub, "Order", "\"a\"", "old"));
  }
  {
    captured_log log;
    node_on v2_only(*hub, registered({2}));
    // Reported from the node's start, before any message reaches it.
    REQUIRE(hub->instance("old"));
    CHECK(hub->instance("old")->waiting_for_version());
    v2_only.raise(*hub, "old", "\"go\"");  // recorded, not applied: the code is missing
    const auto record = hub->instance("old");
    REQUIRE(record);
    CHECK(record->status == runtime_status::running);
    CHECK(record->waiting_for_version());
    CHECK(record->failure->error_type == "VersionUnavailable");
    CHECK(record->failure->message.find("'Order' version 1 is not registered on this node (registered: 2)") !=
          std::string::npos);
    CHECK(hub->unfinished_instances(0) == std::vector<storage::unfinished_instance>{{"old", "Order", 1, true}});
    instance_query waiting;
    waiting.waiting_for_version = true;
    CHECK(hub->list(waiting).records.size() == 1);

    // A second message does not change the record: the instance still waits, nothing is lost.
    v2_only.raise(*hub, "old", "\"again\"");
    CHECK(hub->instance("old")->waiting_for_version());
    size_t raised = 0;
    for (const auto& e : hub->history("old")) raised += std::holds_alternative<events::event_raised>(e.payload);
    CHECK(raised == 2);
    CHECK(log.lines_with("instance 'old' waits") == 1);  // once per instance, not once per message
  }
  {
    captured_log log;  // a node start names every instance still waiting, once
    node_on v2_again(*hub, registered({2}));
    CHECK(log.lines_with("instance 'old' waits: orchestration 'Order' version 1 is not registered") == 1);
  }
  // The version is back: the recovery replays the instance, which consumes the event it was sent.
  node_on both(*hub, registered({1, 2}));
  const auto record = hub->instance("old");
  REQUIRE(record);
  CHECK(record->status == runtime_status::completed);
  CHECK(record->output == "\"v1:a:go\"");
  CHECK_FALSE(record->failure);
  CHECK(hub->unfinished_instances(0).empty());
}

TEST_CASE("continue-as-new picks the latest version unless the orchestration names one") {
  auto hub = memory_hub("versions_continue_as_new");
  node_on node(*hub, registered({1, 2, 3}));
  REQUIRE_FALSE(node.start(*hub, "Hop", "-1", "to-latest", 1));
  CHECK(hub->instance("to-latest")->output == "\"ran version 3\"");
  REQUIRE_FALSE(node.start(*hub, "Hop", "1", "stays", 1));
  CHECK(hub->instance("stays")->output == "\"ran version 1\"");
  REQUIRE_FALSE(node.start(*hub, "Hop", "9", "to-missing", 1));
  const auto waiting = hub->instance("to-missing");
  CHECK(waiting->version == 9);
  CHECK(waiting->waiting_for_version());
}

namespace {

task<std::string> notify(orchestration_context& ctx) {
  co_await ctx.wait_for_event<std::string>("go");
  if (ctx.is_patched("send-sms")) co_return co_await ctx.call_activity<std::string>("SendSms");
  co_return co_await ctx.call_activity<std::string>("SendEmail");
}

task<std::string> notify_before_patch(orchestration_context& ctx) {
  co_await ctx.wait_for_event<std::string>("go");
  co_return co_await ctx.call_activity<std::string>("SendEmail");
}

}  // namespace

TEST_CASE("patch markers: the tester records what a node records, and old histories take the old path") {
  registry patched;
  patched.add_orchestration("Notify", notify);
  orchestration_tester tester(patched);
  tester.stub_activity("SendSms", [](activity_context&) { return std::string("sms"); });
  tester.raise_event("go", std::string("now"));
  const auto& result = tester.run("Notify");
  CHECK(result.output_as<std::string>() == "sms");
  std::vector<std::string> kinds;
  for (const auto& e : result.events)
    if (!std::holds_alternative<events::episode_started>(e.payload)) kinds.push_back(event_kind_name(e.payload));
  CHECK(kinds == std::vector<std::string>{"ExecutionStarted", "EventRaised", "PatchMarker", "TaskScheduled",
                                          "TaskCompleted", "ExecutionCompleted"});

  // The same orchestration on a partition state machine: the same events, in the same order.
  auto hub = memory_hub("patch_production");
  {
    node_on node(*hub, patched);
    REQUIRE_FALSE(node.start(*hub, "Notify", "", "fresh"));
    node.raise(*hub, "fresh", "\"now\"");
    std::vector<std::string> production;
    for (const auto& e : hub->history("fresh"))
      if (!std::holds_alternative<events::episode_started>(e.payload)) production.push_back(event_kind_name(e.payload));
    CHECK(production == std::vector<std::string>{"ExecutionStarted", "EventRaised", "PatchMarker", "TaskScheduled"});
  }

  // An instance that passed the patch point under the old code keeps the old path after the patch.
  registry old_code;
  old_code.add_orchestration("Notify", notify_before_patch);
  {
    node_on before(*hub, old_code);
    REQUIRE_FALSE(before.start(*hub, "Notify", "", "old"));
    before.raise(*hub, "old", "\"now\"");  // SendEmail scheduled, its result not yet in
  }
  node_on after(*hub, patched);
  message done{"old", {}, history_event{after.now, events::task_completed{0, "\"email\""}}};
  after.flush_with(after.machine->deliver(std::move(done)), *hub);
  const auto record = hub->instance("old");
  CHECK(record->status == runtime_status::completed);
  CHECK(record->output == "\"email\"");
  for (const auto& e : hub->history("old")) CHECK_FALSE(std::holds_alternative<events::patch_marker>(e.payload));
}

namespace {

task<std::string> child_v1(orchestration_context&) { co_return "child v1"; }
task<std::string> child_v2(orchestration_context&) { co_return "child v2"; }

// Calls "Child" in the version its input names (-1: unspecified, the latest).
task<std::string> calls_child(orchestration_context& ctx, int child_version) {
  sub_orchestration_options options;  // outside the co_await (GCC 12)
  options.instance_id = "child-of-" + ctx.instance_id();
  if (child_version >= 0) options.version = child_version;
  co_return co_await ctx.call_sub_orchestration<std::string>("Child", 0, options);
}

}  // namespace

TEST_CASE("a sub-orchestration call may name the child's version, recorded in its SubOrchestrationCreated") {
  registry r;
  r.add_orchestration("Child", child_v1, {.version = 1});
  r.add_orchestration("Child", child_v2, {.version = 2});
  r.add_orchestration("CallsChild", calls_child);
  orchestration_tester tester(r);

  const auto& latest = tester.run("CallsChild", -1, "latest");
  REQUIRE(latest.status == runtime_status::completed);
  CHECK(latest.output_as<std::string>() == "child v2");

  const auto& pinned = tester.run("CallsChild", 1, "pinned");
  REQUIRE(pinned.status == runtime_status::completed);
  CHECK(pinned.output_as<std::string>() == "child v1");
  const auto created = std::find_if(pinned.events.begin(), pinned.events.end(), [](const history_event& e) {
    return std::holds_alternative<events::sub_orchestration_created>(e.payload);
  });
  REQUIRE(created != pinned.events.end());
  CHECK(std::get<events::sub_orchestration_created>(created->payload).version == 1);
  const auto* child = tester.instance("child-of-pinned");
  REQUIRE(child);
  CHECK(std::get<events::execution_started>(child->events[1].payload).version == 1);

  // A version nobody registers: the child waits for it, as any instance would, and so its parent.
  const auto& missing = tester.run("CallsChild", 7, "missing");
  CHECK(missing.status == runtime_status::running);
  REQUIRE(tester.instance("child-of-missing"));
  CHECK(tester.instance("child-of-missing")->status == runtime_status::running);
}
