// Batched node-to-node traffic on a real 3-node cluster (examples/cluster's node program): a burst
// of cross-node outbox messages (entity calls and their answers between partitions on different
// nodes, sent in batches by the partition proxies) with a node killed -9 in the middle of it is
// applied exactly once: every call counted once, none lost, none twice. Calls forwarded between
// nodes in batches (asynchronous starts, hundreds in flight, node b killed while they are) are each
// answered once.
#include "local_cluster.hpp"

#include <doctest/doctest.h>

#include <condition_variable>
#include <thread>
#include <map>
#include <mutex>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::local_cluster;
using testing_support::wait_through_restarts;

namespace {

// Asynchronous starts, all in flight together: their answers come back through batches of
// forwarded calls. wait() returns the ids whose start was refused (e.g. their node died).
class start_burst {
 public:
  start_burst(cluster_client& c, const std::string& name, const std::vector<std::pair<std::string, int>>& specs)
      : expected_(specs.size()) {
    for (const auto& [id, seed] : specs) {
      start_options options;
      options.instance_id = id;
      c.start_async(name, std::to_string(seed), options, [this, id = id](start_result r) {
        std::lock_guard lock(mutex_);
        if (std::holds_alternative<std::exception_ptr>(r)) refused_.push_back(id);
        else if (std::get<std::string>(r) != id) wrong_.push_back(id);
        if (++answered_ == expected_) done_.notify_all();
      });
    }
  }
  std::vector<std::string> wait() {
    std::unique_lock lock(mutex_);
    REQUIRE(done_.wait_for(lock, 120s, [&] { return answered_ == expected_; }));
    CHECK_MESSAGE(wrong_.empty(), wrong_.size(), " starts answered with another instance's id");
    return refused_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  const size_t expected_;
  size_t answered_ = 0;
  std::vector<std::string> refused_, wrong_;
};

// A start refused while its node was down may have committed before it died: started again with
// the same id, an existing instance is kept (return_existing), so each exists once.
void start_until_acknowledged(cluster_client& c, const std::string& id, int seed) {
  start_options options;
  options.instance_id = id;
  options.when_running = if_running::return_existing;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    try {
      c.start("CountOnEntities", std::to_string(seed), options);
      return;
    } catch (const unavailable_error&) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "cannot start ", id);
      std::this_thread::sleep_for(100ms);
    }
  }
}

}  // namespace

TEST_CASE("a burst of cross-node outbox messages with a node killed -9 in the middle is applied exactly once") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "4"}};
  cluster.start_all();
  // CountOnEntities(seed) calls "add" 1 on the counters c<(seed + i) mod 12>, i < 10, one call at
  // a time: each call and its answer are outbox messages between the orchestration's partition and
  // the counter's, on different nodes for two thirds of them.
  constexpr int orchestrations = 300, calls = 10, counters = 12;
  std::vector<std::pair<std::string, int>> through_a, through_c;
  std::map<std::string, int> expected;
  for (int seed = 0; seed < orchestrations; ++seed) {
    (seed % 2 ? through_a : through_c).emplace_back("count-" + std::to_string(seed), seed);
    for (int i = 0; i < calls; ++i) ++expected["c" + std::to_string((seed + i) % counters)];
  }
  auto a = cluster.client(0);
  auto c = cluster.client(2);
  std::map<std::string, int> seeds;
  for (const auto& specs : {through_a, through_c})
    for (const auto& [id, seed] : specs) seeds[id] = seed;
  {
    start_burst from_a(*a, "CountOnEntities", through_a);
    start_burst from_c(*c, "CountOnEntities", through_c);
    // The starts are in flight, and the first calls: node b, which owns a third of the
    // orchestrations and counters, dies with batches in flight both ways.
    cluster.restart(1, 1000ms);
    auto refused = from_a.wait();
    for (const auto& id : from_c.wait()) refused.push_back(id);
    MESSAGE(refused.size(), " starts refused while node b was down, started again");
    for (const auto& id : refused) start_until_acknowledged(*a, id, seeds[id]);
  }

  for (const auto& specs : {through_a, through_c})
    for (const auto& [id, seed] : specs) {
      const auto record = wait_through_restarts(*a, id, 120s);
      CHECK_MESSAGE(record.status == runtime_status::completed, id, " ended ", to_string(record.status));
      CHECK_MESSAGE(record.output == std::to_string(calls), id, " output ", record.output);
    }
  // A message lost would leave its orchestration waiting; one applied twice would count twice.
  for (const auto& [key, count] : expected) {
    const auto entity = c->get_entity(entity_id{"Counter", key});
    REQUIRE_MESSAGE(entity, "counter ", key, " does not exist");
    CHECK_MESSAGE(entity->state == std::to_string(count), "counter ", key, " holds ", entity->state, ", expected ",
                  count);
  }
  for (const auto& s : c->cluster_stats())
    MESSAGE("node ", s.node_id, ": node-to-node messages out ", s.messages_out, " in ", s.messages_in);
}
