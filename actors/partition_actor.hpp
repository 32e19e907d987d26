// The partition actor: the single writer of one partition, a thin shell around the partition
// state machine (partition/state_machine.hpp), which decides everything.
//
// Operation: every message becomes an input of the state machine; the actions it returns are
// carried out here (activities to the dispatcher, timers as delayed messages, outbox messages and
// acknowledgements to other partitions, answers to the response promises of waiting callers). A
// flush (one per burst of inputs) is prepare() → store commit → committed(): one storage batch
// for every instance with queued messages (group commit); effects are released only after the
// commit returns. Messages that arrive during a commit wait for the next flush, so batches grow
// with load.
//
// Concurrency: the actor is detached (its own thread) because a durable commit blocks on fsync.
//
// Failure: if a commit fails (disk full, read-only, I/O error), or reading the store does, the
// partition stops taking work, answers every command with client_errc::unavailable and logs the
// cause; the in-memory state that was not committed is discarded, so nothing partial is ever
// visible.
#pragma once

#include "metrics.hpp"
#include "span_sink.hpp"

#include <perdure/executor.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace perdure::actors {

/// Every partition's actor, indexed by partition number; filled before any message flows.
struct partition_directory {
  std::vector<caf::actor> partitions;
};

struct partition_config {
  uint32_t partition = 0;
  storage::hub_store* store = nullptr;
  const registry* functions = nullptr;
  caf::actor dispatcher;
  std::shared_ptr<partition_directory> directory;  // filled by the host before it sends recover_atom
  size_t max_cached_instances = 10'000;
  node_metrics* metrics = nullptr;
  episode_limits limits;
  size_t max_payload_bytes = 4u << 20;  // the store's limit: an episode it would refuse fails its instance alone
  span_sink spans;  // where committed episodes' spans go; empty: nowhere
};

/// Spawns the partition actor. It does nothing until it receives recover_atom, which the host sends
/// once every partition exists: then it re-dispatches pending activities, arms its timers and
/// re-sends its outbox.
caf::actor spawn_partition(caf::actor_system& system, partition_config config);

}  // namespace perdure::actors
