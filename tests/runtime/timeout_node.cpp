// A node process for the activity timeout test: timeouts and heartbeats across a kill -9.
//
//   timeout_node run DIR      starts the instances; its "Hang" activity prints HANGING when its first
//                             attempt runs; works until killed
//   timeout_node finish DIR   restarts on DIR, lets the instances end and checks their outputs and
//                             histories; prints "VERIFIED" and exits 0, or "PROBLEM ..." lines and
//                             exits 1
//
// "timed-out": "Hang" runs until cancelled, with a start-to-close timeout and one retry; the second
// attempt answers at once. The first attempt, run again after the restart, times out at its durable
// deadline, is cancelled, returns a late result (and leaves a marker file) while the instance still
// runs (it then waits for an event), and that result must not enter the history.
// "heartbeat": "Beat" heartbeats twice, then goes silent; its heartbeat timeout fails it, and the
// retry reads the last heartbeat's details.
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

std::filesystem::path late_result_marker;  // DIR/late-result, written by Hang's late first attempt

// Waits until cancelled, for at most five minutes (should the cancellation never come).
void until_cancelled(const activity_context& ctx) {
  for (int i = 0; i < 6000 && !ctx.cancelled(); ++i) std::this_thread::sleep_for(50ms);
}

std::string hang(activity_context& ctx, std::string) {
  if (ctx.attempt() > 1) return "attempt " + std::to_string(ctx.attempt());
  std::cout << "HANGING" << std::endl;
  until_cancelled(ctx);
  if (ctx.cancelled()) std::ofstream{late_result_marker} << "late\n";
  return "late";
}

std::string beat(activity_context& ctx, std::string) {
  if (auto step = ctx.heartbeat_details<int>()) return "resumed after step " + std::to_string(*step);
  ctx.heartbeat(1);
  std::this_thread::sleep_for(6s);  // more than half the heartbeat timeout: the next heartbeat goes out
  ctx.heartbeat(2);
  until_cancelled(ctx);
  return "silent";
}

retry_policy two_attempts() {
  retry_policy retry;
  retry.max_attempts = 2;
  retry.first_interval = 100ms;
  return retry;
}

activity_options hang_options() {
  activity_options options;
  options.start_to_close_timeout = 15s;
  options.retry = two_attempts();
  return options;
}

activity_options beat_options() {
  activity_options options;
  options.heartbeat_timeout = 10s;
  options.retry = two_attempts();
  return options;
}

task<std::string> timed_out(orchestration_context& ctx, std::string input) {
  auto result = co_await ctx.call_activity<std::string>("Hang", input, hang_options());
  co_await ctx.wait_for_event<int>("Finish");
  co_return result;
}

task<std::string> heartbeat(orchestration_context& ctx, std::string input) {
  co_return co_await ctx.call_activity<std::string>("Beat", input, beat_options());
}

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 2;
  options.activity_workers = 4;
  options.log_level = "error";
  return options;
}

void start_once(client& c, const std::string& name, const std::string& id) {
  start_options options;
  options.instance_id = id;
  options.when_running = if_running::return_existing;
  if (!c.status(id)) c.start(name, "\"go\"", options);
}

struct checker {
  int problems = 0;
  void expect(bool ok, const std::string& what) {
    if (ok) return;
    std::cout << "PROBLEM " << what << std::endl;
    ++problems;
  }
};

// Task 0's answers in the history (the call's first attempt), and the second attempt's schedule.
struct first_attempt_view {
  int results = 0;
  const events::task_failed* failure = nullptr;
  const history_event* second_scheduled = nullptr;
};

// The view points into the history: a temporary's would dangle.
first_attempt_view view_of(const history&&) = delete;
first_attempt_view view_of(const history& h) {
  first_attempt_view v;
  for (const auto& e : h) {
    if (auto* done = std::get_if<events::task_completed>(&e.payload); done && done->task_id == 0) ++v.results;
    if (auto* failed = std::get_if<events::task_failed>(&e.payload); failed && failed->task_id == 0) {
      ++v.results;
      v.failure = failed;
    }
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload); s && s->attempt == 2) v.second_scheduled = &e;
  }
  return v;
}

void check_timed_out(client& c, checker& check, time_point restarted_at) {
  for (int i = 0; i < 1200 && !std::filesystem::exists(late_result_marker); ++i) std::this_thread::sleep_for(100ms);
  check.expect(std::filesystem::exists(late_result_marker), "timed-out: the first attempt was never cancelled");
  // Let the late result reach the partition before the instance ends (it only makes the check weaker
  // if it comes later: it is dropped then too).
  std::this_thread::sleep_for(1s);
  c.raise_event("timed-out", "Finish", "1");
  auto record = c.wait_for_completion("timed-out", 120s);
  check.expect(record.status == runtime_status::completed && record.output == "\"attempt 2\"",
               "timed-out: status " + std::string(to_string(record.status)) + ", output " + record.output);
  const auto h = c.history("timed-out");
  auto v = view_of(h);
  check.expect(v.results == 1, "timed-out: the first attempt has " + std::to_string(v.results) + " results");
  check.expect(v.failure && v.failure->failure.error_type == "TimeoutError" && v.failure->failure.details == "StartToClose",
               "timed-out: the first attempt did not fail with a start-to-close TimeoutError");
  check.expect(v.second_scheduled && v.second_scheduled->timestamp >= restarted_at,
               "timed-out: the retry was not scheduled after the restart");
}

void check_heartbeat(client& c, checker& check) {
  auto record = c.wait_for_completion("heartbeat", 120s);
  check.expect(record.status == runtime_status::completed && record.output == "\"resumed after step 2\"",
               "heartbeat: status " + std::string(to_string(record.status)) + ", output " + record.output);
  const history h = c.history("heartbeat");  // the view points into it
  auto v = view_of(h);
  check.expect(v.failure && v.failure->failure.error_type == "TimeoutError" && v.failure->failure.details == "Heartbeat",
               "heartbeat: the first attempt did not fail with a heartbeat TimeoutError");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: timeout_node run|finish DIR\n";
    return 2;
  }
  const std::string mode = argv[1];
  late_result_marker = std::filesystem::path(argv[2]) / "late-result";
  const time_point restarted_at = clock::now();
  host h;
  h.add_activity("Hang", hang);
  h.add_activity("Beat", beat);
  h.add_orchestration("TimedOut", timed_out);
  h.add_orchestration("Heartbeat", heartbeat);
  h.start(options_for(argv[2]));
  auto& c = h.client();
  start_once(c, "TimedOut", "timed-out");
  start_once(c, "Heartbeat", "heartbeat");
  std::cout << "STARTED" << std::endl;
  if (mode == "run") {
    for (;;) std::this_thread::sleep_for(1s);
  }
  checker check;
  check_timed_out(c, check, restarted_at);
  check_heartbeat(c, check);
  h.stop();
  if (check.problems > 0) return 1;
  std::cout << "VERIFIED" << std::endl;
  return 0;
}
