// A cluster node program: the examples' functions on a node of a multi-node hub.
//
//   cluster_node --node-id a --members a@127.0.0.1:7001,b@127.0.0.1:7002,c@127.0.0.1:7003
//                --data data/a --partitions 6 [--systems DIR] [--ledger FILE]      (one line)
//
// Besides the benchmark and test functions (and the Counter entity) below, with --systems DIR it runs the order-fulfillment
// saga ("FulfillOrder") and the click enrichment ("EnrichClick"). Their external systems are
// JSON-lines files under DIR, which every node of a local cluster must share, since an activity
// runs on whichever node has a free worker.
//
// With --ledger FILE, every run of AddOne and SlowAddOne appends "<instance id> <task id>" to FILE,
// which the nodes of a local cluster share: the failover tests count how often each ran.
//
// scripts/cluster.sh starts three of them on 127.0.0.1; tests/cluster and bench/cluster use it too.
// Without --members it is a single node like any other Perdure program.
#include "examples/enrichment/enrich_workflow.hpp"
#include "examples/order_fulfillment/order_workflow.hpp"

#include <perdure/combinators.hpp>
#include <perdure/entity.hpp>
#include <perdure/errors.hpp>
#include <perdure/host.hpp>
#include <perdure/node_flags.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using perdure::activity_context;
using perdure::activity_options;
using perdure::entity_context;
using perdure::orchestration_context;
using perdure::task;

std::string greet(activity_context&, std::string name) { return "Hello, " + name + "!"; }

int noop(activity_context&, int x) { return x; }

// A file shared by the nodes where activities note each run: one write(2) of one line with
// O_APPEND, which a kill -9 cannot cut and no other node's line can interleave.
class ledger {
 public:
  explicit ledger(const std::filesystem::path& file)
      : fd_(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error("cannot open the ledger " + file.string() + ": " + std::strerror(errno));
  }
  ~ledger() { ::close(fd_); }
  ledger(const ledger&) = delete;
  ledger& operator=(const ledger&) = delete;

  void note(const activity_context& ctx) const {
    const std::string line = ctx.instance_id() + " " + std::to_string(ctx.task_id()) + "\n";
    if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error(std::string{"cannot write to the ledger: "} + std::strerror(errno));
  }

 private:
  int fd_;
};

std::shared_ptr<const ledger> the_ledger;  // set once in main, before the node starts

int add_one(activity_context& ctx, int x) {
  if (the_ledger) the_ledger->note(ctx);
  return x + 1;
}

// A durable entity: "add" adds its input to the count and returns the new count (the cluster tests
// spread them over nodes).
void counter(entity_context& ctx) {
  if (ctx.operation() != "add") throw std::invalid_argument("Counter has no operation '" + ctx.operation() + "'");
  const int count = ctx.state<int>(0) + ctx.input<int>();
  ctx.set_state(count);
  ctx.return_value(count);
}

// Calls Counter entities on every partition (the replicated cluster's entity test): 10 calls of
// "add" 1, to the counters "c<(seed + i) mod 12>"; returns the number of calls answered.
task<int> count_on_entities(orchestration_context& ctx, int seed) {
  constexpr int calls = 10, counters = 12;
  for (int i = 0; i < calls; ++i) {
    const perdure::entity_id id{"Counter", "c" + std::to_string((seed + i) % counters)};
    co_await ctx.call_entity<int>(id, "add", 1);
  }
  co_return calls;
}

// Holds a worker for a while, so that activities are in flight when a node dies.
int slow_add_one(activity_context& ctx, int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (the_ledger) the_ledger->note(ctx);
  return x + 1;
}

// Function chaining (benchmark W1: three no-op activities in sequence).
task<int> chain(orchestration_context& ctx, int x) {
  for (int i = 0; i < 3; ++i) x = co_await ctx.call_activity<int>("Noop", x);
  co_return x;
}

// Fan-out/fan-in (benchmark W2): n no-op activities in parallel.
// The sum of 0..n-1 passes INT_MAX at n = 65,536: it is summed in 64 bits.
task<int64_t> fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> calls;
  for (int i = 0; i < n; ++i) calls.push_back(ctx.call_activity<int>("Noop", i));
  int64_t sum = 0;
  for (int v : co_await perdure::when_all(std::move(calls))) sum += v;
  co_return sum;
}

task<int> child(orchestration_context& ctx, int x) { co_return 2 * co_await ctx.call_activity<int>("AddOne", x); }

// Fan-out plus a sub-orchestration, whose (derived) instance id usually hashes to a partition on
// another node: output = sum(seed+i+1, i<4) + 2*(seed+1) = 6*seed + 12.
template <const char* Activity>
task<int> fan_and_child(orchestration_context& ctx, int seed) {
  std::vector<task<int>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(ctx.call_activity<int>(Activity, seed + i));
  int sum = 0;
  for (int v : co_await perdure::when_all(std::move(calls))) sum += v;
  co_return sum + co_await ctx.call_sub_orchestration<int>("Child", seed);
}

// A long activity that reports progress: it runs longer than its heartbeat timeout, so its
// heartbeats must reach its partition (the cluster tests check they do).
int beating_add_one(activity_context& ctx, int x) {
  for (int step = 1; step <= 16; ++step) {
    ctx.heartbeat(step);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return x + 1;
}

activity_options with_heartbeats() {
  activity_options options;
  options.heartbeat_timeout = std::chrono::seconds(6);
  return options;
}

// n long activities in parallel, each with a heartbeat timeout.
task<int> beating_fan_out(orchestration_context& ctx, int n) {
  std::vector<task<int>> calls;
  for (int i = 0; i < n; ++i) calls.push_back(ctx.call_activity<int>("BeatingAddOne", i, with_heartbeats()));
  int sum = 0;
  for (int v : co_await perdure::when_all(std::move(calls))) sum += v;
  co_return sum;
}

// Runs until nobody needs its result (its stop token: the instance ended, or the attempt timed
// out), wherever it runs, and says so: "STARTED <instance id> <task id>", then "CANCELLED <instance
// id> <task id>". The cluster tests check that cancellation reaches attempts leased to other nodes.
std::string await_cancellation(activity_context& ctx, std::string) {
  std::cout << "STARTED " << ctx.instance_id() << " " << ctx.task_id() << std::endl;
  std::mutex mutex;
  std::condition_variable_any woken;
  std::unique_lock lock{mutex};
  auto stop = ctx.stop_token();
  woken.wait_for(lock, stop, std::chrono::minutes(5), [] { return false; });
  if (stop.stop_requested())
    std::cout << "CANCELLED " << ctx.instance_id() << " " << ctx.task_id() << std::endl;
  return {};
}

activity_options timeout_for_cancellation(bool timed) {
  activity_options options;
  if (timed) options.start_to_close_timeout = std::chrono::seconds(5);
  return options;
}

// n attempts of AwaitCancellation in parallel: with `timed`, each times out after 5 s and the
// output is how many did; otherwise they run until the instance is terminated.
task<int> cancellable_fan_out(orchestration_context& ctx, int n, bool timed) {
  std::vector<task<std::string>> calls;
  for (int i = 0; i < n; ++i)
    calls.push_back(ctx.call_activity<std::string>("AwaitCancellation", std::string{}, timeout_for_cancellation(timed)));
  int timed_out = 0;
  for (auto& call : calls) {
    try {
      co_await std::move(call);
    } catch (const perdure::task_failed&) {
      ++timed_out;
    }
  }
  co_return timed_out;
}

task<int> waits_for_termination(orchestration_context& ctx, int n) { return cancellable_fan_out(ctx, n, false); }
task<int> times_out(orchestration_context& ctx, int n) { return cancellable_fan_out(ctx, n, true); }

// An approval by someone outside: the activity completes asynchronously and prints its task token
// (here the log stands for the system that would ask); `perdure activity complete TOKEN
// --result '"yes"'` on any node answers it.
std::string await_approval(activity_context& ctx, std::string) {
  std::cout << "TASK TOKEN " << ctx.instance_id() << " " << ctx.complete_asynchronously() << std::endl;
  return {};
}

task<std::string> approval(orchestration_context& ctx, std::string request) {
  co_return co_await ctx.call_activity<std::string>("AwaitApproval", request);
}

constexpr char add_one_name[] = "AddOne";
constexpr char slow_add_one_name[] = "SlowAddOne";

task<std::string> hello_chain(orchestration_context& ctx, std::string who) {
  auto first = co_await ctx.call_activity<std::string>("Greet", who);
  co_return co_await ctx.call_activity<std::string>("Greet", first);
}

}  // namespace

int main(int argc, char** argv) {
  perdure::node_flags flags;
  std::filesystem::path systems;
  std::filesystem::path ledger_file;
  flags.app().add_option("--systems", systems,
                         "Run the order-fulfillment and enrichment examples, with their external systems' files in "
                         "this directory (shared by the nodes of a local cluster)");
  flags.app().add_option("--ledger", ledger_file,
                         "Append \"<instance id> <task id>\" to this file at each run of AddOne and SlowAddOne");
  if (auto exit_code = flags.parse(argc, argv)) return *exit_code;
  try {
    if (!ledger_file.empty()) the_ledger = std::make_shared<ledger>(ledger_file);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  perdure::host host;
  if (!systems.empty()) {
    orders::register_order_fulfillment(host, systems);
    orders::sample_orders(systems);  // stocks the sample items, so orders for them can be placed
    enrichment::register_enrichment(host, systems);
  }
  host.add_orchestration("HelloChain", hello_chain)
      .add_orchestration("Chain", chain)
      .add_orchestration("FanOut", fan_out)
      .add_orchestration("Child", child)
      .add_orchestration("BeatingFanOut", beating_fan_out)
      .add_orchestration("Approval", approval)
      .add_orchestration("FanAndChild", fan_and_child<add_one_name>)
      .add_orchestration("SlowFanAndChild", fan_and_child<slow_add_one_name>)
      .add_activity("Greet", greet)
      .add_activity("Noop", noop)
      .add_activity("AddOne", add_one)
      .add_activity("SlowAddOne", slow_add_one)
      .add_activity("BeatingAddOne", beating_add_one)
      .add_orchestration("WaitsForTermination", waits_for_termination)
      .add_orchestration("TimesOut", times_out)
      .add_activity("AwaitApproval", await_approval)
      .add_activity("AwaitCancellation", await_cancellation)
      .add_orchestration("CountOnEntities", count_on_entities)
      .add_entity("Counter", counter);
  return host.run(flags.options());
}
