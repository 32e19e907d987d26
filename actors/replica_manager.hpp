// The replica manager of a node in a replicated hub (--nats): it makes the node do what the
// assignment table says, and while it holds the coordinator role it keeps the table right.
//
// Operation, every interval:
//  - every node: reads the registered members (member_registry.hpp) and tells the node actor, which
//    connects to the new ones.
//  - coordinator (at most one node, by the coordinator lease): for each partition, plan_assignment()
//    over the registered members it sees, written by compare-and-set; then the moves
//    (partition_moves.hpp). A member counts as lost only after
//    `grace` without reaching it, so a coordinator that just started does not move partitions away
//    from members it has not connected to yet; the first assignment waits for every member, or for
//    `initial_grace`.
//  - every node, for each partition, through a partition replica actor of its own (detached: its
//    log calls block, and one stream's leader election must not hold back the other partitions):
//    owner here -> take it over (catch up, fence with an epoch-start record, lead) and start its
//    partition actor, which recovers (re-dispatches pending activities, arms timers, re-sends its
//    outbox), and while it leads, snapshot it every `snapshot_every` log records and trim the log
//    below (actors/partition_snapshots.hpp); owner elsewhere -> stop the local partition actor if
//    one runs and route to the owner; follower -> apply the log's new records (no timers, no
//    dispatch), from the partition's newest snapshot when the log was trimmed past its copy. A led
//    partition whose append was refused (fenced) or whose log was unreachable is restarted from
//    the log when the table still names this node, else left. A follower that is a move's target
//    reports its lag in the member registry.
//
// The manager and the replicas are detached: JetStream calls block. Failures (NATS unreachable, a
// refused compare-and-set) are logged once per change and retried on the next interval; a replica
// still busy with an update gets the newest one when it is done.
#pragma once

#include "cluster_metrics.hpp"
#include "cluster_view.hpp"

#include "storage/log/assignment_table.hpp"
#include "storage/log/coordinator_lease.hpp"
#include "storage/log/member_registry.hpp"
#include "storage/log/partition_log.hpp"
#include "storage/log/snapshot_store.hpp"
#include "storage/replicated_hub.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace perdure::actors {

/// What the replica manager works with, owned by the host so that it outlives every actor (a
/// partition actor commits through its log until it stops).
struct replication_resources {
  std::unique_ptr<storage::assignment_table> table;
  std::unique_ptr<storage::coordinator_lease> lease;
  std::unique_ptr<storage::member_registry> registry;
  std::function<std::unique_ptr<storage::partition_log>(uint32_t partition)> open_log;
  std::vector<std::unique_ptr<storage::partition_log>> logs;  // by partition, opened when first needed
  std::unique_ptr<storage::snapshot_store> snapshots;  // the partitions' snapshots (storage/snapshots.hpp)
};

struct replica_manager_config {
  std::string self_id;
  size_t self_index = 0;  // in the view
  caf::actor node;        // the node actor, told the registered members every interval
  storage::replicated_hub* store = nullptr;
  replication_resources* resources = nullptr;
  std::shared_ptr<cluster_view> view;
  std::function<caf::actor(uint32_t partition)> spawn_partition;  // not yet recovered
  size_t followers = 1;
  uint64_t snapshot_every = 0;  // log records between an owner's snapshots; 0: none
  std::chrono::milliseconds interval{200};
  std::chrono::milliseconds grace{3000};           // unreachable this long: lost
  std::chrono::milliseconds initial_grace{15000};  // first assignment without every member
  cluster_metrics* metrics = nullptr;
};

caf::actor spawn_replica_manager(caf::actor_system& system, replica_manager_config config);

}  // namespace perdure::actors
