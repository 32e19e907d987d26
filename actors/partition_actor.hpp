// The partition actor: the single writer of one partition.
//
// Operation: messages for the partition's instances (client commands, activity results, fired
// timers, messages from other partitions) are queued per instance. A flush runs one episode per
// instance with queued messages, commits all of them in ONE storage batch (group commit), and only
// after the commit returns releases the effects: activities to the dispatcher, timers armed, outbox
// messages sent, clients answered. Messages that arrive during a commit wait for the next flush,
// so batches grow with load.
//
// Concurrency: the actor is detached (its own thread) because a durable commit blocks on fsync.
//
// Exactly-once: messages from other partitions carry (source partition, outbox seq); the partition
// accepts them strictly in seq order per source, records the highest applied seq in the same
// batch, and acknowledges only after the commit, so a resent message is recognized and dropped.
//
// Failure: if a commit fails (disk full, read-only, I/O error) the partition stops taking work,
// answers every command with client_errc::unavailable and logs the cause; the in-memory state
// that was not committed is discarded, so nothing partial is ever visible.
#pragma once

#include "metrics.hpp"

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
};

/// Spawns the partition actor. It does nothing until it receives recover_atom, which the host sends
/// once every partition exists: then it re-dispatches pending activities, arms its timers and
/// re-sends its outbox.
caf::actor spawn_partition(caf::actor_system& system, partition_config config);

}  // namespace perdure::actors
