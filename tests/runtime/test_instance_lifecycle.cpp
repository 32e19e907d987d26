// The partition's lifecycle rules on a real node (RocksDB on disk, CAF actors): a sub-orchestration
// whose id is taken, instances stalled by changed code (terminate, purge, fix forward, the
// timeline), and commands for finished instances.
#include "node_fixture.hpp"

#include <perdure/errors.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::eventually;
using testing_support::temp_dir;
using testing_support::test_node_options;

namespace {

// Short: on the code before the fix these waits never end.
constexpr auto limit = std::chrono::seconds(10);

int echo(activity_context&, int x) { return x; }

task<std::string> waits_forever(orchestration_context& ctx) {
  co_await ctx.wait_for_event<std::string>("Never");
  co_return "woken";
}

task<std::string> starts_taken_child(orchestration_context& ctx, std::string child_id) {
  try {
    co_await ctx.call_sub_orchestration<std::string>("WaitsForever", 0, child_id);
    co_return std::string("started");
  } catch (const task_failed& e) {
    co_return e.failure().error_type + ": " + e.failure().message;
  }
}

// Version 1 and a changed version 2 of one orchestration: v2 calls "Other" where the history
// holds "Echo", so its replay is a non-determinism error.
task<int> flow_v1(orchestration_context& ctx) {
  int a = co_await ctx.call_activity<int>("Echo", 1);
  co_await ctx.wait_for_event<std::string>("Go");
  co_return a + co_await ctx.call_activity<int>("Echo", 10);
}
task<int> flow_v2(orchestration_context& ctx) {
  int a = co_await ctx.call_activity<int>("Other", 1);
  co_await ctx.wait_for_event<std::string>("Go");
  co_return a;
}

void register_common(host& h) {
  h.add_activity("Echo", echo);
  h.add_activity("Other", echo);
  h.add_orchestration("WaitsForever", waits_forever);
  h.add_orchestration("StartsTakenChild", starts_taken_child);
}

struct versioned_node {
  host h;
  versioned_node(const std::filesystem::path& data, int version) {
    register_common(h);
    if (version == 1)
      h.add_orchestration("Flow", flow_v1);
    else
      h.add_orchestration("Flow", flow_v2);
    h.start(test_node_options(data));
  }
  client& c() { return h.client(); }
};

int count_kind(const history& events, std::string_view kind) {
  int n = 0;
  for (const auto& e : events) n += event_kind_name(e.payload) == kind;
  return n;
}

// Starts Flow on v1 until it waits for "Go", then raises "Go" on v2: the instance stalls.
void stall_flow(const std::filesystem::path& data, const std::string& id) {
  {
    versioned_node v1(data, 1);
    v1.c().start("Flow", "", start_options{id});
    REQUIRE(eventually([&] { return count_kind(v1.c().history(id), "TaskCompleted") == 1; }, limit));
  }
  versioned_node v2(data, 2);
  v2.c().raise_event(id, "Go", R"("now")");
  REQUIRE(eventually([&] {
    auto record = v2.c().status(id);
    return record && record->failure && record->failure->error_type == "NonDeterminismError";
  }, limit));
}

}  // namespace

TEST_CASE("a sub-orchestration whose instance id runs fails the parent's call: instance already exists") {
  temp_dir dir;
  versioned_node n(dir.path(), 1);
  n.c().start("WaitsForever", "", start_options{"taken"});
  const auto parent = n.c().start("StartsTakenChild", R"("taken")");
  const auto record = n.c().wait_for_completion(parent, limit);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output.find("perdure::instance_already_exists") != std::string::npos);
  CHECK(record.output.find("'taken'") != std::string::npos);
  CHECK(n.c().status("taken")->status == runtime_status::running);  // the running one is untouched
}

TEST_CASE("a stalled instance can be terminated, once, and then purged") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  stall_flow(data, "stalled");
  versioned_node v2(data, 2);
  v2.c().terminate("stalled", "bad deploy");
  const auto record = v2.c().wait_for_completion("stalled", limit);
  CHECK(record.status == runtime_status::terminated);
  CHECK(record.output == "\"bad deploy\"");
  CHECK_THROWS_AS(v2.c().terminate("stalled", "again"), instance_finished);
  CHECK(count_kind(v2.c().history("stalled"), "ExecutionTerminated") == 1);
  CHECK(v2.c().purge("stalled"));
  CHECK_FALSE(v2.c().status("stalled"));
}

TEST_CASE("a stalled instance keeps only the commands that apply, and fixed code continues it at the time it runs") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  stall_flow(data, "fixme");
  {
    versioned_node v2(data, 2);
    v2.c().resume("fixme", "not suspended");  // nothing to resume: dropped, as the engine would
    std::this_thread::sleep_for(100ms);
    CHECK(count_kind(v2.c().history("fixme"), "ExecutionResumed") == 0);
    CHECK(v2.c().status("fixme")->status == runtime_status::running);
  }
  std::this_thread::sleep_for(300ms);  // the stalled episode's time is now clearly in the past
  versioned_node v1(data, 1);
  const auto fixed_at = clock::now();
  v1.c().resume("fixme", "fixed");  // any message revives it
  const auto record = v1.c().wait_for_completion("fixme", limit);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "11");
  CHECK_FALSE(record.failure);
  const auto events = v1.c().history("fixme");
  CHECK(count_kind(events, "EventRaised") == 1);
  CHECK(count_kind(events, "ExecutionResumed") == 0);
  const history_event* second_call = nullptr;
  for (const auto& e : events)
    if (auto* t = std::get_if<events::task_scheduled>(&e.payload); t && t->task_id == 1) second_call = &e;
  REQUIRE(second_call);
  // Scheduled by the fixed code, so at the time it ran: not back at the stalled episode's time
  // (which would make the activity look as if it took the whole stall).
  CHECK(second_call->timestamp >= fixed_at);
}

TEST_CASE("commands for a finished instance are refused with instance_finished") {
  temp_dir dir;
  versioned_node n(dir.path(), 1);
  const auto id = n.c().start("WaitsForever", "");
  n.c().terminate(id, "done");
  CHECK(n.c().wait_for_completion(id, limit).status == runtime_status::terminated);
  CHECK_THROWS_AS(n.c().terminate(id, "again"), instance_finished);
  CHECK_THROWS_AS(n.c().raise_event(id, "Never", R"("late")"), instance_finished);
  CHECK_THROWS_AS(n.c().suspend(id, "late"), instance_finished);
  CHECK_THROWS_AS(n.c().resume(id, "late"), instance_finished);
  CHECK(count_kind(n.c().history(id), "ExecutionTerminated") == 1);
}
