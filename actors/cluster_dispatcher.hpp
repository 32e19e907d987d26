// Spreads a node's activities over the workers of every node of the hub, with flow control and
// leases.
//
// Operation: the node's partitions send their committed activities here (work_atom, one batch per
// commit) instead of to the local pool. The dispatcher keeps at most `workers` activities in flight per node (the
// node's advertised worker count; its own pool for this node) and queues the rest, so no node is
// flooded by one dispatcher; a node that is busy with other dispatchers' work refuses leased work
// (client_errc::busy) and is skipped for a moment. Each activity goes to the node with the lowest
// in-flight/capacity ratio, this node on ties.
//
// Leases: an activity sent to another node is a request whose answer is the result message, which
// the dispatcher hands to the owning partition. When that node goes down (the node actor reports
// `member_atom` with an invalid handle) its activities are dispatched again once their lease has
// run (`lease` after they were sent). A late result from the old lease is still delivered: the
// partition keeps the first result of a task and drops the rest, so activities run at least once
// and are applied exactly once.
//
// Cancellation (cancel_atom from a partition): attempts still queued here are dropped, those
// leased to another node are cancelled on it (cancel_atom to its node actor, which hands it to its
// pool), and the local pool cancels its own. A leased attempt's heartbeats reach its partition
// through the node actors (the lease's result relay sends them as heartbeats by token), so
// attempts with a heartbeat timeout are leased like any other.
#pragma once

#include "cluster_metrics.hpp"
#include "metrics.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace perdure::actors {

struct cluster_dispatcher_config {
  size_t self_index = 0;    // this node's index in the membership
  size_t member_count = 1;
  caf::actor local_pool;    // this node's activity_pool dispatcher
  uint32_t local_workers = 1;
  std::chrono::milliseconds lease{10'000};
  cluster_metrics* metrics = nullptr;
};

caf::actor spawn_cluster_dispatcher(caf::actor_system& system, cluster_dispatcher_config config);

}  // namespace perdure::actors
