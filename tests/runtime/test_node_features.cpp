// Every orchestration feature end to end on a real node (RocksDB on disk, CAF actors).
#include "node_fixture.hpp"

#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::temp_dir;
using testing_support::test_node_options;
using testing_support::wait_limit;

namespace {

std::atomic<int> flaky_calls{0};

int add_one(activity_context&, int x) { return x + 1; }
int twice(activity_context&, int x) { return 2 * x; }
std::string fail_always(activity_context&, std::string why) { throw std::runtime_error(why); }
int nap(activity_context&, int millis) {
  std::this_thread::sleep_for(std::chrono::milliseconds(millis));
  return millis;
}
int flaky(activity_context&, int x) {
  if (flaky_calls.fetch_add(1) < 2) throw std::runtime_error("transient");
  return x;
}

task<int> chain(orchestration_context& ctx, int x) {
  int a = co_await ctx.call_activity<int>("AddOne", x);
  int b = co_await ctx.call_activity<int>("AddOne", a);
  co_return co_await ctx.call_activity<int>("Twice", b);
}

task<int> fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> parts;
  for (int i = 0; i < n; ++i) parts.push_back(ctx.call_activity<int>("Twice", i));
  int sum = 0;
  for (int v : co_await when_all(std::move(parts))) sum += v;
  co_return sum;
}

task<int> slow_fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> parts;
  for (int i = 0; i < n; ++i) parts.push_back(ctx.call_activity<int>("Nap", 150));
  co_await when_all(std::move(parts));
  co_return n;
}

task<int> parent(orchestration_context& ctx, int x) {
  int a = co_await ctx.call_sub_orchestration<int>("Chain", x);
  int b = co_await ctx.call_sub_orchestration<int>("Chain", x + 1, "child-of-" + ctx.instance_id());
  co_return a + b;
}

task<std::string> sleeper(orchestration_context& ctx, int millis) {
  auto started = ctx.current_time();
  co_await ctx.create_timer(std::chrono::milliseconds(millis));
  co_return ctx.current_time() - started >= std::chrono::milliseconds(millis) ? "late enough" : "too early";
}

task<std::string> approval(orchestration_context& ctx, int timeout_ms) {
  ctx.set_custom_status(std::string{"waiting"});
  try {
    auto answer = co_await ctx.wait_for_event<std::string>("Approval", std::chrono::milliseconds(timeout_ms));
    ctx.set_custom_status(std::string{"answered"});
    co_return answer;
  } catch (const timeout_error&) {
    co_return "escalated";
  }
}

task<int> counter(orchestration_context& ctx, int n) {
  if (n >= 5) co_return n;
  co_await ctx.call_activity<int>("AddOne", n);
  ctx.continue_as_new(n + 1);
  co_return 0;
}

task<std::string> saga(orchestration_context& ctx, std::string why) {
  co_await ctx.call_activity<int>("AddOne", 1);
  std::optional<failure_details> failure;
  try {
    co_await ctx.call_activity<std::string>("FailAlways", why);
  } catch (const task_failed& e) {
    failure = e.failure();
  }
  if (!failure) co_return "not reached";
  co_await ctx.call_activity<int>("Twice", 1);  // the compensation
  co_return "compensated: " + failure->message;
}

task<int> retrying(orchestration_context& ctx, int x) {
  retry_policy retry;
  retry.max_attempts = 5;
  retry.first_interval = 10ms;
  co_return co_await ctx.call_activity<int>("Flaky", x, retry);
}

task<int> failing(orchestration_context& ctx, std::string why) {
  co_await ctx.call_activity<std::string>("FailAlways", why);
  co_return 0;
}

task<int> waits_forever(orchestration_context& ctx, int) {
  co_return co_await ctx.wait_for_event<int>("Never");
}

void register_all(host& h) {
  h.add_activity("AddOne", add_one);
  h.add_activity("Twice", twice);
  h.add_activity("FailAlways", fail_always);
  h.add_activity("Flaky", flaky);
  h.add_activity("Nap", nap);
  h.add_orchestration("Chain", chain);
  h.add_orchestration("FanOut", fan_out);
  h.add_orchestration("SlowFanOut", slow_fan_out);
  h.add_orchestration("Parent", parent);
  h.add_orchestration("Sleeper", sleeper);
  h.add_orchestration("Approval", approval);
  h.add_orchestration("Counter", counter);
  h.add_orchestration("Saga", saga);
  h.add_orchestration("Retrying", retrying);
  h.add_orchestration("Failing", failing);
  h.add_orchestration("WaitsForever", waits_forever);
}

struct node {
  temp_dir dir;
  host h;
  node() {
    register_all(h);
    h.start(test_node_options(dir.path()));
  }
  client& c() { return h.client(); }
  instance_record finish(const std::string& id) { return c().wait_for_completion(id, wait_limit); }
};

int count_kind(const history& events, const char* kind) {
  int n = 0;
  for (const auto& e : events) n += std::string{event_kind_name(e.payload)} == kind;
  return n;
}

}  // namespace

TEST_CASE("function chaining runs activities in sequence") {
  node n;
  auto id = n.c().start("Chain", "3");
  auto record = n.finish(id);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "10");
  auto events = n.c().history(id);
  CHECK(count_kind(events, "TaskScheduled") == 3);
  CHECK(count_kind(events, "TaskCompleted") == 3);
}

TEST_CASE("fan-out/fan-in sums a thousand parallel activities") {
  node n;
  auto id = n.c().start("FanOut", "1000");
  auto record = n.finish(id);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == std::to_string(999 * 1000));
  CHECK(count_kind(n.c().history(id), "TaskCompleted") == 1000);
}

TEST_CASE("slow activities run on every worker, even after fast ones made the pool hand out batches") {
  node n;
  n.finish(n.c().start("FanOut", "1000"));  // the pool learns that activities take microseconds
  const auto started = std::chrono::steady_clock::now();
  auto record = n.finish(n.c().start("SlowFanOut", "8"));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(record.status == runtime_status::completed);
  // 8 naps of 150 ms on 4 workers take 300 ms; on one worker they would take 1.2 s.
  CHECK(elapsed < 900ms);
}

TEST_CASE("sub-orchestrations return their results to the parent") {
  node n;
  start_options options;
  options.instance_id = "parent-1";
  n.c().start("Parent", "1", options);
  auto record = n.finish("parent-1");
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == std::to_string(((1 + 2) * 2) + ((2 + 2) * 2)));
  auto child = n.c().status("child-of-parent-1");
  REQUIRE(child);
  CHECK(child->status == runtime_status::completed);
  REQUIRE(child->parent);
  CHECK(child->parent->instance_id == "parent-1");
}

TEST_CASE("durable timers fire after their time") {
  node n;
  auto id = n.c().start("Sleeper", "300");
  auto record = n.finish(id);
  CHECK(record.output == "\"late enough\"");
  CHECK(count_kind(n.c().history(id), "TimerFired") == 1);
}

TEST_CASE("external events: delivered, buffered before the wait, and timed out") {
  node n;
  SUBCASE("answered") {
    auto id = n.c().start("Approval", "30000");
    n.c().raise_event(id, "Approval", R"("yes")");
    auto record = n.finish(id);
    CHECK(record.output == "\"yes\"");
    CHECK(record.custom_status == "\"answered\"");
  }
  SUBCASE("timeout escalates") {
    auto id = n.c().start("Approval", "200");
    CHECK(n.finish(id).output == "\"escalated\"");
  }
  SUBCASE("unknown instance is an error") {
    CHECK_THROWS_AS(n.c().raise_event("no-such-instance", "Approval", "1"), instance_not_found);
  }
}

TEST_CASE("custom status is visible while running") {
  node n;
  auto id = n.c().start("Approval", "60000");
  std::optional<instance_record> record;
  for (int i = 0; i < 300 && (!record || record->custom_status.empty()); ++i) {
    record = n.c().status(id);
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(record);
  CHECK(record->status == runtime_status::running);
  CHECK(record->custom_status == "\"waiting\"");
  n.c().terminate(id, "test over");
}

TEST_CASE("continue_as_new restarts with a fresh history") {
  node n;
  auto id = n.c().start("Counter", "0");
  auto record = n.finish(id);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "5");
  auto events = n.c().history(id);
  CHECK(count_kind(events, "ExecutionStarted") == 1);
  CHECK(count_kind(events, "TaskScheduled") == 0);
}

TEST_CASE("terminate ends a waiting instance") {
  node n;
  auto id = n.c().start("WaitsForever", "0");
  n.c().terminate(id, "no longer needed");
  auto record = n.finish(id);
  CHECK(record.status == runtime_status::terminated);
  CHECK(record.output == "\"no longer needed\"");
}

TEST_CASE("suspend holds events until resume") {
  node n;
  auto id = n.c().start("Approval", "60000");
  n.c().suspend(id, "maintenance");
  CHECK(n.c().status(id)->status == runtime_status::suspended);
  n.c().raise_event(id, "Approval", R"("later")");
  std::this_thread::sleep_for(100ms);
  CHECK(n.c().status(id)->status == runtime_status::suspended);
  n.c().resume(id, "done");
  auto record = n.finish(id);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "\"later\"");
}

TEST_CASE("retries with durable backoff timers") {
  flaky_calls = 0;
  node n;
  auto id = n.c().start("Retrying", "7");
  auto record = n.finish(id);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "7");
  auto events = n.c().history(id);
  CHECK(count_kind(events, "TaskFailed") == 2);
  CHECK(count_kind(events, "TimerFired") == 2);
}

TEST_CASE("compensation runs when an activity fails, an uncaught failure fails the instance") {
  node n;
  auto saga_id = n.c().start("Saga", R"("card declined")");
  CHECK(n.finish(saga_id).output == "\"compensated: card declined\"");
  auto failing_id = n.c().start("Failing", R"("broken")");
  auto record = n.finish(failing_id);
  CHECK(record.status == runtime_status::failed);
  REQUIRE(record.failure);
  CHECK(record.failure->message.find("broken") != std::string::npos);
}

TEST_CASE("start: ids, duplicates and bad input") {
  node n;
  start_options options;
  options.instance_id = "fixed-id";
  n.c().start("WaitsForever", "0", options);
  CHECK_THROWS_AS(n.c().start("WaitsForever", "0", options), instance_already_exists);
  options.when_running = if_running::return_existing;
  CHECK(n.c().start("WaitsForever", "0", options) == "fixed-id");
  CHECK_THROWS_AS(n.c().start("NoSuchOrchestration", "0"), unknown_function_error);
  CHECK_THROWS_AS(n.c().start("Chain", "{not json"), invalid_argument_error);
  start_options bad;
  bad.instance_id = "has/slash";
  CHECK_THROWS_AS(n.c().start("Chain", "1", bad), invalid_argument_error);
  bad.instance_id = std::string(300, 'x');
  CHECK_THROWS_AS(n.c().start("Chain", "1", bad), invalid_argument_error);
  CHECK_THROWS_AS(n.c().start("Chain", "\"" + std::string(5u << 20, 'x') + "\""), invalid_argument_error);
  CHECK_THROWS_AS(n.c().wait_for_completion("fixed-id", 50ms), timeout_error);
  n.c().terminate("fixed-id", "cleanup");
}

TEST_CASE("a finished instance can be started again under the same id") {
  node n;
  start_options options;
  options.instance_id = "again";
  n.c().start("Chain", "1", options);
  CHECK(n.finish("again").output == "6");
  n.c().start("Chain", "2", options);
  CHECK(n.finish("again").output == "8");
}

TEST_CASE("list filters and pages, purge deletes finished instances") {
  node n;
  std::vector<std::string> done;
  for (int i = 0; i < 25; ++i) {
    start_options options;
    options.instance_id = "batch-" + std::to_string(100 + i);
    done.push_back(n.c().start("Chain", std::to_string(i), options));
  }
  for (auto& id : done) n.finish(id);
  start_options waiting;
  waiting.instance_id = "waiting-1";
  n.c().start("WaitsForever", "0", waiting);

  instance_query query;
  query.statuses = {runtime_status::completed};
  query.instance_id_prefix = "batch-";
  query.page_size = 7;
  std::vector<std::string> seen;
  do {
    auto page = n.c().list(query);
    CHECK(page.records.size() <= 7);
    for (auto& r : page.records) seen.push_back(r.instance_id);
    query.continuation_token = page.continuation_token;
  } while (!query.continuation_token.empty());
  CHECK(seen.size() == 25);

  instance_query running;
  running.statuses = {runtime_status::running};
  auto page = n.c().list(running);
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].instance_id == "waiting-1");

  CHECK_THROWS_AS(n.c().purge("waiting-1"), invalid_argument_error);
  CHECK(n.c().purge("batch-100"));
  CHECK_FALSE(n.c().status("batch-100"));
  CHECK_FALSE(n.c().purge("batch-100"));
  instance_query everything_done;
  everything_done.instance_id_prefix = "batch-";
  CHECK(n.c().purge(everything_done) == 24);
  CHECK(n.c().list(everything_done).records.empty());
  CHECK(n.c().status("waiting-1"));
  n.c().terminate("waiting-1", "cleanup");
}

TEST_CASE("a restarted node resumes instances from disk") {
  temp_dir dir;
  {
    host h;
    register_all(h);
    h.start(test_node_options(dir.path()));
    start_options options;
    options.instance_id = "survivor";
    h.client().start("Approval", "60000", options);
    auto record = h.client().status("survivor");
    REQUIRE(record);
    h.stop();
  }
  host h;
  register_all(h);
  h.start(test_node_options(dir.path()));
  h.client().raise_event("survivor", "Approval", R"("after restart")");
  auto record = h.client().wait_for_completion("survivor", wait_limit);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "\"after restart\"");
}
