// Real nats-server processes with JetStream on 127.0.0.1 for tests: a cluster of N servers on free
// ports, each with its own store dir, started and stopped by pid (kill -9 and restart one).
#pragma once

#include "child_process.hpp"

#include <nats/nats.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace perdure::testing_support {

class nats_cluster {
 public:
  /// Starts `size` servers named n0, n1, ... and waits until each accepts connections. Servers of
  /// a cluster of more than one elect their JetStream meta leader a few seconds later: callers
  /// retry their first JetStream request (jetstream_log does).
  explicit nats_cluster(int size);
  ~nats_cluster();  // kills every server still running and removes their directories
  nats_cluster(const nats_cluster&) = delete;
  nats_cluster& operator=(const nats_cluster&) = delete;

  int size() const noexcept { return static_cast<int>(servers_.size()); }
  std::string url(int i) const;
  const std::string& name(int i) const { return servers_.at(static_cast<size_t>(i)).name; }
  std::vector<std::string> urls() const;
  /// The index of the server named `name` ("n1"), or -1.
  int index_of(std::string_view name) const;
  void kill(int i);     // SIGKILL, then reaps it
  void restart(int i);  // same ports, same store dir
  /// Deletes the store dir of server i, which must be stopped (kill first): its disk is lost, and
  /// a restart brings it back empty under the same name, to catch up from the other replicas.
  void wipe(int i);
  /// A new machine in place of server i, which must be stopped: a new server named `name` (an
  /// identity JetStream has not seen) on the same ports with an empty store. Its predecessor stays
  /// a peer of every replica it had until remove_peer() of its old name.
  void replace(int i, std::string name);
  /// Removes a lost server from the JetStream cluster (`$JS.API.SERVER.REMOVE`, asked in the system
  /// account as an operator would): JetStream moves its replicas to the servers that remain.
  /// Throws with the server's answer when it refuses.
  void remove_peer(const std::string& name) const;
  /// The running servers' process ids (for their CPU time in benchmarks).
  std::vector<pid_t> pids() const;
  /// The servers holding a current replica of `stream` (its leader included), by name, sorted.
  std::vector<std::string> current_replicas(const std::string& stream) const;
  /// Waits until server i holds a current replica of every stream (what an operator waits for
  /// after replacing a server's disk before touching the next server: a quorum of R3 streams
  /// survives one lost store at a time, not a second one while the first is still catching up).
  /// Throws naming the streams still behind after `timeout`.
  void wait_caught_up(int i, std::chrono::seconds timeout) const;
  /// The warnings and errors the servers logged so far, each line prefixed with the server's name:
  /// what a failed test prints to say what JetStream was doing.
  std::vector<std::string> warnings() const;

 private:
  struct server {
    std::string name;
    uint16_t client_port = 0;
    uint16_t route_port = 0;
    std::unique_ptr<child_process> process;
  };
  void start(int i);
  std::vector<std::string> stream_names() const;  // of the APP account, asked of any running server
  /// Calls `ask` with a JetStream context on each running server in turn until it returns true.
  void ask_any_server(const std::function<bool(jsCtx*)>& ask) const;
  std::filesystem::path dir_;
  std::vector<server> servers_;
};

}  // namespace perdure::testing_support
