// Retry policies: backoff delays as durable timers, limits, predicates.
#include "harness.hpp"

#include <perdure/orchestration_context.hpp>

using namespace perdure;
using namespace perdure::test;
using namespace std::chrono_literals;

TEST_CASE("retry_policy::next_delay") {
  retry_policy p;
  p.max_attempts = 5;
  p.first_interval = 2s;
  p.backoff_coefficient = 3.0;
  p.max_interval = 30s;
  failure_details f{"x", "y", {}, false};
  CHECK(p.next_delay(1, f, 0s) == std::optional<std::chrono::nanoseconds>(2s));
  CHECK(p.next_delay(2, f, 0s) == std::optional<std::chrono::nanoseconds>(6s));
  CHECK(p.next_delay(3, f, 0s) == std::optional<std::chrono::nanoseconds>(18s));
  CHECK(p.next_delay(4, f, 0s) == std::optional<std::chrono::nanoseconds>(30s));
  CHECK(!p.next_delay(5, f, 0s));
  p.max_total_time = 20s;
  CHECK(!p.next_delay(3, f, 5s));
  f.non_retriable = true;
  CHECK(!p.next_delay(1, f, 0s));
  f.non_retriable = false;
  p.retry_if = [](const failure_details& d) { return d.error_type == "transient"; };
  CHECK(!p.next_delay(1, f, 0s));
}

TEST_CASE("an activity retried with backoff timers between attempts") {
  registry functions;
  functions.add_orchestration("Pay", [](orchestration_context& ctx) -> task<int> {
    retry_policy policy;
    policy.max_attempts = 3;
    policy.first_interval = 10s;
    policy.backoff_coefficient = 2.0;
    co_return co_await ctx.call_activity<int>("Charge", 5, policy);
  });
  harness h(functions, "Pay");
  auto r = h.step(0, {started("Pay", "")});
  CHECK(find_event<events::task_scheduled>(r.appended)->task_id == 0);
  r = h.step(1, {failed(0, "transient", "busy")});
  auto* t = find_event<events::timer_created>(r.appended);
  REQUIRE(t);
  CHECK(t->timer_id == 1);
  CHECK(t->fire_at == at(11));
  r = h.step(11, {fired(1, at(11))});
  auto* again = find_event<events::task_scheduled>(r.appended);
  REQUIRE(again);
  CHECK(again->task_id == 2);
  CHECK(again->name == "Charge");
  CHECK(again->input == "5");
  r = h.step(12, {failed(2, "transient", "busy")});
  t = find_event<events::timer_created>(r.appended);
  REQUIRE(t);
  CHECK(t->fire_at == at(32));
  r = h.step(32, {fired(3, at(32))});
  r = h.step(33, {completed(4, "99")});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == "99");
}

TEST_CASE("retries exhausted: the last failure surfaces") {
  registry functions;
  functions.add_orchestration("Pay", [](orchestration_context& ctx) -> task<void> {
    retry_policy policy;
    policy.max_attempts = 2;
    policy.first_interval = 1s;
    co_await ctx.call_sub_orchestration("Child", 1, "", policy);
  });
  harness h(functions, "Pay");
  h.step(0, {started("Pay", "")});
  h.step(1, {ev(events::sub_orchestration_failed{0, failure_details{"e", "first", {}, false}})});
  h.step(2, {fired(1)});
  auto r = h.step(3, {ev(events::sub_orchestration_failed{2, failure_details{"e", "second", {}, false}})});
  auto* f = find_event<events::execution_failed>(r.appended);
  REQUIRE(f);
  CHECK(f->failure.message == "second");
  CHECK(count_events<events::sub_orchestration_created>(h.events()) == 2);
}

TEST_CASE("non-retriable failures are not retried") {
  registry functions;
  functions.add_orchestration("Pay", [](orchestration_context& ctx) -> task<void> {
    co_await ctx.call_activity("Charge", 1, retry_policy{});
  });
  harness h(functions, "Pay");
  h.step(0, {started("Pay", "")});
  auto r = h.step(1, {ev(events::task_failed{0, failure_details{"perdure::payload_error", "bad", {}, true}})});
  CHECK(find_event<events::execution_failed>(r.appended));
  CHECK(!find_event<events::timer_created>(r.appended));
}

TEST_CASE("max_total_time stops the retries before max_attempts") {
  registry functions;
  functions.add_orchestration("Pay", [](orchestration_context& ctx) -> task<std::string> {
    retry_policy policy;
    policy.max_attempts = 10;
    policy.first_interval = 10s;
    policy.backoff_coefficient = 2.0;
    policy.max_total_time = 60s;
    try {
      co_await ctx.call_activity<int>("Charge", 5, policy);
    } catch (const task_failed& e) {
      co_return "gave up: " + e.failure().message;
    }
    co_return "charged";
  });
  harness h(functions, "Pay");
  h.step(0, {started("Pay", "")});
  h.step(1, {failed(0, "transient", "busy 1")});  // 1s + 10s <= 60s: a timer for t=11
  h.step(11, {fired(1, at(11))});
  h.step(12, {failed(2, "transient", "busy 2")});  // 12s + 20s <= 60s: a timer for t=32
  h.step(32, {fired(3, at(32))});
  // 33s + 40s > 60s: no fourth attempt, though seven of the ten are left.
  auto r = h.step(33, {failed(4, "transient", "busy 3")});
  CHECK(!find_event<events::timer_created>(r.appended));
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == "\"gave up: busy 3\"");
  CHECK(count_events<events::task_scheduled>(h.events()) == 3);
  REQUIRE(count_events<events::timer_created>(h.events()) == 2);
  CHECK(find_event<events::timer_created>(h.events(), 0)->fire_at == at(11));
  CHECK(find_event<events::timer_created>(h.events(), 1)->fire_at == at(32));
}

TEST_CASE("retry_if decides which failures are retried") {
  registry functions;
  functions.add_orchestration("Pay", [](orchestration_context& ctx) -> task<int> {
    retry_policy policy;
    policy.max_attempts = 3;
    policy.first_interval = 5s;
    policy.retry_if = [](const failure_details& f) { return f.error_type == "transient"; };
    co_return co_await ctx.call_activity<int>("Charge", 5, policy);
  });
  harness h(functions, "Pay");
  h.step(0, {started("Pay", "")});

  SUBCASE("a rejected failure surfaces at once") {
    auto r = h.step(1, {failed(0, "card_declined", "no funds")});
    CHECK(!find_event<events::timer_created>(r.appended));
    REQUIRE(find_event<events::execution_failed>(r.appended));
    CHECK(find_event<events::execution_failed>(r.appended)->failure.message == "no funds");
    CHECK(count_events<events::task_scheduled>(h.events()) == 1);
  }

  SUBCASE("an accepted failure is retried") {
    auto r = h.step(1, {failed(0, "transient", "busy")});
    REQUIRE(find_event<events::timer_created>(r.appended));
    CHECK(find_event<events::timer_created>(r.appended)->fire_at == at(6));
    h.step(6, {fired(1, at(6))});
    r = h.step(7, {completed(2, "42")});
    REQUIRE(find_event<events::execution_completed>(r.appended));
    CHECK(find_event<events::execution_completed>(r.appended)->output == "42");
    CHECK(count_events<events::task_scheduled>(h.events()) == 2);
    CHECK(count_events<events::timer_created>(h.events()) == 1);
  }
}

TEST_CASE("each attempt of a retried activity records its number and the first attempt's task id") {
  // Two retried calls in flight at once, after a call of another activity: each attempt must name
  // its own call's first task, whatever was scheduled in between.
  registry functions;
  functions.add_orchestration("Pay", [](orchestration_context& ctx) -> task<int> {
    co_await ctx.call_activity("Prepare", 0);
    retry_policy policy;
    policy.max_attempts = 3;
    policy.first_interval = 10s;
    policy.backoff_coefficient = 1.0;
    auto [a, b] = co_await when_all(ctx.call_activity<int>("Charge", 1, policy), ctx.call_activity<int>("Ship", 2, policy));
    co_return a + b;
  });
  harness h(functions, "Pay");
  h.step(0, {started("Pay", "")});
  auto r = h.step(1, {completed(0, "null")});
  auto* charge = find_event<events::task_scheduled>(r.appended, 0);
  auto* ship = find_event<events::task_scheduled>(r.appended, 1);
  REQUIRE(charge);
  REQUIRE(ship);
  CHECK(charge->task_id == 1);
  CHECK(ship->task_id == 2);
  for (auto* first : {charge, ship}) {
    CHECK(first->attempt == 1);
    CHECK(first->first_task_id == -1);
  }
  h.step(2, {failed(1, "transient", "busy"), failed(2, "transient", "busy")});  // timers 3 (Charge), 4 (Ship)
  r = h.step(12, {fired(4, at(12)), fired(3, at(12))});
  REQUIRE(count_events<events::task_scheduled>(r.appended) == 2);
  auto* ship2 = find_event<events::task_scheduled>(r.appended, 0);
  auto* charge2 = find_event<events::task_scheduled>(r.appended, 1);
  CHECK(ship2->name == "Ship");
  CHECK(ship2->task_id == 5);
  CHECK(ship2->attempt == 2);
  CHECK(ship2->first_task_id == 2);
  CHECK(charge2->name == "Charge");
  CHECK(charge2->task_id == 6);
  CHECK(charge2->attempt == 2);
  CHECK(charge2->first_task_id == 1);
  h.step(13, {completed(5, "20")});
  h.step(14, {failed(6, "transient", "busy")});  // timer 7
  r = h.step(24, {fired(7, at(24))});
  auto* charge3 = find_event<events::task_scheduled>(r.appended);
  REQUIRE(charge3);
  CHECK(charge3->task_id == 8);
  CHECK(charge3->attempt == 3);
  CHECK(charge3->first_task_id == 1);
  r = h.step(25, {completed(8, "10")});
  REQUIRE(find_event<events::execution_completed>(r.appended));
  CHECK(find_event<events::execution_completed>(r.appended)->output == "30");
}
