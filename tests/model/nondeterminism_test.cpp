// Non-determinism detection, the user-facing replay checker, and fixing forward.
#include "harness.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/replay.hpp>

using namespace perdure;
using namespace perdure::test;

namespace {

task<void> v1(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  co_await ctx.call_activity("ChargeCard");
  co_await ctx.call_activity("Ship");
}

task<void> v2_renamed(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  co_await ctx.call_activity("ProcessPayment");
  co_await ctx.call_activity("Ship");
}

task<void> v3_timer(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  co_await ctx.create_timer(std::chrono::seconds(1));
  co_await ctx.call_activity("Ship");
}

task<void> v4_shorter(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
}

task<void> v5_longer(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  co_await ctx.call_activity("ChargeCard");
  co_await ctx.call_activity("Ship");
  co_await ctx.call_activity("Email");
}

history run_v1_through_charge() {
  registry functions;
  functions.add_orchestration("Order", v1);
  harness h(functions, "Order");
  h.step(0, {started("Order", "")});
  h.step(1, {completed(0, "")});
  h.step(2, {completed(1, "")});
  return h.events();
}

registry with(task<void> (*fn)(orchestration_context&)) {
  registry r;
  r.add_orchestration("Order", fn);
  return r;
}

}  // namespace

TEST_CASE("a renamed activity is reported with both sides and the position") {
  history old = run_v1_through_charge();
  try {
    replay(old, with(v2_renamed));
    FAIL("no error");
  } catch (const nondeterminism_error& e) {
    CHECK(e.in_history() == "TaskScheduled 'ChargeCard' (task 1)");
    CHECK(e.in_code() == "TaskScheduled 'ProcessPayment' (task 1)");
    CHECK(e.position() == 5);
    CHECK(std::holds_alternative<events::task_scheduled>(old[e.position()].payload));
  }
}

TEST_CASE("a different kind of action at the same id is reported") {
  auto report = check_replay(run_v1_through_charge(), with(v3_timer));
  REQUIRE(report);
  CHECK(report->in_history() == "TaskScheduled 'ChargeCard' (task 1)");
  CHECK(report->in_code() == "TimerCreated (timer 1)");
}

TEST_CASE("code that stops short of the history is reported") {
  auto report = check_replay(run_v1_through_charge(), with(v4_shorter));
  REQUIRE(report);
  CHECK(report->in_history() == "TaskScheduled 'ChargeCard' (task 1)");
  CHECK(report->in_code() == "ExecutionCompleted");
}

TEST_CASE("code that goes further than a finished history is reported at its end") {
  registry functions = with(v1);
  harness h(functions, "Order");
  h.step(0, {started("Order", "")});
  h.step(1, {completed(0, "")});
  h.step(2, {completed(1, "")});
  h.step(3, {completed(2, "")});
  auto report = check_replay(h.events(), with(v5_longer));
  REQUIRE(report);
  CHECK(report->in_history() == "ExecutionCompleted");
  CHECK(report->in_code() == "no further action (the orchestration waits)");
  CHECK(report->position() == h.events().size() - 1);
}

TEST_CASE("the code swapped between episodes: the cached executor keeps going, a rebuild fails") {
  history old = run_v1_through_charge();
  registry changed = with(v2_renamed);
  orchestration_executor rebuilt(changed, "Order", 0, "i1");
  CHECK_THROWS_AS(rebuilt.replay(old), nondeterminism_error);
  // Unusable afterwards: every call reports the same error.
  CHECK_THROWS_AS(rebuilt.execute(std::vector<history_event>{completed(2, "")}), nondeterminism_error);
}

TEST_CASE("fix forward: a stalled instance replays with fixed code and resumes at the tail") {
  // The episode's events were stored but the stalled code took no action: the fixed code's
  // actions for that episode come back from replay() as new events.
  history stalled = run_v1_through_charge();
  stalled.pop_back();  // TaskScheduled 'Ship' not stored
  stalled.push_back(raised("unrelated", "1"));
  auto result = replay(stalled, with(v1));
  REQUIRE(result.new_events.size() == 1);
  auto* ship = std::get_if<events::task_scheduled>(&result.new_events[0].payload);
  REQUIRE(ship);
  CHECK(ship->name == "Ship");
  CHECK(ship->task_id == 2);
  CHECK(result.status == runtime_status::running);
}

TEST_CASE("the replay checker accepts compatible histories and reports status") {
  registry functions = with(v1);
  harness h(functions, "Order");
  h.step(0, {started("Order", "")});
  h.step(1, {completed(0, "")});
  h.step(2, {failed(1, "declined", "no")});
  auto result = replay(h.events(), functions);
  CHECK(result.new_events.empty());
  CHECK(result.status == runtime_status::failed);
  REQUIRE(result.failure);
  CHECK(result.failure->error_type == "declined");
  CHECK(!check_replay(h.events(), functions));
}
