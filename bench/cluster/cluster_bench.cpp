// W1 and W2 on local clusters of 1, 2 and 3 cluster_node processes on 127.0.0.1.
//
//   cluster_bench [--nodes 1,2,3] [--w1 N] [--w2 N] [--fan F] [--partitions P] [--workers W] [--sync on|off]
//                 [--clients K] [--client async|blocking] [--window N] [--no-in-process] [--nats N [--takeover]]
//                 [--node-program PATH]
//
// --clients K: K client connections per node (default 1: the figures of docs/benchmarks.md before
// issue 14). With --client async (the default) each connection keeps up to --window calls in
// flight (a start, then the wait for that instance); with --client blocking each connection has a
// thread that starts its share of instances one after the other and then waits for them.
//
// First, unless --no-in-process: W1 on one embedded node in this process (same partitions,
// workers and sync), the figure the hubs are compared with.
//
// --nats N: a replicated hub on N nats-server processes (JetStream, started here on free ports):
// every commit goes to the partition's log first. Also prints the commit latency (p50/p99 from
// the nodes' /metrics histogram, which includes the log append) and, with --takeover, the time
// from a kill -9 of one node until instances on every partition complete again.
//
// W1  N orchestrations of 3 no-op activities in sequence ("Chain"), started through every node.
// W2  N orchestrations fanning out to F no-op activities each ("FanOut").
// Every hub size runs as a real multi-node cluster (a hub of one is a 1-member cluster, so the
// node actor and the dispatcher are in the path). Prints orchestrations/s and activities/s, each
// node's CPU seconds (from /proc/<pid>/stat) and node-to-node messages, and where activities ran.
#include "local_cluster.hpp"

#include "tests/support/nats_cluster.hpp"

#include <httplib.h>

#include <perdure/client.hpp>
#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <unistd.h>
#include <sys/wait.h>
#include <vector>

namespace {

using namespace perdure::bench;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Starts n instances through every node's client (one thread each, one blocking call at a time),
// then waits for all.
double run_blocking(const std::vector<perdure::client*>& clients, const std::string& name, const std::string& input, int n,
                    const std::string& tag) {
  const auto started = steady::now();
  std::vector<std::thread> threads;
  const size_t k = clients.size();
  for (size_t t = 0; t < k; ++t) {
    threads.emplace_back([&, t] {
      auto& c = *clients[t];
      std::vector<std::string> ids;
      for (int i = static_cast<int>(t); i < n; i += static_cast<int>(k)) {
        perdure::start_options options;
        options.instance_id = tag + "-" + std::to_string(i);
        ids.push_back(c.start(name, input, options));
      }
      for (const auto& id : ids) {
        auto record = c.wait_for_completion(id, 300s);
        if (record.status != perdure::runtime_status::completed)
          std::cerr << id << " ended " << perdure::to_string(record.status) << "\n";
      }
    });
  }
  for (auto& t : threads) t.join();
  return std::chrono::duration<double>(steady::now() - started).count();
}

struct workload_options {
  bool async = true;
  size_t window = 64;  // calls in flight per client connection (async)
};

double run_workload(const std::vector<perdure::client*>& clients, const workload_options& how, const std::string& name,
                    const std::string& input, int n, const std::string& tag) {
  return how.async ? run_async(clients, name, input, n, tag, how.window) : run_blocking(clients, name, input, n, tag);
}

int noop(perdure::activity_context&, int x) { return x; }

// W1's orchestration, as examples/cluster registers it ("Chain").
perdure::task<int> chain(perdure::orchestration_context& ctx, int x) {
  for (int i = 0; i < 3; ++i) x = co_await ctx.call_activity<int>("Noop", x);
  co_return x;
}

// W1 on one embedded node in this process, with the hub's partitions, workers and sync: the
// figure a cluster is compared with (issue 21: a 3-node hub within 2x of it).
void in_process_w1(int n, uint32_t partitions, size_t workers, const std::string& sync, const workload_options& how,
                   size_t connections) {
  const auto dir = std::filesystem::temp_directory_path() / ("perdure-cluster-bench-" + std::to_string(std::random_device{}()));
  perdure::node_options options;
  options.data_dir = dir;
  options.partitions = partitions;
  options.activity_workers = workers;
  options.sync = sync == "on";
  options.log_level = "error";
  {
    perdure::host h;
    h.add_activity("Noop", noop);
    h.add_orchestration("Chain", chain);
    h.start(options);
    // The same number of callers as the cluster's clients, all on the one client.
    std::vector<perdure::client*> clients(connections, &h.client());
    const double cpu_before = cpu_seconds(::getpid());
    const double seconds = run_workload(clients, how, "Chain", "1", n, "w1");
    std::printf("W1 in-process (one embedded node, %zu callers): %d orchestrations in %.2f s = %.0f orch/s; cpu %.2f s\n",
                connections, n, seconds, n / seconds, cpu_seconds(::getpid()) - cpu_before);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
}

// The commit latency histogram of every node's /metrics, summed: cumulative counts by upper
// bound in seconds (+Inf last).
std::vector<std::pair<double, double>> commit_latency(cluster_run& run) {
  std::map<double, double> buckets;
  for (auto& node : run.nodes) {
    httplib::Client http("127.0.0.1", node.http_port);
    auto res = http.Get("/metrics");
    if (!res || res->status != 200) continue;
    std::istringstream lines(res->body);
    for (std::string line; std::getline(lines, line);) {
      const std::string prefix = "perdure_commit_latency_seconds_bucket{le=\"";
      if (line.rfind(prefix, 0) != 0) continue;
      const auto close = line.find('"', prefix.size());
      const std::string le = line.substr(prefix.size(), close - prefix.size());
      const double bound = le == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(le);
      buckets[bound] += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return {buckets.begin(), buckets.end()};
}

// The bucket bound below which `q` of the commits between two scrapes fall.
std::string quantile(const std::vector<std::pair<double, double>>& before,
                     const std::vector<std::pair<double, double>>& after, double q) {
  if (after.empty()) return "?";
  const double total = after.back().second - (before.empty() ? 0 : before.back().second);
  for (size_t i = 0; i < after.size(); ++i) {
    const double count = after[i].second - (i < before.size() ? before[i].second : 0);
    if (count >= q * total)
      return std::isinf(after[i].first) ? "> " + std::to_string(after[i - 1].first * 1000) + " ms"
                                        : "<= " + std::to_string(after[i].first * 1000).substr(0, 5) + " ms";
  }
  return "?";
}

struct snapshot {
  std::vector<double> cpu;
  double nats_cpu = 0;   // all nats-servers
  double bench_cpu = 0;  // this process: the clients
  std::vector<perdure::node_stats> stats;
  std::vector<std::pair<double, double>> commit_latency;
};

snapshot take(cluster_run& run) {
  snapshot s;
  for (auto& node : run.nodes) s.cpu.push_back(cpu_seconds(node.pid));
  for (pid_t pid : run.nats_servers) s.nats_cpu += cpu_seconds(pid);
  s.bench_cpu = cpu_seconds(::getpid());
  s.stats = run.clients[0]->cluster_stats();
  s.commit_latency = commit_latency(run);
  std::sort(s.stats.begin(), s.stats.end(), [](auto& a, auto& b) { return a.node_id < b.node_id; });
  return s;
}

void report(const std::string& workload, size_t nodes, int instances, int activities, double seconds,
            const snapshot& before, const snapshot& after) {
  std::printf("%s nodes=%zu: %d orchestrations in %.2f s = %.0f orch/s, %.0f activities/s; commit latency p50 %s, p99 %s\n",
              workload.c_str(), nodes, instances, seconds, instances / seconds, activities / seconds,
              quantile(before.commit_latency, after.commit_latency, 0.5).c_str(),
              quantile(before.commit_latency, after.commit_latency, 0.99).c_str());
  const double commits = after.commit_latency.empty() ? 0
                                                     : after.commit_latency.back().second -
                                                           (before.commit_latency.empty() ? 0 : before.commit_latency.back().second);
  std::printf("    commits %.0f (%.2f per orchestration); cpu of the bench's clients %.2f s\n", commits,
              commits / instances, after.bench_cpu - before.bench_cpu);
  if (after.nats_cpu > 0) std::printf("    nats-servers: cpu %.2f s\n", after.nats_cpu - before.nats_cpu);
  for (size_t i = 0; i < after.stats.size(); ++i) {
    const auto& a = after.stats[i];
    const auto& b = before.stats[i];
    std::printf("    node %s: cpu %.2f s, activities run %llu (leased out %llu), node-to-node messages out %llu in %llu\n",
                a.node_id.c_str(), after.cpu[i] - before.cpu[i],
                static_cast<unsigned long long>(a.activities_executed - b.activities_executed),
                static_cast<unsigned long long>(a.activities_leased_out - b.activities_leased_out),
                static_cast<unsigned long long>(a.messages_out - b.messages_out),
                static_cast<unsigned long long>(a.messages_in - b.messages_in));
  }
  std::fflush(stdout);
}

// kill -9 of the last node, then instances with fresh ids (so on every partition, the lost
// node's among them) are started and awaited through the first node, retrying while a partition
// has no owner: the time until all completed.
double takeover_seconds(cluster_run& run, int instances) {
  auto& victim = run.nodes.back();
  const auto killed = steady::now();
  kill(victim.pid, SIGKILL);
  waitpid(std::exchange(victim.pid, -1), nullptr, 0);
  auto& c = *run.clients.front();
  std::vector<std::string> ids;
  for (int i = 0; i < instances; ++i) {
    perdure::start_options options;
    options.instance_id = "takeover-" + std::to_string(i);
    for (;;) {
      try {
        ids.push_back(c.start("Chain", "1", options));
        break;
      } catch (const perdure::error&) {
        if (steady::now() - killed > 120s) throw;
        std::this_thread::sleep_for(20ms);
      }
    }
  }
  for (const auto& id : ids) {
    for (;;) {
      try {
        c.wait_for_completion(id, 60s);
        break;
      } catch (const perdure::error&) {
        if (steady::now() - killed > 120s) throw;
        std::this_thread::sleep_for(20ms);
      }
    }
  }
  return std::chrono::duration<double>(steady::now() - killed).count();
}

}  // namespace

int run_bench(int argc, char** argv) {
  CLI::App app{"W1 and W2 on local clusters of cluster_node processes"};
  std::vector<size_t> node_counts{1, 2, 3};
  int w1 = 3000, w2 = 100, fan = 100;
  uint32_t partitions = 6;
  size_t workers = 4;
  std::string sync = "off";
  int nats_servers = 0;
  size_t clients_per_node = 1;
  bool takeover = false;
  workload_options how;
  std::string client_mode = "async";
  bool skip_in_process = false;
  std::string program = CLUSTER_NODE_PATH;
  app.add_option("--nodes", node_counts, "Hub sizes to run")->delimiter(',')->capture_default_str();
  app.add_option("--w1", w1, "W1 orchestrations")->capture_default_str();
  app.add_option("--w2", w2, "W2 orchestrations")->capture_default_str();
  app.add_option("--fan", fan, "W2 activities per orchestration")->capture_default_str();
  app.add_option("--partitions", partitions, "Partitions")->capture_default_str();
  app.add_option("--workers", workers, "Activity workers per node")->capture_default_str();
  app.add_option("--sync", sync, "fsync every commit")->check(CLI::IsMember({"on", "off"}))->capture_default_str();
  app.add_option("--nats", nats_servers, "A replicated hub on this many nats-servers (0: static cluster)")
      ->capture_default_str();
  app.add_option("--clients", clients_per_node, "Client connections per node")->capture_default_str();
  app.add_flag("--takeover", takeover, "After the workloads, kill -9 one node and time the takeover (--nats)");
  app.add_option("--client", client_mode, "async: many calls in flight per connection; blocking: one call per thread")
      ->check(CLI::IsMember({"async", "blocking"}))
      ->capture_default_str();
  app.add_option("--window", how.window, "Calls in flight per client connection (--client async)")->capture_default_str();
  app.add_option("--node-program", program, "The cluster_node program (e.g. another version's)")->capture_default_str();
  app.add_flag("--no-in-process", skip_in_process, "Skip W1 on one embedded node in this process");
  CLI11_PARSE(app, argc, argv);
  how.async = client_mode == "async";

  if (!skip_in_process) {
    const size_t largest = *std::max_element(node_counts.begin(), node_counts.end());
    in_process_w1(w1, partitions, workers, sync, how, largest * clients_per_node);
  }

  for (size_t count : node_counts) {
    std::random_device rd;
    const auto dir = std::filesystem::temp_directory_path() / ("perdure-cluster-bench-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    std::unique_ptr<perdure::testing_support::nats_cluster> nats;
    std::string urls;
    if (nats_servers > 0) {
      nats = std::make_unique<perdure::testing_support::nats_cluster>(nats_servers);
      for (const auto& url : nats->urls()) urls += (urls.empty() ? "" : ",") + url;
    }
    auto run = start_cluster(program, count, dir, partitions, workers, sync, urls, clients_per_node);
    if (nats) run.nats_servers = nats->pids();
    auto before = take(run);
    double seconds = run_workload(clients_of(run), how, "Chain", "1", w1, "w1");
    auto after = take(run);
    report("W1", count, w1, 3 * w1, seconds, before, after);
    before = after;
    seconds = run_workload(clients_of(run), how, "FanOut", std::to_string(fan), w2, "w2");
    after = take(run);
    report("W2", count, w2, w2 * fan, seconds, before, after);
    if (takeover && nats && count > 1)
      std::printf("takeover nodes=%zu: kill -9 of node %c until 60 new instances on every partition completed: %.2f s\n",
                  count, static_cast<char>('a' + count - 1), takeover_seconds(run, 60));
    stop_cluster(run);
    std::filesystem::remove_all(dir);
  }
  return 0;
}

int main(int argc, char** argv) { return perdure::bench::run_reporting_errors("cluster_bench", run_bench, argc, argv); }
