// Patch markers (orchestration_context::is_patched / deprecate_patch): a code change inside one
// version, Temporal's patched()/deprecatePatch(). New executions take the new path and record a
// marker; histories written before the patch replay down the old path; the cleanup step replays
// both the histories with the marker and those still before the patch point.
#include "harness.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/replay.hpp>

using namespace perdure;
using namespace perdure::test;

namespace {

// The code before the patch: notify by email.
task<void> before_patch(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  co_await ctx.call_activity("SendEmail");
  co_await ctx.call_activity("Ship");
}

// The patch: new executions send an SMS instead; the second check of the same id does not record
// a second marker.
task<void> patched(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  if (ctx.is_patched("send-sms"))
    co_await ctx.call_activity("SendSms");
  else
    co_await ctx.call_activity("SendEmail");
  if (ctx.is_patched("send-sms")) co_await ctx.call_activity("LogSms");
  co_await ctx.call_activity("Ship");
}

// The cleanup step: the old branch is gone.
task<void> deprecated(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  ctx.deprecate_patch("send-sms");
  co_await ctx.call_activity("SendSms");
  co_await ctx.call_activity("LogSms");
  co_await ctx.call_activity("Ship");
}

// After the cleanup: no patch call at all.
task<void> patch_removed(orchestration_context& ctx) {
  co_await ctx.call_activity("Reserve");
  co_await ctx.call_activity("SendSms");
  co_await ctx.call_activity("LogSms");
  co_await ctx.call_activity("Ship");
}

registry with(task<void> (*fn)(orchestration_context&)) {
  registry r;
  r.add_orchestration("Order", fn);
  return r;
}

std::vector<std::string> activities_of(const history& events) {
  std::vector<std::string> names;
  for (const auto& e : events)
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) names.push_back(s->name);
  return names;
}

// Runs `fn` to its end, each activity answered in its own episode; every step is replay-checked.
history run_to_end(const registry& functions) {
  harness h(functions, "Order");
  h.step(0, {started("Order", "")});
  for (int32_t task = 0; !h.executor().is_complete(); ++task) h.step(task + 1, {completed(task, "")});
  return h.events();
}

// The history of an instance that ran the code before the patch up to `completed_tasks` results.
history before_patch_through(int completed_tasks) {
  registry functions = with(before_patch);
  harness h(functions, "Order");
  h.step(0, {started("Order", "")});
  for (int32_t task = 0; task < completed_tasks; ++task) h.step(task + 1, {completed(task, "")});
  return h.events();
}

// Replays `stored` with `functions` in a fresh executor, then answers the remaining tasks: the
// history as the instance ends it.
history continue_with(const registry& functions, const history& stored) {
  orchestration_executor executor(functions, "Order", 0, "i1");
  history events = stored;
  const episode_result replayed = executor.replay(stored);
  CHECK(replayed.appended.empty());
  int32_t next_task = 0;
  for (const auto& e : stored)
    if (std::holds_alternative<events::task_completed>(e.payload)) ++next_task;
  for (int step = 100; !executor.is_complete(); ++step, ++next_task) {
    auto result = executor.execute(std::vector<history_event>{ev(events::episode_started{}, at(step)),
                                                              completed(next_task, "")});
    events.insert(events.end(), result.appended.begin(), result.appended.end());
  }
  return events;
}

}  // namespace

TEST_CASE("a new execution takes the patched path and records one marker, where the code checked it") {
  const history events = run_to_end(with(patched));
  CHECK(activities_of(events) == std::vector<std::string>{"Reserve", "SendSms", "LogSms", "Ship"});
  REQUIRE(count_events<events::patch_marker>(events) == 1);
  const auto* marker = find_event<events::patch_marker>(events);
  CHECK(marker->patch_id == "send-sms");
  CHECK_FALSE(marker->deprecated);
  // The marker sits right before the action the patched branch took, and takes no task id.
  auto at_marker = std::find_if(events.begin(), events.end(), [](const history_event& e) {
    return std::holds_alternative<events::patch_marker>(e.payload);
  });
  REQUIRE(std::next(at_marker) != events.end());
  const auto* after = std::get_if<events::task_scheduled>(&std::next(at_marker)->payload);
  REQUIRE(after);
  CHECK(after->name == "SendSms");
  CHECK(after->task_id == 1);
  CHECK_FALSE(check_replay(events, with(patched)));
}

TEST_CASE("a history written before the patch point replays down the old path and ends on it") {
  const history old = before_patch_through(2);  // Reserve and SendEmail done, Ship scheduled
  CHECK_FALSE(check_replay(old, with(patched)));
  const history ended = continue_with(with(patched), old);
  CHECK(activities_of(ended) == std::vector<std::string>{"Reserve", "SendEmail", "Ship"});
  CHECK(count_events<events::patch_marker>(ended) == 0);
}

TEST_CASE("an old instance that had not reached the patch point when the patch was deployed takes the new path") {
  const history old = before_patch_through(0);  // only Reserve scheduled
  const history ended = continue_with(with(patched), old);
  CHECK(activities_of(ended) == std::vector<std::string>{"Reserve", "SendSms", "LogSms", "Ship"});
  CHECK(count_events<events::patch_marker>(ended) == 1);
  CHECK_FALSE(check_replay(ended, with(patched)));
}

TEST_CASE("the first answer for a patch id holds for the rest of the execution, replayed or not") {
  // The old path was decided while replaying (no marker in the history); the second check runs on
  // new events and must not switch to the new path halfway.
  const history old = before_patch_through(1);  // Reserve done, SendEmail scheduled
  const history ended = continue_with(with(patched), old);
  CHECK(activities_of(ended) == std::vector<std::string>{"Reserve", "SendEmail", "Ship"});
  CHECK(count_events<events::patch_marker>(ended) == 0);
}

TEST_CASE("a history with the marker replays on the patched path, and fails without the patch check") {
  const history with_marker = run_to_end(with(patched));
  CHECK_FALSE(check_replay(with_marker, with(patched)));
  // The code before the patch does not match a history the patched code wrote: the marker does
  // not hide the difference in actions.
  auto report = check_replay(with_marker, with(before_patch));
  REQUIRE(report);
  CHECK(report->in_history() == "TaskScheduled 'SendSms' (task 1)");
}

TEST_CASE("deprecate_patch replays histories with the marker, records one when executing, and never fails") {
  const history with_marker = run_to_end(with(patched));
  CHECK_FALSE(check_replay(with_marker, with(deprecated)));

  const history written = run_to_end(with(deprecated));
  REQUIRE(count_events<events::patch_marker>(written) == 1);
  CHECK(find_event<events::patch_marker>(written)->deprecated);
  // Nodes still running the patched code replay what the cleanup step writes on the new path.
  CHECK_FALSE(check_replay(written, with(patched)));

  // An instance that had not reached the patch point replays without the marker and goes on.
  const history before = before_patch_through(0);
  CHECK_FALSE(check_replay(before, with(deprecated)));
  const history ended = continue_with(with(deprecated), before);
  CHECK(activities_of(ended) == std::vector<std::string>{"Reserve", "SendSms", "LogSms", "Ship"});
}

TEST_CASE("once the patch call is removed, histories with markers still replay: a marker is not an action") {
  CHECK_FALSE(check_replay(run_to_end(with(patched)), with(patch_removed)));
  CHECK_FALSE(check_replay(run_to_end(with(deprecated)), with(patch_removed)));
}

namespace {
task<void> patched_after_event(orchestration_context& ctx) {
  co_await ctx.wait_for_event<void>("go");
  if (ctx.is_patched("send-sms"))
    co_await ctx.call_activity("SendSms");
  else
    co_await ctx.call_activity("SendEmail");
}
}  // namespace

TEST_CASE("inputs recorded while the code could not run (a stall, a missing version) are executed, not replayed, by the patch") {
  // The event arrived while no code ran: the history holds it and nothing the code did after it.
  const history recorded_without_code{ev(events::episode_started{}, at(0)), started("Order", ""),
                                       ev(events::episode_started{}, at(1)), raised("go", "")};
  const registry functions = with(patched_after_event);  // the executor keeps a reference to it
  orchestration_executor executor(functions, "Order", 0, "i1");
  const episode_result replayed = executor.replay(recorded_without_code);
  REQUIRE(replayed.appended.size() == 2);
  CHECK(std::get<events::patch_marker>(replayed.appended[0].payload).patch_id == "send-sms");
  CHECK(std::get<events::task_scheduled>(replayed.appended[1].payload).name == "SendSms");

  // Once the code's reaction is in the history, it replays as it was decided.
  history written = recorded_without_code;
  written.insert(written.end(), replayed.appended.begin(), replayed.appended.end());
  CHECK_FALSE(check_replay(written, with(patched_after_event)));
  history old_path = recorded_without_code;
  old_path.push_back(ev(events::task_scheduled{0, "SendEmail", ""}, at(1)));
  orchestration_executor old(functions, "Order", 0, "i1");
  CHECK(old.replay(old_path).appended.empty());
}
