// Activity timeouts and cancellation on real nodes. A node killed with SIGKILL while an attempt
// runs: the attempt's deadline is durable, so after the restart it times out and is retried, and its
// late result is dropped. A node in this process: terminating an instance cancels its running
// activity through the worker's stop token, and a throttled heartbeat's details still reach the
// partition.
#include "node_fixture.hpp"
#include "support/child_process.hpp"
#include "support/verdict.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace perdure;
using perdure::testing_support::child_process;
using perdure::testing_support::read_verdict;
using perdure::testing_support::temp_dir;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> activity_running{false};
std::atomic<bool> activity_saw_cancel{false};

// Runs until cancelled (for at most five minutes, should the cancellation never come).
std::string until_cancelled(activity_context& ctx, std::string) {
  activity_running = true;
  for (int i = 0; i < 6000 && !ctx.cancelled(); ++i) std::this_thread::sleep_for(50ms);
  activity_saw_cancel = ctx.cancelled();
  return "stopped";
}

task<std::string> calls_until_cancelled(orchestration_context& ctx, std::string input) {
  co_return co_await ctx.call_activity<std::string>("UntilCancelled", input);
}

// Heartbeats twice within the throttle's interval, then goes silent until its heartbeat timeout
// cancels it; the retry says which details it resumes from.
std::string beat_twice(activity_context& ctx, std::string) {
  if (auto step = ctx.heartbeat_details<int>()) return "resumed after step " + std::to_string(*step);
  ctx.heartbeat(1);
  ctx.heartbeat(2);  // throttled: it goes out at the interval's end, as the trailing heartbeat
  for (int i = 0; i < 6000 && !ctx.cancelled(); ++i) std::this_thread::sleep_for(50ms);
  return "silent";
}

activity_options beat_twice_options() {
  activity_options options;
  options.heartbeat_timeout = 2s;
  retry_policy retry;
  retry.max_attempts = 2;
  retry.first_interval = 100ms;
  options.retry = retry;
  return options;
}

task<std::string> calls_beat_twice(orchestration_context& ctx, std::string input) {
  co_return co_await ctx.call_activity<std::string>("BeatTwice", input, beat_twice_options());
}

std::atomic<int> queued_runs{0};

std::string counted(activity_context&, std::string input) {
  ++queued_runs;
  return input;
}

task<std::string> calls_counted(orchestration_context& ctx, std::string input) {
  co_return co_await ctx.call_activity<std::string>("Counted", input);
}

}  // namespace

TEST_CASE("an attempt still waiting for a worker when its instance ends is not started") {
  activity_running = false;
  queued_runs = 0;
  temp_dir dir;
  host h;
  h.add_activity("UntilCancelled", until_cancelled);
  h.add_activity("Counted", counted);
  h.add_orchestration("CallsUntilCancelled", calls_until_cancelled);
  h.add_orchestration("CallsCounted", calls_counted);
  auto options = testing_support::test_node_options(dir.path());
  options.activity_workers = 1;
  h.start(options);
  auto& c = h.client();
  const auto busy = c.start("CallsUntilCancelled", "\"x\"");
  for (int i = 0; i < 1200 && !activity_running; ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(activity_running);  // the only worker is taken
  const auto queued = c.start("CallsCounted", "\"queued\"");
  c.terminate(queued, "no longer needed");
  CHECK(c.wait_for_completion(queued, testing_support::wait_limit).status == runtime_status::terminated);
  const auto after = c.start("CallsCounted", "\"after\"");  // queued behind it
  c.terminate(busy, "free the worker");
  CHECK(c.wait_for_completion(after, testing_support::wait_limit).status == runtime_status::completed);
  CHECK(queued_runs == 1);  // only "after" ran
  h.stop();
}

TEST_CASE("a heartbeat throttled in the worker still reaches the partition at its interval's end") {
  temp_dir dir;
  host h;
  h.add_activity("BeatTwice", beat_twice);
  h.add_orchestration("CallsBeatTwice", calls_beat_twice);
  h.start(testing_support::test_node_options(dir.path()));
  auto& c = h.client();
  const auto id = c.start("CallsBeatTwice", "\"x\"");
  const auto record = c.wait_for_completion(id, testing_support::wait_limit);
  CHECK(record.status == runtime_status::completed);
  CHECK(record.output == "\"resumed after step 2\"");
  h.stop();
}

TEST_CASE("an attempt running at a kill -9 times out after the restart, is retried, and its late result is dropped") {
  temp_dir dir;
  {
    child_process node{{TIMEOUT_NODE_PATH, "run", dir.path().string()}};
    REQUIRE(node.wait_for_line("HANGING", 120'000));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process finisher{{TIMEOUT_NODE_PATH, "finish", dir.path().string()}};
  const auto found = read_verdict(finisher, 300'000);
  for (const auto& p : found.problems) MESSAGE(p);
  CHECK(found.problems.empty());
  CHECK(found.verified);
  CHECK(found.exit_code == 0);
}

TEST_CASE("terminating an instance cancels its running activity, which stops early") {
  activity_running = false;
  activity_saw_cancel = false;
  temp_dir dir;
  host h;
  h.add_activity("UntilCancelled", until_cancelled);
  h.add_orchestration("CallsUntilCancelled", calls_until_cancelled);
  h.start(testing_support::test_node_options(dir.path()));
  auto& c = h.client();
  const auto id = c.start("CallsUntilCancelled", "\"x\"");
  for (int i = 0; i < 1200 && !activity_running; ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(activity_running);
  c.terminate(id, "no longer needed");
  CHECK(c.wait_for_completion(id, testing_support::wait_limit).status == runtime_status::terminated);
  for (int i = 0; i < 1200 && !activity_saw_cancel; ++i) std::this_thread::sleep_for(50ms);
  CHECK(activity_saw_cancel);
  h.stop();
}
