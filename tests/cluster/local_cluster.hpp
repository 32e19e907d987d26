// Real cluster_node processes on 127.0.0.1 for the cluster tests: start, kill -9, restart, and
// clients connected over the network.
#pragma once

#include "support/child_process.hpp"
#include "support/free_ports.hpp"

#include <perdure/client.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace perdure::testing_support {

class scratch_dir {
 public:
  scratch_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("perdure-cluster-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class local_cluster {
 public:
  local_cluster(std::vector<std::string> ids, uint32_t partitions, std::vector<std::string> extra_args = {})
      : ids_(std::move(ids)), partitions_(partitions), extra_(std::move(extra_args)), base_port_(free_base_port(20)) {
    joining_.resize(ids_.size());
    list_members();
    nodes_.resize(ids_.size());
    node_args_.resize(ids_.size());
  }

  /// Node i joins a replicated hub later, knowing only the NATS servers (--advertise instead of
  /// --members); the others' --members leave it out. Before the start.
  void set_joining(size_t i) {
    joining_[i] = true;
    list_members();
  }

  uint16_t port(size_t i) const { return static_cast<uint16_t>(base_port_ + i); }
  /// The management API's port of node i, once enable_http() was called before the start.
  uint16_t http_port(size_t i) const { return static_cast<uint16_t>(base_port_ + 10 + i); }
  void enable_http() { http_ = true; }
  /// More arguments for node i only (e.g. its own certificate), after the cluster's.
  void add_node_args(size_t i, std::vector<std::string> more) {
    node_args_[i].insert(node_args_[i].end(), more.begin(), more.end());
  }
  /// The nodes' log level ("error" unless set before the start); see output().
  void set_log_level(std::string level) { log_level_ = std::move(level); }
  /// What the nodes printed (after "perdure node ready"), each line prefixed with the node's id:
  /// the killed ones' until their death, the running ones' until now.
  std::vector<std::string> output() {
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i]) drain(i);
    return output_;
  }
  const std::string& members() const { return members_; }
  std::filesystem::path data(size_t i) const { return dir_.path() / ids_[i]; }

  /// The command line of node i; `partitions` and `join_timeout_ms` override the cluster's.
  std::vector<std::string> args(size_t i, uint32_t partitions = 0, int join_timeout_ms = 30'000) const {
    const auto address = "127.0.0.1:" + std::to_string(port(i));
    std::vector<std::string> a{CLUSTER_NODE_PATH, "--node-id", ids_[i], joining_[i] ? "--advertise" : "--members",
                               joining_[i] ? address : members_, "--data", data(i).string(), "--partitions", std::to_string(partitions ? partitions : partitions_),
                               "--sync", "off", "--log-level", log_level_, "--join-timeout",
                               std::to_string(join_timeout_ms)};
    if (http_) {
      a.push_back("--http-port");
      a.push_back(std::to_string(http_port(i)));
    }
    a.insert(a.end(), extra_.begin(), extra_.end());
    a.insert(a.end(), node_args_[i].begin(), node_args_[i].end());
    return a;
  }

  /// Starts every node but the joining ones at once (each waits until it reaches another), and
  /// returns once each reaches all the others (wait_all_connected).
  void start_all() {
    for (size_t i = 0; i < ids_.size(); ++i)
      if (!joining_[i]) nodes_[i] = std::make_unique<child_process>(args(i));
    for (size_t i = 0; i < ids_.size(); ++i)
      if (!joining_[i]) wait_ready(i);
    wait_all_connected();
  }
  void start(size_t i) {
    launch(i);
    wait_ready(i);
  }
  /// Starts node i without waiting for it to be ready.
  void launch(size_t i) { nodes_[i] = std::make_unique<child_process>(args(i)); }
  void kill(size_t i) {
    nodes_[i]->kill(SIGKILL);
    nodes_[i]->wait();
    drain(i);
    nodes_[i].reset();
  }
  /// SIGSTOP of node i: it stays connected but answers nothing (a zombie once others take over).
  void stop_signal(size_t i) { nodes_[i]->stop(); }
  /// SIGCONT of node i after stop_signal(i).
  void continue_signal(size_t i) { nodes_[i]->kill(SIGCONT); }
  /// Deletes node i's data dir (its disk is lost): the node must not be running.
  void wipe(size_t i) {
    if (nodes_[i]) throw std::logic_error("wipe: node " + ids_[i] + " is running");
    std::filesystem::remove_all(data(i));
  }
  const std::string& id(size_t i) const { return ids_[i]; }
  size_t size() const { return ids_.size(); }
  bool running(size_t i) const { return nodes_[i] != nullptr; }
  /// SIGTERM of node i (a clean stop), waiting until it exited.
  void terminate(size_t i) {
    nodes_[i]->kill(SIGTERM);
    nodes_[i]->wait();
    drain(i);
    nodes_[i].reset();
  }
  /// The process id of node i, which must be running.
  pid_t pid(size_t i) const { return nodes_[i]->pid(); }
  /// kill -9 of node i, `down_for` without it, then its start on the same data dir.
  void restart(size_t i, std::chrono::milliseconds down_for) {
    kill(i);
    std::this_thread::sleep_for(down_for);
    start(i);
  }
  std::unique_ptr<cluster_client> client(size_t i) const { return connect("127.0.0.1", port(i)); }

  /// A node's start returns once it reached *another* member, and a node refuses a call for a
  /// partition of a member it has not contacted yet ("not contacted yet"): start_all() and a test
  /// that restarted nodes wait here until every running node reaches all the others running.
  /// Two members have reached each other once both started, so a hub of two is not asked (its
  /// members may take TLS clients only).
  void wait_all_connected(std::chrono::seconds timeout = std::chrono::seconds(30)) const {
    const auto running = static_cast<size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const auto& n) { return n != nullptr; }));
    if (running <= 2) return;
    const auto first = static_cast<size_t>(std::find_if(nodes_.begin(), nodes_.end(), [](const auto& n) { return n != nullptr; }) - nodes_.begin());
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto c = client(first);
    for (;;) {
      const auto stats = c->cluster_stats();
      const bool all = stats.size() == running && std::all_of(stats.begin(), stats.end(), [&](const node_stats& s) {
                         return s.members_up.size() == running - 1;
                       });
      if (all) return;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the nodes did not all reach each other in " + std::to_string(timeout.count()) + " s");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

 private:
  void drain(size_t i) {
    while (auto line = nodes_[i]->read_line(20)) output_.push_back(ids_[i] + ": " + *line);
  }

  // Throws with what the node printed, so a node that cannot start says why in the test output.
  void wait_ready(size_t i) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string printed;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto line = nodes_[i]->read_line(static_cast<int>(left.count()));
      if (!line) break;
      if (line->rfind("perdure node ready", 0) == 0) return;
      printed += "\n  " + *line;
    }
    throw std::runtime_error("node " + ids_[i] + " did not start; it printed:" + printed);
  }

  scratch_dir dir_;
  std::vector<std::string> ids_;
  uint32_t partitions_;
  std::vector<std::string> extra_;
  std::vector<std::vector<std::string>> node_args_;
  uint16_t base_port_;
  bool http_ = false;
  std::string log_level_ = "error";
  std::vector<std::string> output_;
  std::string members_;
  std::vector<bool> joining_;
  std::vector<std::unique_ptr<child_process>> nodes_;

  void list_members() {
    members_.clear();
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (joining_[i]) continue;
      if (!members_.empty()) members_ += ",";
      members_ += ids_[i] + "@127.0.0.1:" + std::to_string(port(i));
    }
  }
};

/// Waits for an instance, retrying while its owner is unreachable (killed and restarting).
inline instance_record wait_through_restarts(client& c, const std::string& id, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    try {
      return c.wait_for_completion(id, std::chrono::seconds(20));
    } catch (const error&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace perdure::testing_support
