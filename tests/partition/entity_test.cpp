// Entities in the in-memory tester, which runs production's partition state machine.
#include <perdure/orchestration_context.hpp>
#include <perdure/testing.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

// A counter: add(n), get, reset; `fail` throws after changing the state and sending a signal, so
// a test sees that neither is kept.
void counter(entity_context& ctx) {
  const int value = ctx.state<int>(0);
  if (ctx.operation() == "add") {
    ctx.set_state(value + ctx.input<int>());
    ctx.return_value(value + ctx.input<int>());
  } else if (ctx.operation() == "get") {
    ctx.return_value(value);
  } else if (ctx.operation() == "fail") {
    ctx.set_state(-1);
    ctx.signal_entity(entity_id{"Counter", "audit"}, "add", 1);
    throw std::runtime_error("the counter refuses");
  } else if (ctx.operation() == "delete") {
    ctx.delete_state();
  } else if (ctx.operation() == "forward") {  // adds to another counter and starts a report
    ctx.signal_entity(entity_id{"Counter", ctx.input<std::string>()}, "add", value);
    ctx.start_orchestration("Report", value, "report-" + ctx.id().key);
  } else {
    throw std::invalid_argument("unknown operation '" + ctx.operation() + "'");
  }
}

task<int> add_three_times(orchestration_context& ctx, std::string key) {
  const entity_id id{"Counter", key};
  for (int i = 0; i < 3; ++i) co_await ctx.call_entity<int>(id, "add", 5);
  co_return co_await ctx.call_entity<int>(id, "get");
}

task<std::string> call_failing(orchestration_context& ctx) {
  const entity_id id{"Counter", "f"};
  co_await ctx.call_entity<int>(id, "add", 2);
  try {
    co_await ctx.call_entity<int>(id, "fail");
  } catch (const task_failed& e) {
    co_return e.failure().message;
  }
  co_return "no failure";
}

task<int> signal_then_read(orchestration_context& ctx) {
  const entity_id id{"Counter", "s"};
  ctx.signal_entity(id, "add", 7);
  ctx.signal_entity(id, "add", 3);
  ctx.signal_entity(id, "forward", std::string("t"));
  co_return co_await ctx.call_entity<int>(id, "get");  // after the signals: one sender, in order
}

task<int> report(orchestration_context&, int value) { co_return value; }
task<int> report_v2(orchestration_context&, int value) { co_return value * 100; }

task<int> delete_and_recreate(orchestration_context& ctx) {
  const entity_id id{"Counter", "d"};
  co_await ctx.call_entity<int>(id, "add", 9);
  co_await ctx.call_entity(id, "delete");
  co_return co_await ctx.call_entity<int>(id, "add", 1);
}

task<void> call_unknown(orchestration_context& ctx) { co_await ctx.call_entity(entity_id{"Nobody", "x"}, "get"); }

// Scheduled signals: two for the same instant in 2 hours, one whose time has passed (at once).
task<std::vector<int>> signal_later(orchestration_context& ctx) {
  const entity_id id{"Counter", "later"};
  ctx.signal_entity(id, "add", 5, ctx.current_time() + 2h);
  ctx.signal_entity(id, "add", 1, ctx.current_time() + 2h);
  ctx.signal_entity(id, "add", 100, ctx.current_time() - 1h);
  co_await ctx.create_timer(1h);
  std::vector<int> seen;
  seen.push_back(co_await ctx.call_entity<int>(id, "get"));
  co_await ctx.create_timer(2h);
  seen.push_back(co_await ctx.call_entity<int>(id, "get"));
  co_return seen;
}

// Ends long before its signal is due: the signal waits in the entity's partition, not in it.
task<void> signal_tomorrow_and_end(orchestration_context& ctx) {
  ctx.signal_entity(entity_id{"Counter", "tomorrow"}, "add", 42, ctx.current_time() + 24h);
  co_return;
}

registry functions() {
  registry r;
  r.add_entity("Counter", counter);
  r.add_orchestration("AddThreeTimes", add_three_times);
  r.add_orchestration("CallFailing", call_failing);
  r.add_orchestration("SignalThenRead", signal_then_read);
  r.add_orchestration("Report", report);
  r.add_orchestration("DeleteAndRecreate", delete_and_recreate);
  r.add_orchestration("CallUnknown", call_unknown);
  r.add_orchestration("SignalLater", signal_later);
  r.add_orchestration("SignalTomorrowAndEnd", signal_tomorrow_and_end);
  return r;
}

template <class Event>
size_t count(const history& events) {
  size_t n = 0;
  for (const auto& e : events) n += std::holds_alternative<Event>(e.payload);
  return n;
}

}  // namespace

TEST_CASE("an orchestration's entity calls are answered in order, recorded in its history, and the state is stored") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("AddThreeTimes", std::string("a"));
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<int>() == 15);
  CHECK(count<events::entity_called>(result.events) == 4);
  CHECK(count<events::entity_call_completed>(result.events) == 4);
  const auto entity = tester.entity(entity_id{"Counter", "a"});
  REQUIRE(entity.has_value());
  CHECK(entity->state == "15");
  CHECK(entity->id == entity_id{"Counter", "a"});
  CHECK_FALSE(tester.entity(entity_id{"Counter", "never-used"}).has_value());
}

TEST_CASE("an operation that throws keeps neither its state change nor its signals, and its caller gets the failure") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("CallFailing");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<std::string>() == "the counter refuses");
  CHECK(count<events::entity_call_failed>(result.events) == 1);
  CHECK(tester.entity(entity_id{"Counter", "f"})->state == "2");
  CHECK_FALSE(tester.entity(entity_id{"Counter", "audit"}).has_value());
}

TEST_CASE("signals from one orchestration run in the order sent, and an entity signals entities and starts orchestrations") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("SignalThenRead");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<int>() == 10);
  CHECK(count<events::entity_signaled>(result.events) == 3);
  CHECK(tester.entity(entity_id{"Counter", "t"})->state == "10");
  const auto* started = tester.instance("report-s");
  REQUIRE(started != nullptr);
  CHECK(started->status == runtime_status::completed);
  CHECK(started->output_as<int>() == 10);
}

TEST_CASE("an orchestration an entity starts runs the latest registered version, as a client's start does") {
  registry r;
  r.add_entity("Counter", counter);
  r.add_orchestration("SignalThenRead", signal_then_read);
  r.add_orchestration("Report", report, {.version = 1});
  r.add_orchestration("Report", report_v2, {.version = 2});
  orchestration_tester tester(r);
  REQUIRE(tester.run("SignalThenRead").status == runtime_status::completed);
  const auto* started = tester.instance("report-s");
  REQUIRE(started != nullptr);
  CHECK(started->status == runtime_status::completed);
  CHECK(started->output_as<int>() == 1000);
}

TEST_CASE("a deleted entity has no state, and the next operation finds it new") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("DeleteAndRecreate");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<int>() == 1);
  CHECK(tester.entity(entity_id{"Counter", "d"})->state == "1");
}

TEST_CASE("a call to an entity nobody registered fails at the caller's co_await") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("CallUnknown");
  CHECK(result.status == runtime_status::failed);
  REQUIRE(result.failure.has_value());
  CHECK(result.failure->message.find("no entity registered as 'Nobody'") != std::string::npos);
}

TEST_CASE("entity ids: the instance-id form round-trips, and names with '@' are refused at registration") {
  const entity_id id{"Cart", "user@example.com"};
  CHECK(id.instance_id() == "@Cart@user@example.com");
  CHECK(entity_id::from_instance_id(id.instance_id()) == id);
  CHECK_FALSE(entity_id::from_instance_id("order-1").has_value());
  registry r;
  CHECK_THROWS_AS(r.add_entity("A@B", counter), invalid_argument_error);
  r.add_entity("A", counter);
  CHECK_THROWS_AS(r.add_entity("A", counter), invalid_argument_error);
}

TEST_CASE("a scheduled signal runs at its time, not before, from an orchestration or a client, and one whose time passed runs at once") {
  registry r = functions();
  orchestration_tester tester(r);
  const time_point start{std::chrono::hours(473'040)};  // in 2023
  tester.start_at(start);
  tester.schedule(0s, events::entity_operation{"add", "7", {}, {}, -1, start + 90min}, entity_id{"Counter", "later"}.instance_id());
  const auto& result = tester.run("SignalLater");
  REQUIRE(result.status == runtime_status::completed);
  CHECK(result.output_as<std::vector<int>>() == std::vector<int>{100, 113});
  int scheduled = 0;
  for (const auto& e : result.events)
    if (auto* signal = std::get_if<events::entity_signaled>(&e.payload); signal && signal->deliver_at != time_point{})
      ++scheduled;
  CHECK(scheduled == 3);  // recorded with its time, so a replay sends the same
}

TEST_CASE("a scheduled signal outlives the orchestration that sent it") {
  registry r = functions();
  orchestration_tester tester(r);
  const time_point start{std::chrono::hours(473'040)};
  tester.start_at(start);
  const auto& result = tester.run("SignalTomorrowAndEnd");
  REQUIRE(result.status == runtime_status::completed);
  REQUIRE(tester.entity(entity_id{"Counter", "tomorrow"}).has_value());
  CHECK(tester.entity(entity_id{"Counter", "tomorrow"})->state == "42");
  CHECK(tester.now() >= start + 24h);
}
