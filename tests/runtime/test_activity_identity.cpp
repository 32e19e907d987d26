// What an activity is told about its call on a real node: execution id, attempt number and an
// idempotency key that no other call of the instance shares, continue-as-new included.
#include "node_fixture.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::temp_dir;
using testing_support::test_node_options;
using testing_support::wait_limit;

namespace {

constexpr int executions = 3;
constexpr int attempts = 3;  // the first two fail

struct call_seen {
  int execution;  // the orchestration's input: which execution called
  std::string execution_id;
  int32_t task_id;
  int32_t attempt;
  std::string key;
};

std::mutex seen_mutex;
std::vector<call_seen> seen;
std::map<int, int> runs_by_execution;

// Fails until it has run `attempts` times for the same execution, so every call is retried.
int charge(activity_context& ctx, int execution) {
  std::lock_guard lock(seen_mutex);
  seen.push_back({execution, ctx.execution_id(), ctx.task_id(), ctx.attempt(), ctx.idempotency_key()});
  if (++runs_by_execution[execution] < attempts) throw std::runtime_error("card service busy");
  return execution;
}

// An eternal orchestration: one retried call per execution, then continue-as-new.
task<int> billing(orchestration_context& ctx, int execution) {
  retry_policy retry;
  retry.max_attempts = attempts;
  retry.first_interval = 1ms;
  co_await ctx.call_activity<int>("Charge", execution, retry);
  if (execution == executions) co_return execution;
  ctx.continue_as_new(execution + 1);
  co_return 0;
}

}  // namespace

TEST_CASE("an eternal orchestration's activity calls have distinct idempotency keys, the same for all attempts") {
  temp_dir dir;
  host h;
  h.add_activity("Charge", charge);
  h.add_orchestration("Billing", billing);
  h.start(test_node_options(dir.path()));
  start_options options;
  options.instance_id = "billing-1";
  h.client().start("Billing", "1", options);
  auto record = h.client().wait_for_completion("billing-1", wait_limit);
  REQUIRE(record.status == runtime_status::completed);
  CHECK(record.output == std::to_string(executions));

  std::lock_guard lock(seen_mutex);
  REQUIRE(seen.size() == static_cast<size_t>(executions * attempts));
  std::set<std::string> keys, execution_ids;
  for (int execution = 1; execution <= executions; ++execution) {
    CAPTURE(execution);
    std::vector<call_seen> calls;
    for (const auto& c : seen)
      if (c.execution == execution) calls.push_back(c);
    REQUIRE(calls.size() == static_cast<size_t>(attempts));
    const call_seen& first = calls.front();
    // Every execution starts counting task ids at 0: task ids alone would collide.
    CHECK(first.task_id == 0);
    CHECK(first.key == "billing-1/" + first.execution_id + "/0");
    for (int a = 0; a < attempts; ++a) {
      CAPTURE(a);
      CHECK(calls[a].attempt == a + 1);
      CHECK(calls[a].execution_id == first.execution_id);
      CHECK(calls[a].key == first.key);
      if (a > 0) CHECK(calls[a].task_id > calls[a - 1].task_id);  // a retry is a new task
    }
    keys.insert(first.key);
    execution_ids.insert(first.execution_id);
  }
  CHECK(keys.size() == static_cast<size_t>(executions));
  CHECK(execution_ids.size() == static_cast<size_t>(executions));

  // The last execution's history records the attempts.
  std::vector<int32_t> recorded;
  for (const auto& e : h.client().history("billing-1"))
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) {
      recorded.push_back(s->attempt);
      CHECK(s->first_task_id == (s->attempt == 1 ? -1 : 0));
    }
  CHECK(recorded == std::vector<int32_t>{1, 2, 3});
}
