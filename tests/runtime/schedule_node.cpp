// A node process for the schedule restart test.
//
//   schedule_node run DIR     starts a node on DIR, creates the 1 s schedule "tick" if it does not
//                             exist (catch-up window 60 s, allow all), prints STARTED, runs until killed
//   schedule_node check DIR   starts the node, lets the ticks missed while it was down fire, pauses
//                             the schedule, waits for every run to end and checks that the runs are
//                             exactly one per second from the first tick to the last, each started
//                             once; prints "VERIFIED n" and exits 0, or "PROBLEM ..." lines and exits 1
//
// Each run ("Tick") calls the activity "Record", which appends "<instance id> <execution id>" to
// DIR/runs.log: an instance started twice would show two execution ids.
#include "runtime/http_time.hpp"

#include <perdure/host.hpp>
#include <perdure/schedule.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

std::filesystem::path runs_log;
std::mutex runs_log_mutex;

void record(activity_context& ctx) {
  std::lock_guard lock(runs_log_mutex);
  std::ofstream out(runs_log, std::ios::app);
  out << ctx.instance_id() << ' ' << ctx.execution_id() << '\n';
}

task<void> tick(orchestration_context& ctx) { co_await ctx.call_activity("Record"); }

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 4;
  options.activity_workers = 4;
  options.scheduler_threads = 2;
  options.log_level = "error";
  return options;
}

void ensure_schedule(client& hub) {
  schedule_client schedules(hub);
  if (schedules.describe("tick")) return;
  schedule_spec spec;
  spec.id = "tick";
  spec.interval = 1s;
  spec.orchestration = "Tick";
  spec.overlap = overlap_policy::allow_all;
  spec.catch_up_window = 60s;
  schedules.create(spec);
}

std::vector<instance_record> runs(client& hub) {
  std::vector<instance_record> out;
  instance_query query;
  query.instance_id_prefix = "tick@";
  query.page_size = 1000;
  do {
    auto page = hub.list(query);
    out.insert(out.end(), page.records.begin(), page.records.end());
    query.continuation_token = page.continuation_token;
  } while (!query.continuation_token.empty());
  return out;
}

int check(client& hub) {
  std::this_thread::sleep_for(3s);  // the ticks missed while the node was down start at once
  schedule_client schedules(hub);
  schedules.pause("tick");
  std::vector<instance_record> all;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;; std::this_thread::sleep_for(200ms)) {
    all = runs(hub);
    bool done = true;
    for (const auto& r : all) done = done && is_terminal(r.status);
    // Paused means no new run: wait for two equal listings of finished runs.
    if (done && all.size() == runs(hub).size()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      std::cout << "PROBLEM runs still not finished after 60 s" << std::endl;
      return 1;
    }
  }
  int problems = 0;
  auto problem = [&](const std::string& text) {
    std::cout << "PROBLEM " << text << std::endl;
    ++problems;
  };
  std::set<time_point> ticks;
  for (const auto& r : all) {
    if (r.status != runtime_status::completed) problem(r.instance_id + " is " + to_string(r.status));
    auto t = parse_iso8601(r.instance_id.substr(std::string("tick@").size()));
    if (!t) {
      problem("unexpected run id " + r.instance_id);
      continue;
    }
    ticks.insert(*t);
  }
  if (ticks.size() < 10) problem("only " + std::to_string(ticks.size()) + " runs");
  for (auto it = ticks.begin(); it != ticks.end() && std::next(it) != ticks.end(); ++it)
    if (*std::next(it) - *it != 1s)
      problem("no run between " + format_iso8601(*it) + " and " + format_iso8601(*std::next(it)));
  // Each run started once: one execution id per instance among everything its activity recorded.
  std::map<std::string, std::set<std::string>> executions;
  std::ifstream in(runs_log);
  for (std::string id, execution; in >> id >> execution;) executions[id].insert(execution);
  for (const auto& r : all) {
    const auto& seen = executions[r.instance_id];
    if (seen.size() != 1) problem(r.instance_id + " ran in " + std::to_string(seen.size()) + " executions");
  }
  if (executions.size() != all.size())
    problem(std::to_string(executions.size()) + " runs recorded, " + std::to_string(all.size()) + " instances");
  if (problems) return 1;
  std::cout << "VERIFIED " << all.size() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: schedule_node run|check DIR\n";
    return 2;
  }
  const std::string mode = argv[1];
  runs_log = std::filesystem::path(argv[2]) / "runs.log";
  host node;
  node.add_orchestration("Tick", tick);
  node.add_activity("Record", record);
  node.start(options_for(argv[2]));
  if (mode == "check") {
    const int result = check(node.client());
    node.stop();
    return result;
  }
  ensure_schedule(node.client());
  std::cout << "STARTED" << std::endl;
  for (;;) std::this_thread::sleep_for(1h);
}
