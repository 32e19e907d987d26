// Rewind and restart through the tester, which runs the production partition state machine: what
// these tests see is what a node does.
#include <perdure/combinators.hpp>
#include <perdure/effective_history.hpp>
#include <perdure/errors.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/replay.hpp>
#include <perdure/testing.hpp>

#include <doctest/doctest.h>

#include <map>
#include <stdexcept>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

task<int> add_two(orchestration_context& ctx, int n) {
  int a = co_await ctx.call_activity<int>("A", n);
  int b = co_await ctx.call_activity<int>("B", a);
  co_return a + b;
}

// A failure the code catches is handled: a rewind leaves it alone.
task<int> catches_then_fails(orchestration_context& ctx, int n) {
  int caught = 0;
  try {
    co_await ctx.call_activity<int>("Flaky", n);
  } catch (const task_failed&) {
    caught = 100;
  }
  int b = co_await ctx.call_activity<int>("B", n);
  co_return caught + b;
}

task<int> parent(orchestration_context& ctx, int n) {
  int child = co_await ctx.call_sub_orchestration<int>("AddTwo", n, "child-1");
  co_return child + 1;
}

task<int> three_steps(orchestration_context& ctx, int n) {
  int a = co_await ctx.call_activity<int>("A", n);
  co_await ctx.create_timer(1h);
  int b = co_await ctx.call_activity<int>("B", a);
  co_return a + b;
}

task<int> waits(orchestration_context& ctx, int) { co_return co_await ctx.wait_for_event<int>("Go"); }

// B's failure arrives an hour before the timer fires; the when_all throws it then, on the timer.
task<int> fan_in_over_a_timer(orchestration_context& ctx, int n) {
  auto [b, timer] = co_await when_all(ctx.call_activity<int>("B", n), ctx.create_timer(1h));
  co_return b;
}

// Both results arrive in one episode, B's first: the when_all throws on A's success.
task<int> fan_in(orchestration_context& ctx, int n) {
  auto [b, a] = co_await when_all(ctx.call_activity<int>("B", n), ctx.call_activity<int>("A", n));
  co_return a + b;
}

task<int> slow_child(orchestration_context& ctx, int n) {
  co_await ctx.create_timer(1h);
  co_return n * 3;
}

task<int> slow_failing_child(orchestration_context& ctx, int n) {
  co_await ctx.create_timer(1h);
  co_return co_await ctx.call_activity<int>("B", n);
}

// B fails the parent before its child answers: the child's answer arrives while it is Failed.
task<int> parent_of(orchestration_context& ctx, int n, const char* child_name) {
  auto child = ctx.call_sub_orchestration<int>(child_name, n, "slow-1");
  int b = co_await ctx.call_activity<int>("B", n);
  co_return b + co_await child;
}
// The entity answers the call after B's failure ended the execution, in its batch or a later one.
task<int> calls_an_entity_beside_b(orchestration_context& ctx, int n) {
  auto added = ctx.call_entity<int>(entity_id{"Counter", "k"}, "add", 5);
  int b = co_await ctx.call_activity<int>("B", n);
  co_return b + co_await added;
}

void counter(entity_context& ctx) {
  const int value = ctx.state<int>(0) + ctx.input<int>();
  ctx.set_state(value);
  ctx.return_value(value);
}

task<int> parent_of_slow_child(orchestration_context& ctx, int n) { return parent_of(ctx, n, "SlowChild"); }
task<int> parent_of_failing_child(orchestration_context& ctx, int n) { return parent_of(ctx, n, "SlowFailingChild"); }

registry functions() {
  registry r;
  r.add_orchestration("AddTwo", add_two);
  r.add_orchestration("CatchesThenFails", catches_then_fails);
  r.add_orchestration("Parent", parent);
  r.add_orchestration("ThreeSteps", three_steps);
  r.add_orchestration("Waits", waits);
  r.add_orchestration("FanInOverATimer", fan_in_over_a_timer);
  r.add_orchestration("FanIn", fan_in);
  r.add_orchestration("SlowChild", slow_child);
  r.add_orchestration("SlowFailingChild", slow_failing_child);
  r.add_orchestration("ParentOfSlowChild", parent_of_slow_child);
  r.add_orchestration("ParentOfFailingChild", parent_of_failing_child);
  r.add_orchestration("CallsAnEntityBesideB", calls_an_entity_beside_b);
  r.add_entity("Counter", counter);
  return r;
}

size_t count_kind(const history& events, const char* kind) {
  size_t n = 0;
  for (const auto& e : events) n += std::string(event_kind_name(e.payload)) == kind ? 1 : 0;
  return n;
}

// Position of the first EpisodeStarted after the first event of kind `kind`.
int32_t episode_after(const history& events, const char* kind) {
  bool seen = false;
  for (size_t p = 0; p < events.size(); ++p) {
    if (std::string(event_kind_name(events[p].payload)) == kind) seen = true;
    if (seen && std::holds_alternative<events::episode_started>(events[p].payload)) return static_cast<int32_t>(p);
  }
  return -1;
}

struct counting_activities {
  std::map<std::string, int> runs;
  bool b_fixed = false;
  void stub(orchestration_tester& tester) {
    tester.stub_activity("A", [this](activity_context&, int n) { ++runs["A"]; return n + 1; });
    tester.stub_activity("B", [this](activity_context&, int n) {
      ++runs["B"];
      if (!b_fixed) throw std::runtime_error("B has a bug");
      return n * 10;
    });
    tester.stub_activity("Flaky", [this](activity_context&, int) -> int {
      ++runs["Flaky"];
      throw std::runtime_error("always");
    });
  }
};

// A tester over functions() whose activities count their runs; B fails until acts.b_fixed.
struct rig {
  registry r = functions();
  orchestration_tester tester{r};
  counting_activities acts;
  rig() { acts.stub(tester); }
};

}  // namespace

TEST_CASE_FIXTURE(rig, "rewind: the failed activity runs again once fixed, and the history keeps the failure and the rewind") {
  const auto& failed = tester.run("AddTwo", 1, "order-1");
  REQUIRE(failed.status == runtime_status::failed);
  CHECK(acts.runs["B"] == 1);

  acts.b_fixed = true;  // the fix is deployed
  const auto& done = tester.rewind("order-1", "B fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 2 + 20);
  CHECK(acts.runs["A"] == 1);  // not again: only the failed step
  CHECK(acts.runs["B"] == 2);

  // The stored history keeps the failure, superseded, and the rewind with its reason.
  CHECK(count_kind(done.events, "ExecutionFailed") == 1);
  CHECK(count_kind(done.events, "TaskFailed") == 1);
  CHECK(count_kind(done.events, "ExecutionRewound") == 1);
  const auto superseded = superseded_events(done.events);
  for (size_t p = 0; p < done.events.size(); ++p) {
    const auto& payload = done.events[p].payload;
    if (std::holds_alternative<events::execution_failed>(payload) || std::holds_alternative<events::task_failed>(payload))
      CHECK(superseded[p]);
    else
      CHECK(!superseded[p]);
    if (auto* rewound = std::get_if<events::execution_rewound>(&payload)) CHECK(rewound->reason == "B fixed");
  }
  // The same execution continued, and the history replays cleanly with the code.
  CHECK(count_kind(done.events, "ExecutionStarted") == 1);
  const auto replayed = replay(done.events, r);
  CHECK(replayed.status == runtime_status::completed);
  CHECK(replayed.new_events.empty());
}

TEST_CASE_FIXTURE(rig, "rewind: a failure the code caught stays handled, only the one that failed the instance runs again") {
  REQUIRE(tester.run("CatchesThenFails", 1, "c").status == runtime_status::failed);
  acts.b_fixed = true;
  const auto& done = tester.rewind("c", "fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 100 + 10);
  CHECK(acts.runs["Flaky"] == 1);
  CHECK(acts.runs["B"] == 2);
  const auto superseded = superseded_events(done.events);
  size_t superseded_task_failures = 0;
  for (size_t p = 0; p < done.events.size(); ++p)
    if (std::holds_alternative<events::task_failed>(done.events[p].payload) && superseded[p]) ++superseded_task_failures;
  CHECK(superseded_task_failures == 1);  // B's, not Flaky's
}

TEST_CASE_FIXTURE(rig, "rewind: a parent failed by its sub-orchestration starts the child again") {
  REQUIRE(tester.run("Parent", 1, "p").status == runtime_status::failed);
  REQUIRE(tester.instance("child-1")->status == runtime_status::failed);
  acts.b_fixed = true;
  const auto& done = tester.rewind("p", "child fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 22 + 1);
  CHECK(tester.instance("child-1")->status == runtime_status::completed);
  CHECK(acts.runs["A"] == 2);  // the child ran again from its start: a new execution
}

TEST_CASE_FIXTURE(rig, "rewind: a when_all that threw on a later result runs its failed task again") {
  REQUIRE(tester.run("FanInOverATimer", 1, "later").status == runtime_status::failed);
  acts.b_fixed = true;
  const auto& done = tester.rewind("later", "B fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 10);
  CHECK(acts.runs["B"] == 2);
  CHECK(replay(done.events, r).status == runtime_status::completed);
}

TEST_CASE_FIXTURE(rig, "rewind: a when_all that threw on a success of the same episode runs its failed task again") {
  REQUIRE(tester.run("FanIn", 1, "same-episode").status == runtime_status::failed);
  acts.b_fixed = true;
  const auto& done = tester.rewind("same-episode", "B fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 2 + 10);
  CHECK(acts.runs["A"] == 1);
  CHECK(acts.runs["B"] == 2);
}

TEST_CASE_FIXTURE(rig, "rewind: a child that finished while its parent was Failed answers the rewound parent") {
  REQUIRE(tester.run("ParentOfSlowChild", 1, "p").status == runtime_status::failed);
  const auto* child = tester.instance("slow-1");
  REQUIRE(child->status == runtime_status::completed);  // an hour after the parent failed
  const auto parent_history = tester.instance("p")->events;
  CHECK(std::string(event_kind_name(parent_history.back().payload)) == "SubOrchestrationCompleted");

  acts.b_fixed = true;
  const auto& done = tester.rewind("p", "B fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 10 + 3);
  CHECK(count_kind(tester.instance("slow-1")->events, "ExecutionStarted") == 1);  // not started again
  CHECK(count_kind(done.events, "SubOrchestrationCreated") == 1);
  const auto replayed = replay(done.events, r);
  CHECK(replayed.status == runtime_status::completed);
  CHECK(replayed.new_events.empty());
}

TEST_CASE_FIXTURE(rig, "rewind: a child that failed while its parent was Failed is started again with it") {
  REQUIRE(tester.run("ParentOfFailingChild", 1, "p").status == runtime_status::failed);
  REQUIRE(tester.instance("slow-1")->status == runtime_status::failed);
  acts.b_fixed = true;
  const auto& done = tester.rewind("p", "B fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 10 + 10);
  CHECK(tester.instance("slow-1")->status == runtime_status::completed);
  CHECK(acts.runs["B"] == 4);  // the parent's and the child's, each failed once and ran again once
}

TEST_CASE_FIXTURE(rig, "rewind: an entity's answer that came after the failure is kept, and the operation is not run again") {
  const auto& failed = tester.run("CallsAnEntityBesideB", 1, "e");
  REQUIRE(failed.status == runtime_status::failed);
  size_t failed_at = 0;
  for (size_t p = 0; p < failed.events.size(); ++p)
    if (std::holds_alternative<events::execution_failed>(failed.events[p].payload)) failed_at = p;
  CHECK(std::string(event_kind_name(failed.events.back().payload)) == "EntityCallCompleted");
  CHECK(failed_at + 2 < failed.events.size());

  acts.b_fixed = true;
  const auto& done = tester.rewind("e", "B fixed");
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output_as<int>() == 10 + 5);
  REQUIRE(tester.entity(entity_id{"Counter", "k"}));
  CHECK(tester.entity(entity_id{"Counter", "k"})->state == "5");
}

TEST_CASE_FIXTURE(rig, "rewind refuses what is not a Failed instance") {
  acts.b_fixed = true;
  REQUIRE(tester.run("AddTwo", 1, "ok").status == runtime_status::completed);
  CHECK_THROWS_AS(tester.rewind("ok"), instance_status_conflict);
  CHECK_THROWS_AS(tester.rewind("nobody"), instance_not_found);
  CHECK(tester.instance("ok")->status == runtime_status::completed);
  CHECK(count_kind(tester.instance("ok")->events, "ExecutionRewound") == 0);

  REQUIRE(tester.run("Waits", 0, "w").status == runtime_status::running);
  CHECK_THROWS_AS(tester.rewind("w"), instance_status_conflict);
}

TEST_CASE_FIXTURE(rig, "restart: a finished instance runs again from its start, same id and input, as a new execution") {
  acts.b_fixed = true;
  const auto& first = tester.run("AddTwo", 1, "again");
  REQUIRE(first.status == runtime_status::completed);
  const auto first_execution = std::get<events::execution_started>(first.events[1].payload).execution_id;

  const auto& second = tester.restart("again");
  REQUIRE(second.status == runtime_status::completed);
  CHECK(second.output_as<int>() == 22);
  CHECK(acts.runs["A"] == 2);
  CHECK(acts.runs["B"] == 2);
  const auto& started = std::get<events::execution_started>(second.events[1].payload);
  CHECK(started.execution_id != first_execution);
  CHECK(started.input == "1");
  const auto& restarted = std::get<events::execution_restarted>(second.events[2].payload);
  CHECK(restarted.previous_execution_id == first_execution);
  CHECK(restarted.from_event == 0);
}

TEST_CASE_FIXTURE(rig, "restart --from N: the prefix is replayed, the steps after it run again") {
  acts.b_fixed = true;
  const auto& first = tester.run("ThreeSteps", 1, "prefix");
  REQUIRE(first.status == runtime_status::completed);
  const history old = first.events;
  // Up to and including the timer's creation (the episode in which A's result arrived): A is not
  // run again, the timer is armed again, B runs again.
  const int32_t n = episode_after(old, "TimerCreated");
  REQUIRE(n > 0);

  const auto& again = tester.restart("prefix", n);
  REQUIRE(again.status == runtime_status::completed);
  CHECK(again.output_as<int>() == 2 + 20);
  CHECK(acts.runs["A"] == 1);
  CHECK(acts.runs["B"] == 2);
  for (int32_t p = 0; p < n; ++p) {
    if (std::holds_alternative<events::execution_started>(old[p].payload)) continue;  // its execution id is new
    CHECK(again.events[p] == old[p]);
  }
  const auto& restarted = std::get<events::execution_restarted>(again.events[static_cast<size_t>(n) + 1].payload);
  CHECK(restarted.from_event == n);
  CHECK(replay(again.events, r).status == runtime_status::completed);
}

TEST_CASE_FIXTURE(rig, "restart refuses a running instance, and prefixes that are not whole episodes of the history") {
  acts.b_fixed = true;
  REQUIRE(tester.run("Waits", 0, "w").status == runtime_status::running);
  CHECK_THROWS_AS(tester.restart("w"), instance_status_conflict);
  CHECK_THROWS_AS(tester.restart("nobody"), instance_not_found);

  const auto& done = tester.run("ThreeSteps", 1, "x");
  REQUIRE(done.status == runtime_status::completed);
  const auto size = static_cast<int32_t>(done.events.size());
  CHECK_THROWS_AS(tester.restart("x", size), invalid_argument_error);        // past the end
  CHECK_THROWS_AS(tester.restart("x", size + 100), invalid_argument_error);
  CHECK_THROWS_AS(tester.restart("x", -1), invalid_argument_error);
  CHECK_THROWS_AS(tester.restart("x", 1), invalid_argument_error);           // inside the first episode
  CHECK_THROWS_AS(tester.restart("x", episode_after(done.events, "TimerCreated") - 1), invalid_argument_error);
  CHECK_THROWS_AS(tester.restart("x", 0, 7), unknown_function_error);        // a version not registered
  const auto* still = tester.instance("x");
  CHECK(count_kind(still->events, "ExecutionRestarted") == 0);  // nothing was done
}

TEST_CASE("the effective history: a rewind supersedes the failure and the failed result, once") {
  const time_point t{};
  history h{{t, events::episode_started{}},
            {t, events::execution_started{"X", "i", "e", "1", std::nullopt, 0}},
            {t, events::task_scheduled{0, "A", "1"}},
            {t, events::episode_started{}},
            {t, events::task_failed{0, {"E", "bad", {}, false}}},
            {t, events::execution_failed{{"E", "bad", {}, false}}},
            {t, events::episode_started{}},
            {t, events::execution_rewound{"fixed"}},
            {t, events::episode_started{}},
            {t, events::task_failed{0, {"E", "bad again", {}, false}}},
            {t, events::execution_failed{{"E", "bad again", {}, false}}}};
  auto s = superseded_events(h);
  CHECK(s == std::vector<bool>{false, false, false, false, true, true, false, false, false, false, false});
  h.push_back({t, events::episode_started{}});
  h.push_back({t, events::execution_rewound{"again"}});
  s = superseded_events(h);
  CHECK(s[9]);
  CHECK(s[10]);
  CHECK(s[4]);
  CHECK(!s[12]);
}

TEST_CASE("the effective history: failures the code took no step after are superseded, handled ones stay") {
  const time_point t{};
  const failure_details bad{"E", "bad", {}, false};
  history h{{t, events::episode_started{}},                                   // 0
            {t, events::execution_started{"X", "i", "e", "1", std::nullopt, 0}},
            {t, events::task_scheduled{0, "Caught", "1"}},
            {t, events::task_scheduled{1, "A", "1"}},
            {t, events::task_scheduled{2, "B", "1"}},
            {t, events::episode_started{}},                                   // 5
            {t, events::task_failed{0, bad}},                                 // caught: a step follows
            {t, events::timer_created{3, t}},
            {t, events::episode_started{}},                                   // 8
            {t, events::task_failed{1, bad}},                                 // nothing follows
            {t, events::episode_started{}},                                   // 10
            {t, events::timer_fired{3, t}},
            {t, events::task_completed{2, "2"}},
            {t, events::execution_failed{bad}},                               // 13
            {t, events::episode_started{}},
            {t, events::sub_orchestration_failed{4, bad}},                    // 15: arrived while Failed
            {t, events::episode_started{}},
            {t, events::execution_rewound{"fixed"}}};
  const auto s = superseded_events(h);
  CHECK(!s[6]);
  CHECK(s[9]);
  CHECK(!s[11]);
  CHECK(!s[12]);
  CHECK(s[13]);
  CHECK(s[15]);
  CHECK(!s[17]);
}
