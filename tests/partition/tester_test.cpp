// The in-memory tester users write their unit tests with.
#include <perdure/orchestration_context.hpp>
#include <perdure/replay.hpp>
#include <perdure/testing.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

task<std::string> approval(orchestration_context& ctx, std::string item) {
  co_await ctx.call_activity("Request", item);
  try {
    bool ok = co_await ctx.wait_for_event<bool>("Approved", 24h);
    if (!ok) co_return "rejected";
  } catch (const timeout_error&) {
    co_return "expired";
  }
  int total = co_await ctx.call_sub_orchestration<int>("Sum", 4);
  co_return item + ":" + std::to_string(total);
}

task<int> sum(orchestration_context& ctx, int n) {
  std::vector<task<int>> parts;
  for (int i = 1; i <= n; ++i) parts.push_back(ctx.call_activity<int>("Double", i));
  int total = 0;
  for (int v : co_await when_all(std::move(parts))) total += v;
  co_return total;
}

task<int> counter(orchestration_context& ctx, int n) {
  co_await ctx.create_timer(1h);
  if (n < 3) ctx.continue_as_new(n + 1);
  co_return n;
}

registry functions() {
  registry r;
  r.add_orchestration("Approval", approval);
  r.add_orchestration("Sum", sum);
  r.add_orchestration("Counter", counter);
  r.add_activity("Double", [](activity_context&, int i) { return 2 * i; });
  return r;
}

}  // namespace

TEST_CASE("approved in time, with a sub-orchestration fanning out") {
  registry r = functions();
  orchestration_tester tester(r);
  std::vector<std::string> requested;
  tester.stub_activity("Request", [&](activity_context&, std::string item) { requested.push_back(item); });
  tester.raise_event("Approved", true, 2h);
  const auto& result = tester.run("Approval", std::string("bike"));
  CHECK(result.status == runtime_status::completed);
  CHECK(result.output_as<std::string>() == "bike:20");
  CHECK(requested == std::vector<std::string>{"bike"});
  const auto* child = tester.instance("test-instance:test-instance#1:2");
  REQUIRE(child);
  CHECK(child->status == runtime_status::completed);
  CHECK(!check_replay(result.events, r));
  CHECK(!check_replay(child->events, r));
}

TEST_CASE("no approval: the durable timeout fires in virtual time") {
  registry r = functions();
  orchestration_tester tester(r);
  tester.stub_activity("Request", [](activity_context&, std::string) {});
  const auto& result = tester.run("Approval", std::string("car"));
  CHECK(result.status == runtime_status::completed);
  CHECK(result.output_as<std::string>() == "expired");
  CHECK(tester.now() >= time_point(std::chrono::seconds(1704067200)) + 24h);
}

TEST_CASE("an unknown activity fails the orchestration") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("Approval", std::string("car"));
  CHECK(result.status == runtime_status::failed);
  REQUIRE(result.failure);
  CHECK(result.failure->error_type == "perdure::unknown_function_error");
}

TEST_CASE("continue_as_new runs successive executions") {
  registry r = functions();
  orchestration_tester tester(r);
  const auto& result = tester.run("Counter", 0);
  CHECK(result.status == runtime_status::completed);
  CHECK(result.output == "3");
  CHECK(result.earlier.size() == 3);
}

TEST_CASE("terminate and suspend through the tester") {
  registry r = functions();
  orchestration_tester tester(r);
  tester.stub_activity("Request", [](activity_context&, std::string) {});
  tester.suspend(1h).raise_event("Approved", false, 2h).terminate("stop", 3h);
  const auto& result = tester.run("Approval", std::string("x"));
  CHECK(result.status == runtime_status::terminated);
}

namespace {

// Asks for a quote by an external system that answers with the task token later.
task<std::string> quoted(orchestration_context& ctx, std::string item) {
  activity_options options;
  options.start_to_close_timeout = 1h;
  try {
    co_return co_await ctx.call_activity<std::string>("Quote", item, options);
  } catch (const task_failed& e) {
    co_return "no quote: " + e.failure().error_type + ": " + e.failure().message;
  }
}

std::string ask_for_quote(activity_context& ctx, std::string) {
  ctx.complete_asynchronously();
  return "ignored";
}

}  // namespace

TEST_CASE("an activity completed asynchronously: the tester answers its token in virtual time") {
  registry r;
  r.add_orchestration("Quoted", quoted);
  r.add_activity("Quote", ask_for_quote);
  std::string seen_token;

  orchestration_tester completes(r);
  completes.answer_asynchronous_activity("Quote", 10min, [&](const std::string& token) {
    seen_token = token;
    return std::string("42 EUR");
  });
  const auto& quoted_result = completes.run("Quoted", std::string("bike"));
  CHECK(quoted_result.status == runtime_status::completed);
  CHECK(quoted_result.output_as<std::string>() == "42 EUR");
  CHECK_FALSE(seen_token.empty());
  CHECK(completes.now() - time_point(std::chrono::seconds(1704067200)) >= 10min);

  orchestration_tester fails(r);
  fails.answer_asynchronous_activity("Quote", 1min, [](const std::string&) -> std::string {
    throw std::runtime_error("sold out");
  });
  CHECK(fails.run("Quoted", std::string("bike")).output_as<std::string>() == "no quote: std::runtime_error: sold out");

  // Nobody answers: the attempt times out at its start-to-close deadline; a late answer is refused.
  orchestration_tester silent(r);
  CHECK(silent.run("Quoted", std::string("bike")).output_as<std::string>().rfind("no quote: TimeoutError", 0) == 0);
  orchestration_tester late(r);
  late.answer_asynchronous_activity("Quote", 2h, [](const std::string&) { return std::string("late"); });
  CHECK(late.run("Quoted", std::string("bike")).output_as<std::string>().rfind("no quote: TimeoutError", 0) == 0);
}

namespace {

activity_options export_options(const std::string& which) {
  activity_options options;
  retry_policy retry;
  retry.max_attempts = 3;
  retry.first_interval = 30s;
  options.retry = retry;
  if (which == "start-to-close") options.start_to_close_timeout = 1min;
  if (which == "heartbeat") options.heartbeat_timeout = 1min;
  if (which == "schedule-to-close") options.schedule_to_close_timeout = 90s;
  return options;
}

// Calls "Export" with the timeout its input names; "<output>" or "<error type>: <details>".
task<std::string> exporting(orchestration_context& ctx, std::string which) {
  try {
    co_return co_await ctx.call_activity<std::string>("Export", which, export_options(which));
  } catch (const task_failed& e) {
    co_return e.failure().error_type + ": " + e.failure().details;
  }
}

// Heartbeats the row it resumes from and the row it reached; returns which attempt finished.
std::string export_rows(activity_context& ctx, const std::string&) {
  const int from = ctx.heartbeat_details<int>().value_or(0);
  ctx.heartbeat(from + 100);
  return "attempt " + std::to_string(ctx.attempt()) + " from row " + std::to_string(from);
}

registry exports() {
  registry r;
  r.add_orchestration("Exporting", exporting);
  r.add_activity("Export", export_rows);
  return r;
}

// The answers the call's tasks got, in history order: "completed" or the failure's details.
std::vector<std::string> answers(const history& events) {
  std::vector<std::string> found;
  for (const auto& e : events) {
    if (std::holds_alternative<events::task_completed>(e.payload)) found.push_back("completed");
    if (auto* failed = std::get_if<events::task_failed>(&e.payload)) found.push_back(failed->failure.details);
  }
  return found;
}

}  // namespace

TEST_CASE("the tester times activities in virtual time: an attempt past its start-to-close timeout is retried and its "
          "late result dropped") {
  const auto r = exports();
  orchestration_tester tester(r);
  tester.activity_duration("Export", [](int32_t attempt) { return attempt == 1 ? 5min : 10s; });
  const auto& result = tester.run("Exporting", std::string("start-to-close"));
  CHECK(result.status == runtime_status::completed);
  CHECK(result.output_as<std::string>() == "attempt 2 from row 100");
  // The first attempt's result came at 5 min, after its timeout at 1 min: it did not enter the history.
  CHECK(answers(result.events) == std::vector<std::string>{"StartToClose", "completed"});
  CHECK(tester.now() - time_point(std::chrono::seconds(1704067200)) >= 5min);
}

TEST_CASE("the tester applies a heartbeat timeout in virtual time, and the retry resumes from the last details") {
  const auto r = exports();
  orchestration_tester tester(r);
  tester.activity_duration("Export", [](int32_t attempt) { return attempt == 1 ? 1h : 1s; });
  const auto& result = tester.run("Exporting", std::string("heartbeat"));
  CHECK(result.output_as<std::string>() == "attempt 2 from row 100");
  CHECK(answers(result.events) == std::vector<std::string>{"Heartbeat", "completed"});
}

TEST_CASE("the tester applies a schedule-to-close timeout in virtual time: no retry after the call's deadline") {
  const auto r = exports();
  orchestration_tester tester(r);
  tester.activity_duration("Export", 1h);
  const auto& result = tester.run("Exporting", std::string("schedule-to-close"));
  CHECK(result.output_as<std::string>() == "TimeoutError: ScheduleToClose");
  CHECK(answers(result.events) == std::vector<std::string>{"ScheduleToClose"});

  orchestration_tester in_time(r);
  in_time.activity_duration("Export", 89s);
  CHECK(in_time.run("Exporting", std::string("schedule-to-close")).output_as<std::string>() ==
        "attempt 1 from row 0");
}
