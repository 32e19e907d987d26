// A node process for the entity kill -9 test.
//
//   entity_node run DIR     starts a node on DIR and 100 new "Bump" orchestrations (each calls the
//                           entity Counter@orch's "add" 10 times, so every run is killed with calls
//                           in flight), prints STARTED, then signals Log@client "append" with 1, 2,
//                           3, ... from this client, appending each number to DIR/acked.log once
//                           its signal returned, until killed (a restart skips the number that may
//                           have been in flight)
//   entity_node schedule DIR  starts the node and signals Due@client "arrive" 30 times from this
//                           client, each scheduled 2 to 5 s ahead with its time as input,
//                           appending each number to DIR/scheduled.log once its signal returned;
//                           prints SCHEDULED and waits to be killed
//   entity_node check-scheduled DIR  starts the node, waits until Due@client holds every
//                           scheduled number and checks that none came twice or before its time;
//                           prints "VERIFIED ..." or "PROBLEM ..." lines as check does
//   entity_node check DIR   starts the node, waits for every Bump of every run to complete and
//                           checks that Counter@orch is exactly 10 per Bump and that Log@client
//                           holds every acknowledged number, none twice; prints "VERIFIED ..." and
//                           exits 0, or "PROBLEM ..." lines and exits 1
#include "support/run_log.hpp"

#include <perdure/host.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace perdure;
using namespace std::chrono_literals;

namespace {

using perdure::testing_support::begin_run;
using perdure::testing_support::runs_so_far;

constexpr int orchestrations = 100;
constexpr int adds_per_orchestration = 10;

void counter(entity_context& ctx) {
  if (ctx.operation() != "add") throw std::invalid_argument("Counter has no operation '" + ctx.operation() + "'");
  ctx.set_state(ctx.state<int>(0) + ctx.input<int>());
  ctx.return_value(ctx.state<int>());
}

void append_log(entity_context& ctx) {
  if (ctx.operation() != "append") throw std::invalid_argument("Log has no operation '" + ctx.operation() + "'");
  auto numbers = ctx.state<std::vector<int>>();
  numbers.push_back(ctx.input<int>());
  ctx.set_state(numbers);
}

// Input [n, time due in ns]: appends n, or -n when it came before its time.
void due(entity_context& ctx) {
  if (ctx.operation() != "arrive") throw std::invalid_argument("Due has no operation '" + ctx.operation() + "'");
  const auto arrival = ctx.input<std::vector<int64_t>>();
  auto numbers = ctx.state<std::vector<int64_t>>();
  const bool early = ctx.current_time().time_since_epoch().count() < arrival[1];
  numbers.push_back(early ? -arrival[0] : arrival[0]);
  ctx.set_state(numbers);
}

task<int> bump(orchestration_context& ctx) {
  const entity_id id{"Counter", "orch"};
  int last = 0;
  for (int i = 0; i < adds_per_orchestration; ++i) last = co_await ctx.call_entity<int>(id, "add", 1);
  co_return last;
}

node_options options_for(const std::string& dir) {
  node_options options;
  options.data_dir = dir;
  options.partitions = 4;
  options.activity_workers = 2;
  options.scheduler_threads = 2;
  options.log_level = "error";
  return options;
}

std::string bump_id(int run, int i) { return "bump-" + std::to_string(run) + "-" + std::to_string(i); }

int run(host& node, const std::string& dir) {
  auto& hub = node.client();
  const int run = begin_run(dir);
  for (int i = 0; i < orchestrations; ++i) hub.start("Bump", "null", start_options{bump_id(run, i)});
  std::cout << "STARTED" << std::endl;
  std::ifstream in(dir + "/acked.log");
  // The number after the last acknowledged one may have been in flight at the kill, and durable:
  // it is skipped, or sending it again would append it twice (a client's retry is its own).
  int next = 1;
  for (int n; in >> n;) next = n + 2;
  std::ofstream acked(dir + "/acked.log", std::ios::app);
  for (;; ++next) {
    hub.signal_entity(entity_id{"Log", "client"}, "append", std::to_string(next));
    acked << next << std::endl;  // flushed: the page cache survives a kill -9 of the process
  }
}

constexpr int scheduled_signals = 30;

int schedule(host& node, const std::string& dir) {
  auto& hub = node.client();
  int first = 1;  // numbers go on from an earlier run's
  {
    std::ifstream in(dir + "/scheduled.log");
    for (int n; in >> n;) first = n + 1;
  }
  std::ofstream scheduled(dir + "/scheduled.log", std::ios::app);
  const auto now = std::chrono::system_clock::now();
  for (int n = first; n < first + scheduled_signals; ++n) {
    const time_point at = std::chrono::time_point_cast<time_point::duration>(now + 2s + (n - first) * 100ms);
    hub.signal_entity(entity_id{"Due", "client"}, "arrive",
                      codec<std::vector<int64_t>>::encode({n, at.time_since_epoch().count()}), at);
    scheduled << n << std::endl;
  }
  std::cout << "SCHEDULED" << std::endl;
  for (;;) std::this_thread::sleep_for(1s);
}

int check_scheduled(host& node, const std::string& dir) {
  auto& hub = node.client();
  std::set<int64_t> expected;
  std::ifstream in(dir + "/scheduled.log");
  for (int64_t n; in >> n;) expected.insert(n);
  std::vector<int64_t> arrived;
  for (auto deadline = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(200ms)) {
    const auto entity = hub.get_entity(entity_id{"Due", "client"});
    arrived = entity ? codec<std::vector<int64_t>>::decode(entity->state) : std::vector<int64_t>{};
    if (arrived.size() >= expected.size()) break;
  }
  std::this_thread::sleep_for(500ms);  // a duplicate would come right after
  const auto entity = hub.get_entity(entity_id{"Due", "client"});
  arrived = entity ? codec<std::vector<int64_t>>::decode(entity->state) : std::vector<int64_t>{};
  std::vector<std::string> problems;
  std::set<int64_t> seen;
  for (auto n : arrived) {
    if (n < 0) problems.push_back("signal " + std::to_string(-n) + " arrived before its time");
    if (!seen.insert(n < 0 ? -n : n).second) problems.push_back("signal " + std::to_string(n) + " arrived twice");
  }
  for (auto n : expected)
    if (!seen.contains(n)) problems.push_back("acknowledged scheduled signal " + std::to_string(n) + " never arrived");
  for (const auto& p : problems) std::cout << "PROBLEM " << p << std::endl;
  if (!problems.empty()) return 1;
  std::cout << "VERIFIED " << expected.size() << " acknowledged scheduled signals, " << arrived.size() << " arrived"
            << std::endl;
  return 0;
}

int check(host& node, const std::string& dir) {
  auto& hub = node.client();
  std::vector<std::string> problems;
  // A run killed before it started all of its Bumps has fewer: count the ones that exist.
  int bumps = 0;
  for (int run = 0, runs = runs_so_far(dir); run < runs; ++run)
    for (int i = 0; i < orchestrations; ++i) {
      if (!hub.status(bump_id(run, i))) continue;
      ++bumps;
      const auto record = hub.wait_for_completion(bump_id(run, i), 120s);
      if (record.status != runtime_status::completed)
        problems.push_back(bump_id(run, i) + " ended " + to_string(record.status));
    }
  const auto count = hub.get_entity(entity_id{"Counter", "orch"});
  const int expected = bumps * adds_per_orchestration;
  if (!count || count->state != std::to_string(expected))
    problems.push_back("Counter@orch is " + (count ? count->state : std::string("absent")) + ", not " +
                       std::to_string(expected));
  // Signals still queued when the node stopped run now: wait until the log stops growing.
  std::vector<int> logged;
  for (size_t stable = 0, last = 0; stable < 3; std::this_thread::sleep_for(200ms)) {
    const auto entity = hub.get_entity(entity_id{"Log", "client"});
    logged = entity ? codec<std::vector<int>>::decode(entity->state) : std::vector<int>{};
    stable = logged.size() == last ? stable + 1 : 0;
    last = logged.size();
  }
  std::set<int> seen;
  for (int n : logged)
    if (!seen.insert(n).second) problems.push_back("Log@client holds " + std::to_string(n) + " twice");
  std::ifstream in(dir + "/acked.log");
  size_t acked = 0;
  for (int n; in >> n; ++acked)
    if (!seen.contains(n)) problems.push_back("acknowledged signal " + std::to_string(n) + " is not in Log@client");
  for (const auto& p : problems) std::cout << "PROBLEM " << p << std::endl;
  if (!problems.empty()) return 1;
  std::cout << "VERIFIED counter " << expected << ", " << acked << " acknowledged signals, " << logged.size()
            << " logged" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: entity_node run|check|schedule|check-scheduled DIR\n";
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  host node;
  node.add_entity("Counter", counter);
  node.add_entity("Log", append_log);
  node.add_entity("Due", due);
  node.add_orchestration("Bump", bump);
  node.start(options_for(dir));
  const int code = mode == "run"        ? run(node, dir)
                   : mode == "schedule" ? schedule(node, dir)
                   : mode == "check"    ? check(node, dir)
                                        : check_scheduled(node, dir);
  node.stop();
  return code;
}
