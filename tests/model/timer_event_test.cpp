// Durable timers, external events (buffering, timeouts), when_any with a losing timer.
#include "harness.hpp"

#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>

using namespace perdure;
using namespace perdure::test;
using namespace std::chrono_literals;

TEST_CASE("create_timer(duration) fires relative to the episode's current time") {
  registry functions;
  functions.add_orchestration("Sleep", [](orchestration_context& ctx) -> task<int64_t> {
    time_point before = ctx.current_time();
    co_await ctx.create_timer(90s);
    co_await ctx.create_timer(before + 1h);
    co_return std::chrono::duration_cast<std::chrono::seconds>(ctx.current_time() - before).count();
  });
  harness h(functions, "Sleep");
  auto r = h.step(10, {started("Sleep", "")});
  auto* t = find_event<events::timer_created>(r.appended);
  REQUIRE(t);
  CHECK(t->timer_id == 0);
  CHECK(t->fire_at == at(100));
  r = h.step(100, {fired(0, at(100))});
  t = find_event<events::timer_created>(r.appended);
  REQUIRE(t);
  CHECK(t->fire_at == at(3610));
  r = h.step(3611, {fired(1, at(3610))});
  auto* done = find_event<events::execution_completed>(r.appended);
  REQUIRE(done);
  CHECK(done->output == "3601");
}

TEST_CASE("events arriving before the wait are buffered first-in first-out per name") {
  registry functions;
  functions.add_orchestration("Collect", [](orchestration_context& ctx) -> task<std::string> {
    co_await ctx.call_activity("Prepare");
    std::string a = co_await ctx.wait_for_event<std::string>("x");
    std::string b = co_await ctx.wait_for_event<std::string>("x");
    int y = co_await ctx.wait_for_event<int>("y");
    std::string c = co_await ctx.wait_for_event<std::string>("x");
    co_return a + b + std::to_string(y) + c;
  });
  harness h(functions, "Collect");
  h.step(0, {started("Collect", ""), raised("x", R"("1")")});
  h.step(1, {raised("y", "7"), raised("x", R"("2")")});
  auto r = h.step(2, {completed(0, "")});
  CHECK(r.appended.size() == 2);  // waiting for the third "x"
  r = h.step(3, {raised("x", R"("3")")});
  auto* done = find_event<events::execution_completed>(r.appended);
  REQUIRE(done);
  CHECK(done->output == R"("1273")");
}

TEST_CASE("wait_for_event with a timeout") {
  registry functions;
  functions.add_orchestration("Approve", [](orchestration_context& ctx) -> task<std::string> {
    try {
      bool ok = co_await ctx.wait_for_event<bool>("approval", 1h);
      co_return ok ? "approved" : "rejected";
    } catch (const perdure::timeout_error&) {
    }
    // The late event was not consumed by the abandoned wait: it is still there.
    bool late = co_await ctx.wait_for_event<bool>("approval");
    co_return late ? "late approval" : "late rejection";
  });

  SUBCASE("the event comes first; the timer fires later harmlessly") {
    harness h(functions, "Approve");
    auto r = h.step(0, {started("Approve", "")});
    CHECK(find_event<events::timer_created>(r.appended)->fire_at == at(3600));
    r = h.step(5, {raised("approval", "true")});
    REQUIRE(find_event<events::execution_completed>(r.appended));
    CHECK(find_event<events::execution_completed>(r.appended)->output == R"("approved")");
    r = h.step(3600, {fired(0, at(3600))});
    CHECK(r.appended.empty());
    CHECK(r.ignored.size() == 2);
  }
  SUBCASE("the timer comes first") {
    harness h(functions, "Approve");
    h.step(0, {started("Approve", "")});
    auto r = h.step(3600, {fired(0, at(3600))});
    CHECK(r.appended.size() == 2);
    r = h.step(4000, {raised("approval", "false")});
    REQUIRE(find_event<events::execution_completed>(r.appended));
    CHECK(find_event<events::execution_completed>(r.appended)->output == R"("late rejection")");
  }
}

TEST_CASE("when_any with a losing timer, the late timer is appended, not awaited") {
  registry functions;
  functions.add_orchestration("Race", [](orchestration_context& ctx) -> task<std::string> {
    auto work = ctx.call_activity<std::string>("Work");
    auto deadline = ctx.create_timer(10min);
    size_t winner = co_await when_any(work, deadline);
    if (winner == 1) co_return "timeout";
    std::string result = co_await work;
    co_await ctx.call_activity("After");
    co_return result;
  });
  harness h(functions, "Race");
  h.step(0, {started("Race", "")});
  auto r = h.step(1, {completed(0, R"("w")")});
  auto* after = find_event<events::task_scheduled>(r.appended);
  REQUIRE(after);
  CHECK(after->task_id == 2);
  r = h.step(600, {fired(1, at(600))});
  CHECK(r.appended.size() == 2);  // marker + timer_fired: applied, nobody waits for it
  CHECK(r.ignored.empty());
  r = h.step(601, {completed(2, "")});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == R"("w")");
}

TEST_CASE("when_any picks the timer when it fires first") {
  registry functions;
  functions.add_orchestration("Race", [](orchestration_context& ctx) -> task<std::string> {
    std::vector<task<int>> calls;
    calls.push_back(ctx.call_activity<int>("A"));
    calls.push_back(ctx.call_activity<int>("B"));
    size_t first = co_await when_any(calls);
    size_t second = co_await when_any(ctx.create_timer(5s), ctx.wait_for_event("go"));
    co_return std::to_string(first) + std::to_string(second) + std::to_string(co_await calls[first]);
  });
  harness h(functions, "Race");
  h.step(0, {started("Race", "")});
  auto r = h.step(1, {completed(1, "42"), completed(0, "41")});
  CHECK(find_event<events::timer_created>(r.appended));
  r = h.step(6, {fired(2, at(6)), raised("go", "")});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == R"("1042")");
}

TEST_CASE("sub-orchestrations and sent events") {
  registry functions;
  functions.add_orchestration("Parent", [](orchestration_context& ctx) -> task<int> {
    ctx.send_event("other", "hello", std::string("hi"));
    int a = co_await ctx.call_sub_orchestration<int>("Child", 1);
    int b = 0;
    try {
      b = co_await ctx.call_sub_orchestration<int>("Child", 2, "fixed-id");
    } catch (const perdure::task_failed& e) {
      b = static_cast<int>(e.failure().message.size());
    }
    co_return a + b;
  });
  harness h(functions, "Parent", "p1");
  auto r = h.step(0, {started("Parent", "", "p1")});
  auto* sent = find_event<events::event_sent>(r.appended);
  REQUIRE(sent);
  CHECK(sent->task_id == 0);
  CHECK(sent->instance_id == "other");
  CHECK(sent->input == R"("hi")");
  auto* child = find_event<events::sub_orchestration_created>(r.appended);
  REQUIRE(child);
  CHECK(child->task_id == 1);
  CHECK(child->instance_id == "p1:e1:1");
  r = h.step(1, {ev(events::sub_orchestration_completed{1, "10"})});
  child = find_event<events::sub_orchestration_created>(r.appended);
  REQUIRE(child);
  CHECK(child->instance_id == "fixed-id");
  r = h.step(2, {ev(events::sub_orchestration_failed{2, failure_details{"t", "abc", {}, false}})});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == "13");
}
