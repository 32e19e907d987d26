// Activity faults inside one node: exceptions are retried per policy and exactly one result per
// attempt is applied; a hanging activity is cut off by the timeout pattern (when_any with a durable
// timer) and its late result is dropped without a trace and without running again.
#include "runtime/node_fixture.hpp"

#include <perdure/host.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

using namespace perdure;
using namespace std::chrono_literals;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;
using perdure::testing_support::wait_limit;

namespace {

std::atomic<int> flaky_calls{0};
std::atomic<int> broken_calls{0};
std::atomic<int> hanging_calls{0};
std::atomic<bool> hang_returned{false};

// Releases the hanging activity when the test says so (a C++ thread cannot be interrupted).
struct gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
} hang_gate;

retry_policy attempts(int n) {
  retry_policy policy;
  policy.max_attempts = n;
  policy.first_interval = 10ms;
  return policy;
}

task<int> retried(orchestration_context& ctx, int x) { co_return co_await ctx.call_activity<int>("Flaky", x, attempts(4)); }

task<std::string> exhausted(orchestration_context& ctx) {
  try {
    co_await ctx.call_activity<int>("Broken", 1, attempts(3));
  } catch (const perdure::task_failed& e) {
    co_return e.failure().error_type + ": " + e.failure().message;
  }
  co_return std::string("no failure");
}

task<std::string> bad_input(orchestration_context& ctx) {
  try {
    co_await ctx.call_activity<int>("Broken", std::string("not a number"), attempts(4));
  } catch (const perdure::task_failed& e) {
    co_return std::string(e.failure().non_retriable ? "non-retriable" : "retriable");
  }
  co_return std::string("no failure");
}

// The timeout pattern for activities that may hang.
task<std::string> with_timeout(orchestration_context& ctx) {
  task<int> work = ctx.call_activity<int>("Hangs", 1);
  task<void> deadline = ctx.create_timer(300ms);
  if (co_await when_any(work, deadline) == 1) co_return std::string("timed out");
  co_return std::to_string(co_await work);
}

void register_functions(host& h) {
  h.add_orchestration("Retried", retried);
  h.add_orchestration("Exhausted", exhausted);
  h.add_orchestration("BadInput", bad_input);
  h.add_orchestration("WithTimeout", with_timeout);
  h.add_activity("Flaky", [](activity_context&, int x) {
    if (++flaky_calls <= 2) throw std::runtime_error("flaky " + std::to_string(flaky_calls.load()));
    return x + 1;
  });
  h.add_activity("Broken", [](activity_context&, int) -> int {
    ++broken_calls;
    throw std::logic_error("always broken");
  });
  h.add_activity("Hangs", [](activity_context&, int x) {
    ++hanging_calls;
    hang_gate.wait();
    hang_returned = true;
    return x;
  });
}

struct counts {
  std::map<int32_t, int> results;  // per scheduled task id
  int scheduled = 0, completed = 0, failed = 0;
};

counts count(const history& events) {
  counts c;
  for (const auto& e : events) {
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) {
      ++c.scheduled;
      c.results.try_emplace(s->task_id, 0);
    }
    if (auto* r = std::get_if<events::task_completed>(&e.payload)) {
      ++c.completed;
      ++c.results[r->task_id];
    }
    if (auto* r = std::get_if<events::task_failed>(&e.payload)) {
      ++c.failed;
      ++c.results[r->task_id];
    }
  }
  return c;
}

}  // namespace

TEST_CASE("activity exceptions are retried per policy and each attempt is answered once") {
  temp_dir dir;
  host h;
  register_functions(h);
  h.start(test_node_options(dir.path()));
  auto& c = h.client();

  SUBCASE("transient failures, then success") {
    flaky_calls = 0;
    c.start("Retried", "5", {"retried"});
    CHECK(c.wait_for_completion("retried", wait_limit).output == "6");
    CHECK(flaky_calls == 3);
    auto n = count(c.history("retried"));
    CHECK(n.scheduled == 3);
    CHECK(n.failed == 2);
    CHECK(n.completed == 1);
    for (auto [task, results] : n.results) CHECK_MESSAGE(results == 1, "task " << task);
  }
  SUBCASE("retries exhausted: the failure reaches the orchestration with its type") {
    broken_calls = 0;
    c.start("Exhausted", "", {"exhausted"});
    CHECK(c.wait_for_completion("exhausted", wait_limit).output == "\"std::logic_error: always broken\"");
    CHECK(broken_calls == 3);
    CHECK(count(c.history("exhausted")).failed == 3);
  }
  SUBCASE("an input the activity cannot decode is not retried") {
    broken_calls = 0;
    c.start("BadInput", "", {"bad-input"});
    CHECK(c.wait_for_completion("bad-input", wait_limit).output == "\"non-retriable\"");
    CHECK(broken_calls == 0);
    CHECK(count(c.history("bad-input")).scheduled == 1);
  }
  h.stop();
}

TEST_CASE("a hanging activity: the timeout pattern ends the wait and its late result is ignored safely") {
  temp_dir dir;
  hanging_calls = 0;
  history at_completion;
  {
    host h;
    register_functions(h);
    h.start(test_node_options(dir.path()));
    auto& c = h.client();
    c.start("WithTimeout", "", {"hang"});
    auto record = c.wait_for_completion("hang", wait_limit);
    CHECK(record.output == "\"timed out\"");
    at_completion = c.history("hang");
    CHECK(count(at_completion).completed == 0);

    hang_gate.release();  // the activity finally returns: its result reaches a finished instance
    while (!hang_returned) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(500ms);
    CHECK(c.status("hang")->status == runtime_status::completed);
    CHECK(c.status("hang")->output == "\"timed out\"");
    CHECK(c.history("hang") == at_completion);
    h.stop();
  }
  // The late result took the activity out of the queue: a restart does not run it again.
  host h;
  register_functions(h);
  h.start(test_node_options(dir.path()));
  std::this_thread::sleep_for(500ms);
  CHECK(hanging_calls == 1);
  CHECK(h.client().history("hang") == at_completion);
  h.stop();
}
