// A node process for the rewind and restart test (test_rewind_restart.cpp).
//
//   rewind_node run DIR     runs r0 and rn to completion and rw to a failure (its activity "Ship"
//                           has a bug), then restarts r0 from its start, restarts rn from the episode
//                           after A's result, and rewinds rw; prints "ACKNOWLEDGED" once all three
//                           are durable, and waits to be killed (the steps they run again hold)
//   rewind_node finish DIR  the fixed code, on the same data: waits for the three instances and
//                           checks their histories and what ran; prints "VERIFIED" and exits 0, or
//                           "PROBLEM ..." lines and exits 1
//
// Every activity attempt appends "<activity> <instance> <execution>" to DIR/ran.log, so the finish
// can tell what ran again and what did not.
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

std::string data_dir;
std::mutex log_mutex;
std::atomic<bool> hold{false};  // run: steps run after the requests wait to be killed
bool fixed = false;             // finish: Ship's bug is fixed

void ran(const activity_context& ctx) {
  std::lock_guard lock(log_mutex);
  std::ofstream(data_dir + "/ran.log", std::ios::app) << ctx.name() << ' ' << ctx.instance_id() << ' '
                                                        << ctx.execution_id() << std::endl;
}

void wait_if_held(const activity_context& ctx) {
  while (hold && !ctx.cancelled()) std::this_thread::sleep_for(10ms);
}

task<int> steps(orchestration_context& ctx, int n) {
  int a = co_await ctx.call_activity<int>("A", n);
  int b = co_await ctx.call_activity<int>("B", a);
  co_return b;
}

task<int> shipping(orchestration_context& ctx, int n) {
  int a = co_await ctx.call_activity<int>("A", n);
  co_return co_await ctx.call_activity<int>("Ship", a);
}

void add_functions(host& h) {
  h.add_orchestration("Steps", steps);
  h.add_orchestration("Shipping", shipping);
  h.add_activity("A", [](activity_context& ctx, int n) {
    ran(ctx);
    return n + 1;
  });
  h.add_activity("B", [](activity_context& ctx, int n) {
    wait_if_held(ctx);
    ran(ctx);
    return n * 10;
  });
  h.add_activity("Ship", [](activity_context& ctx, int n) {
    wait_if_held(ctx);
    ran(ctx);
    if (!fixed) throw std::runtime_error("Ship has a bug");
    return n * 100;
  });
}

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir + "/data";
  options.partitions = 4;
  options.activity_workers = 4;
  options.log_level = "error";
  return options;
}

// The position of the EpisodeStarted that follows A's result: restarting there keeps A's result.
int32_t after_first_result(const history& events) {
  bool seen = false;
  for (size_t p = 0; p < events.size(); ++p) {
    if (std::holds_alternative<events::task_completed>(events[p].payload)) seen = true;
    if (seen && std::holds_alternative<events::episode_started>(events[p].payload)) return static_cast<int32_t>(p);
  }
  return -1;
}

int run() {
  host h;
  add_functions(h);
  h.start(options_for(data_dir));
  auto& c = h.client();
  c.start("Steps", "1", start_options{"r0"});
  c.start("Steps", "1", start_options{"rn"});
  c.start("Shipping", "1", start_options{"rw"});
  for (const char* id : {"r0", "rn", "rw"}) c.wait_for_completion(id, 60s);
  hold = true;
  const int32_t n = after_first_result(c.history("rn"));
  std::ofstream(data_dir + "/from_event") << n << std::endl;
  c.restart("r0");
  c.restart("rn", restart_options{n});
  c.rewind("rw", "Ship fixed");
  std::cout << "ACKNOWLEDGED" << std::endl;
  std::this_thread::sleep_for(600s);
  return 1;
}

struct checker {
  std::vector<std::string> problems;
  void expect(bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  }
};

// Every scheduled activity has exactly one result that counts.
bool one_result_per_task(const history& events) {
  std::map<int32_t, int> results;
  for (const auto& e : events) {
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) results.try_emplace(s->task_id, 0);
    if (auto* d = std::get_if<events::task_completed>(&e.payload)) ++results[d->task_id];
  }
  for (auto& [id, count] : results)
    if (count != 1) return false;
  return true;
}

template <class Event>
const Event* find_event(const history& events) {
  for (const auto& e : events)
    if (auto* found = std::get_if<Event>(&e.payload)) return found;
  return nullptr;
}

int finish() {
  fixed = true;
  host h;
  add_functions(h);
  h.start(options_for(data_dir));
  auto& c = h.client();
  checker check;
  for (const char* id : {"r0", "rn", "rw"}) {
    const auto record = c.wait_for_completion(id, 60s);
    check.expect(record.status == runtime_status::completed, std::string(id) + " is " + to_string(record.status));
  }
  int32_t from_event = -1;
  std::ifstream(data_dir + "/from_event") >> from_event;

  const auto r0 = c.history("r0");
  const auto rn = c.history("rn");
  const auto rw = c.history("rw");
  check.expect(c.status("r0")->output == "20", "r0's output is " + c.status("r0")->output);
  check.expect(c.status("rn")->output == "20", "rn's output is " + c.status("rn")->output);
  check.expect(c.status("rw")->output == "200", "rw's output is " + c.status("rw")->output);
  for (const auto* events : {&r0, &rn, &rw}) check.expect(one_result_per_task(*events), "a task has not one result");
  const auto* restarted_r0 = find_event<events::execution_restarted>(r0);
  check.expect(restarted_r0 && restarted_r0->from_event == 0, "r0's history has no restart from 0");
  const auto* restarted_rn = find_event<events::execution_restarted>(rn);
  check.expect(restarted_rn && restarted_rn->from_event == from_event, "rn's history has no restart from its prefix");
  const auto* rewound = find_event<events::execution_rewound>(rw);
  check.expect(rewound && rewound->reason == "Ship fixed", "rw's history has no rewind");
  check.expect(find_event<events::execution_failed>(rw) != nullptr, "rw's history lost its failure");

  // What ran, per activity and instance (executions too: A of rn must not run in the new one).
  std::map<std::string, int> runs;
  std::set<std::string> executions_of_a_rn;
  std::ifstream log(data_dir + "/ran.log");
  std::string activity, instance, execution;
  while (log >> activity >> instance >> execution) {
    ++runs[activity + " " + instance];
    if (activity == "A" && instance == "rn") executions_of_a_rn.insert(execution);
  }
  check.expect(runs["A r0"] >= 2, "r0's restart did not run A again");
  check.expect(runs["A rn"] == 1, "rn's A ran " + std::to_string(runs["A rn"]) + " times: its result is in the prefix");
  check.expect(runs["A rw"] == 1, "rw's A ran again: only the failed step should");
  check.expect(runs["Ship rw"] >= 2, "rw's Ship did not run again after the rewind");
  check.expect(runs["B rn"] >= 2, "rn's B did not run again after the prefix");
  for (const auto& p : check.problems) std::cout << "PROBLEM " << p << std::endl;
  if (!check.problems.empty()) return 1;
  std::cout << "VERIFIED" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: rewind_node run|finish DIR\n";
    return 2;
  }
  data_dir = argv[2];
  const std::string mode = argv[1];
  try {
    return mode == "run" ? run() : finish();
  } catch (const std::exception& e) {
    std::cout << "PROBLEM " << e.what() << std::endl;
    return 1;
  }
}
