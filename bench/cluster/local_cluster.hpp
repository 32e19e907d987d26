// Local clusters of cluster_node processes on 127.0.0.1 for the cluster benchmarks (cluster_bench,
// move_bench): starting and stopping them, their processes' CPU time, and a load of asynchronous
// starts.
#pragma once

#include <perdure/client.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

namespace perdure::bench {

struct node_process {
  pid_t pid = -1;
  uint16_t port = 0;
  uint16_t http_port = 0;
};

/// The nodes a benchmark started; they are stopped (stop_cluster) when it goes out of scope, so a
/// benchmark that throws leaves no node behind.
struct cluster_run {
  std::vector<node_process> nodes;  // pid -1: stopped and reaped
  std::vector<pid_t> nats_servers;  // empty for a static cluster; not owned (their CPU time only)
  std::vector<std::unique_ptr<perdure::cluster_client>> clients;

  cluster_run() = default;
  cluster_run(cluster_run&& other) noexcept;
  cluster_run& operator=(cluster_run&&) = delete;
  ~cluster_run();
};

/// Starts `count` nodes named a, b, c, ... with their logs in `dir`, on the nats-servers `nats`
/// (comma-separated URLs; empty: a static cluster), each with `extra_args` added; returns once
/// every node reaches every other one and every partition has an owner, with
/// `clients_per_node` client connections to each node.
cluster_run start_cluster(const std::string& program, size_t count, const std::filesystem::path& dir, uint32_t partitions,
                          size_t workers, const std::string& sync, const std::string& nats, size_t clients_per_node,
                          const std::vector<std::string>& extra_args = {});
/// SIGTERM to every node still running, then waits for each.
void stop_cluster(cluster_run& run);

/// A benchmark's main: returns body(argc, argv), or 1 after printing an exception it threw. An
/// exception out of main would skip the destructors that stop the nodes and nats-servers.
int run_reporting_errors(const char* program, int (*body)(int, char**), int argc, char** argv);

std::vector<perdure::client*> clients_of(cluster_run& run);

/// The CPU time (user + system) of a process so far, from /proc/<pid>/stat.
double cpu_seconds(pid_t pid);

/// At most `limit` calls in flight: acquire before a call, release in its callback (which runs on
/// a client's CAF thread and must not block).
class call_window {
 public:
  explicit call_window(size_t limit) : free_(limit) {}
  void acquire();
  void release();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t free_;
};

/// Starts n instances "<tag>-<i>" of orchestration `name` and waits for them, with up to `window`
/// calls in flight per client connection and no thread per call (an instance is waited for as
/// soon as its start is acknowledged). Prints each instance that did not complete. Returns the
/// seconds it took.
double run_async(const std::vector<perdure::client*>& clients, const std::string& name, const std::string& input, int n,
                 const std::string& tag, size_t window);

}  // namespace perdure::bench
