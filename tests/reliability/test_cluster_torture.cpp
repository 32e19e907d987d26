// Crash torture on a 3-node cluster: the random orchestrations of the single-node torture test
// (torture_program.hpp) run on three torture_node processes while random nodes are killed with
// SIGKILL at random moments and restarted on their data dirs; a driver in this process acts on the
// instances from outside through whichever node is up. At the end every instance must match its
// oracle, with exactly one result per task, no timer lost, no event applied twice, and clean replays.
// The replicated form runs the same on a hub whose partitions live in logs on 3 nats-servers
// (--nats), with two more faults: a node restarted on an empty data dir (its disk lost), and a
// nats-server killed and restarted, or lost with its disk and replaced.
//
// Short form by default (CI). Long form: PERDURE_CLUSTER_TORTURE_KILLS=30
// PERDURE_CLUSTER_TORTURE_INSTANCES=300; PERDURE_TORTURE_SEED replays a run (the seed is printed).
#include "tests/cluster/local_cluster.hpp"
#include "tests/support/nats_cluster.hpp"
#include "torture_checks.hpp"
#include "torture_driver.hpp"

#include <doctest/doctest.h>

#include <array>
#include <filesystem>
#include <functional>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::local_cluster;

namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::stoull(value) : fallback;
}

constexpr size_t node_count = 3;

// Which nodes are up, and a new incarnation number each time one restarts, so the driver knows
// when its connection to a node is stale.
class node_states {
 public:
  void down(size_t i) {
    std::lock_guard lock(mutex_);
    up_[i] = false;
  }
  void up(size_t i) {
    std::lock_guard lock(mutex_);
    up_[i] = true;
    ++incarnation_[i];
  }
  /// A random node that is up, with its incarnation.
  std::optional<std::pair<size_t, uint64_t>> pick(std::mt19937_64& random) {
    std::lock_guard lock(mutex_);
    std::vector<size_t> candidates;
    for (size_t i = 0; i < node_count; ++i)
      if (up_[i]) candidates.push_back(i);
    if (candidates.empty()) return std::nullopt;
    const size_t i = candidates[random() % candidates.size()];
    return std::make_pair(i, incarnation_[i]);
  }

 private:
  std::mutex mutex_;
  std::array<bool, node_count> up_{true, true, true};
  std::array<uint64_t, node_count> incarnation_{};
};

// The driver's connections, one per node, made again when the node restarted.
class connections {
 public:
  explicit connections(local_cluster& cluster) : cluster_(cluster) {}
  /// Drops the connection to node i, so that the next get() makes a new one.
  void drop(size_t i) { clients_[i].client.reset(); }
  client* get(size_t i, uint64_t incarnation) {
    auto& c = clients_[i];
    if (!c.client || c.incarnation != incarnation) {
      c.client.reset();
      try {
        c.client = cluster_.client(i);
        c.incarnation = incarnation;
      } catch (const error&) {
        return nullptr;  // it went down again meanwhile
      }
    }
    return c.client.get();
  }

 private:
  struct connection {
    std::unique_ptr<cluster_client> client;
    uint64_t incarnation = 0;
  };
  local_cluster& cluster_;
  std::array<connection, node_count> clients_;
};

// One fault, picked with `random`: it takes nodes down and up through `nodes` and returns what it did.
using inject_fault = std::function<std::string(local_cluster&, node_states&, std::mt19937_64&)>;

std::string kill_and_restart(local_cluster& cluster, node_states& nodes, std::mt19937_64& random, bool wipe) {
  const size_t victim = random() % node_count;
  nodes.down(victim);
  cluster.kill(victim);
  if (wipe) std::filesystem::remove_all(cluster.data(victim));
  std::this_thread::sleep_for(std::chrono::milliseconds(random() % 1500));
  cluster.start(victim);
  nodes.up(victim);
  return std::string{wipe ? "kill -9 and empty data dir of node " : "kill -9 of node "} + std::to_string(victim);
}

void check_run(local_cluster& cluster, std::vector<torture::driven>& all, uint64_t kills, int instances,
               torture::tolerated_errors& client_errors, uint64_t stale_connections);

void run_torture(local_cluster& cluster, const inject_fault& fault) {
  const uint64_t kills = env_or("PERDURE_CLUSTER_TORTURE_KILLS", 4);
  const int instances = static_cast<int>(env_or("PERDURE_CLUSTER_TORTURE_INSTANCES", 40));
  const uint64_t seed = env_or("PERDURE_TORTURE_SEED", std::random_device{}());
  std::cout << "cluster torture: seed " << seed << ", " << instances << " instances, " << kills << " faults"
            << std::endl;
  std::mt19937_64 random{seed};
  const char* log_level = std::getenv("PERDURE_TORTURE_LOG_LEVEL");
  cluster.set_log_level(log_level ? log_level : "warn");
  cluster.start_all();
  node_states nodes;
  auto all = torture::plan_run(seed, instances);
  torture::tolerated_errors client_errors;
  std::atomic<bool> stop_driving{false};
  std::atomic<uint64_t> stale_connections{0};
  std::atomic<size_t> unfinished{all.size()};

  // The driver: starts every instance, then drives them pass after pass through a node that is up.
  std::jthread driver([&] {
    connections pool{cluster};
    std::mt19937_64 picks{seed + 1};
    bool started = false;
    for (int pass = 0; !stop_driving; std::this_thread::sleep_for(50ms)) {
      auto node = nodes.pick(picks);
      client* c = node ? pool.get(node->first, node->second) : nullptr;
      if (!c) continue;
      try {
        if (!started)
          started = torture::start_all(*c, all) == 0;
        else
          unfinished = torture::drive(*c, all, pass++, client_errors);
      } catch (const timeout_error& e) {
        // A call got no answer in time (its node may have been killed during it): connect again.
        client_errors.add(std::string{"connection to node "} + std::to_string(node->first) + " dropped: " + e.what());
        ++stale_connections;
        pool.drop(node->first);
      }
    }
  });

  for (uint64_t k = 0; k < kills; ++k) {
    // Mostly short intervals, so that many kills land inside a commit or just after it; some long.
    const auto delay = random() % 4 == 0 ? 300 + random() % 2000 : random() % 500;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    std::cout << "cluster torture: fault " << k << ": " << fault(cluster, nodes, random) << std::endl;
  }

  // Every node is up again: let the driver finish the instances.
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  while (unfinished > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  stop_driving = true;
  driver.join();

  try {
    check_run(cluster, all, kills, instances, client_errors, stale_connections.load());
  } catch (...) {
    // A check that cannot even read the hub: what the nodes said is the only clue.
    for (const auto& line : cluster.output()) std::cout << "node output: " << line << std::endl;
    throw;
  }
}

void check_run(local_cluster& cluster, std::vector<torture::driven>& all, uint64_t kills, int instances,
               torture::tolerated_errors& client_errors, uint64_t stale_connections) {
  auto checker = cluster.client(0);
  registry functions;
  torture::register_functions(functions);
  torture::figures figures;
  // The unfinished first, so that what they wait for is printed before the slower checks.
  for (const auto& d : all)
    if (!d.finished) {
      figures.problems.push_back("not finished: " + torture::describe(*checker, d.plan));
      std::cout << figures.problems.back() << std::endl;
    }
  for (const auto& d : all)
    if (d.finished) torture::check_instance(*checker, functions, d.plan, figures);
  std::cout << "cluster torture: " << kills << " faults; instances=" << figures.instances
            << " sub_instances=" << figures.sub_instances << " tasks=" << figures.tasks << " timers=" << figures.timers
            << " events=" << figures.events << " replays=" << figures.replays << " completed=" << figures.completed
            << " failed=" << figures.failed << " terminated=" << figures.terminated
            << " client_errors=" << client_errors.count.load() << " stale_connections=" << stale_connections
            << std::endl;
  for (const auto& e : client_errors.first) std::cout << "  tolerated: " << e << std::endl;
  for (size_t i = 0; i < figures.problems.size() && i < 50; ++i) MESSAGE(figures.problems[i]);
  if (!figures.problems.empty())
    for (const auto& line : cluster.output()) std::cout << "node output: " << line << std::endl;
  CHECK(figures.problems.empty());
  CHECK(figures.instances == static_cast<uint64_t>(instances));
}

}  // namespace

TEST_CASE("cluster torture: random orchestrations on 3 nodes survive kill -9 of random nodes") {
  local_cluster cluster{{"a", "b", "c"},
                        6,
                        {"--workers", "4", "--lease", "1500", "--heartbeat-timeout", "1000", "--threads", "2"}};
  run_torture(cluster, [](local_cluster& c, node_states& nodes, std::mt19937_64& random) {
    return kill_and_restart(c, nodes, random, false);
  });
}

TEST_CASE("cluster torture: a replicated hub survives kill -9 of nodes, lost data dirs and lost nats-servers") {
  testing_support::nats_cluster nats{3};
  std::string urls;
  for (const auto& url : nats.urls()) urls += (urls.empty() ? "" : ",") + url;
  local_cluster cluster{{"a", "b", "c"},
                        6,
                        // A heartbeat timeout of 1 s (the static case's) made a loaded node look down to the
                        // others for minutes under ASan; 3 s is the default.
                        {"--workers", "4", "--lease", "4000", "--heartbeat-timeout", "3000", "--threads", "2", "--nats",
                         urls, "--hub", "torture" + std::to_string(::getpid())}};
  int replaced = 0;
  run_torture(cluster, [&nats, &replaced](local_cluster& c, node_states& nodes, std::mt19937_64& random) -> std::string {
    switch (random() % 4) {
      case 0: return kill_and_restart(c, nodes, random, false);
      case 1: return kill_and_restart(c, nodes, random, true);
      default: {
        // One server at a time, so the streams keep their quorum; appends wait for a new leader.
        // Half of them lose their disk, and then the machine is replaced as docs/reliability.md
        // tells an operator to: a new server name, the lost one removed from the JetStream
        // cluster. Coming back empty under the old name is what Raft forbids, and on 2.9.10 it
        // lost whole streams (seed 362571792). The next fault waits until the server is current
        // on every stream: a second loss before that is more than a quorum survives (seed
        // 2658552813).
        const int server = static_cast<int>(random() % 3);
        const bool lose_disk = random() % 2 == 0;
        nats.kill(server);
        std::this_thread::sleep_for(std::chrono::milliseconds(500 + random() % 2000));
        std::string what = "kill -9 of nats-server " + nats.name(server);
        if (lose_disk) {
          const std::string lost = nats.name(server);
          nats.replace(server, "r" + std::to_string(++replaced));
          nats.remove_peer(lost);
          what = "nats-server " + lost + " lost with its disk, replaced by " + nats.name(server);
        } else {
          nats.restart(server);
        }
        const auto restarted = std::chrono::steady_clock::now();
        nats.wait_caught_up(server, 120s);
        const auto catch_up_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restarted).count();
        return what + " (current on every stream " + std::to_string(catch_up_ms) + " ms after its start)";
      }
    }
  });
}
