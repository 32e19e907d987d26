// A node process for the crash-recovery test.
//
//   recovery_node run DIR N      starts (or resumes) instances r-0..r-N-1 and works until killed
//   recovery_node finish DIR N   resumes them, delivers their events, waits for every instance and
//                                checks outputs and histories; prints "VERIFIED n" and exits 0, or
//                                "PROBLEM ..." lines and exits 1
//
// Each instance runs activities in sequence (some slow), a fan-out, a durable timer, and then waits
// for an external event, so a kill -9 lands while activities run, timers are pending and
// instances wait for events.
#include <perdure/combinators.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

int slow_add(activity_context&, int x) {
  thread_local std::mt19937 random{std::random_device{}()};
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 20));
  return x + 1;
}

task<int> mixed(orchestration_context& ctx, int seed) {
  int value = seed;
  for (int i = 0; i < 3; ++i) value = co_await ctx.call_activity<int>("SlowAdd", value);
  std::vector<task<int>> fan;
  for (int i = 0; i < 5; ++i) fan.push_back(ctx.call_activity<int>("SlowAdd", i));
  for (int v : co_await when_all(std::move(fan))) value += v;
  co_await ctx.create_timer(300ms);
  value += co_await ctx.wait_for_event<int>("Go");
  co_return value;
}

int expected_output(int seed) { return seed + 3 + (1 + 2 + 3 + 4 + 5) + 1000; }

std::string id_of(int i) { return "r-" + std::to_string(i); }

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 4;
  options.activity_workers = 8;
  options.log_level = "error";
  return options;
}

// An instance that already finished (it got its event before a crash) needs no other.
void raise_go(client& c, const std::string& id) {
  try {
    c.raise_event(id, "Go", "1000");
  } catch (const instance_finished&) {
  }
}

void start_all(client& c, int n) {
  for (int i = 0; i < n; ++i) {
    start_options options;
    options.instance_id = id_of(i);
    options.when_running = if_running::return_existing;
    auto record = c.status(id_of(i));
    if (!record) c.start("Mixed", std::to_string(i), options);
  }
}

// Every scheduled activity has exactly one result; every timer fired exactly once.
std::string check_history(const history& events) {
  std::map<int32_t, int> results, timers;
  for (const auto& e : events) {
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) results.try_emplace(s->task_id, 0);
    if (auto* c = std::get_if<events::task_completed>(&e.payload)) ++results[c->task_id];
    if (auto* f = std::get_if<events::task_failed>(&e.payload)) ++results[f->task_id];
    if (auto* t = std::get_if<events::timer_created>(&e.payload)) timers.try_emplace(t->timer_id, 0);
    if (auto* t = std::get_if<events::timer_fired>(&e.payload)) ++timers[t->timer_id];
  }
  for (auto [task, count] : results)
    if (count != 1) return "task " + std::to_string(task) + " has " + std::to_string(count) + " results";
  for (auto [timer, count] : timers)
    if (count != 1) return "timer " + std::to_string(timer) + " fired " + std::to_string(count) + " times";
  if (results.size() != 8) return "expected 8 activities, history has " + std::to_string(results.size());
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: recovery_node run|finish DIR N\n";
    return 2;
  }
  const std::string mode = argv[1];
  const int n = std::stoi(argv[3]);
  host h;
  h.add_activity("SlowAdd", slow_add);
  h.add_orchestration("Mixed", mixed);
  h.start(options_for(argv[2]));
  auto& c = h.client();
  start_all(c, n);
  std::cout << "STARTED " << n << std::endl;

  if (mode == "run") {
    // Deliver some events now, so that some instances finish before the kill and some events
    // arrive before the instance waits for them.
    for (int i = 0; i < n; i += 3) raise_go(c, id_of(i));
    std::cout << "EVENTS SENT" << std::endl;
    for (;;) std::this_thread::sleep_for(1s);
  }

  int problems = 0;
  for (int i = 0; i < n; ++i) {
    auto record = c.status(id_of(i));
    if (record && !is_terminal(record->status)) raise_go(c, id_of(i));
  }
  for (int i = 0; i < n; ++i) {
    auto record = c.wait_for_completion(id_of(i), 120s);
    const auto expected = std::to_string(expected_output(i));
    if (record.status != runtime_status::completed || record.output != expected) {
      std::cout << "PROBLEM " << id_of(i) << ": status " << to_string(record.status) << ", output " << record.output
                << ", expected " << expected << std::endl;
      ++problems;
      continue;
    }
    if (auto problem = check_history(c.history(id_of(i))); !problem.empty()) {
      std::cout << "PROBLEM " << id_of(i) << ": " << problem << std::endl;
      ++problems;
    }
  }
  h.stop();
  if (problems > 0) return 1;
  std::cout << "VERIFIED " << n << std::endl;
  return 0;
}
