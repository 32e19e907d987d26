// Counters of a cluster node's networking, next to node_metrics. Relaxed atomics, read by anyone.
#pragma once

#include <atomic>
#include <cstdint>

namespace perdure::actors {

struct cluster_metrics {
  std::atomic<uint64_t> messages_out{0};            // node-to-node messages sent by this node
  std::atomic<uint64_t> messages_in{0};             // received
  std::atomic<uint64_t> activities_leased_out{0};   // activities sent to another node's workers
  std::atomic<uint64_t> activities_redispatched{0}; // leases that expired on a lost node
  std::atomic<uint64_t> activities_rejected{0};     // leased work refused: the local queue was full
  std::atomic<uint64_t> members_up{0};              // other members currently reached (a gauge)
  // A replicated hub (--nats).
  std::atomic<uint64_t> takeovers{0};               // partitions this node took over (a new epoch began here)
  std::atomic<uint64_t> leaderships_lost{0};        // led partitions whose log refused an append or was unreachable
  std::atomic<uint64_t> assignments_changed{0};     // assignment entries this node wrote as coordinator
  std::atomic<uint64_t> records_followed{0};        // log records applied as a follower or while catching up
  std::atomic<int64_t> follower_lag{0};             // records not yet applied, summed over followed partitions (a gauge)
  std::atomic<uint64_t> coordinator{0};             // 1 while this node holds the coordinator role (a gauge)
};

}  // namespace perdure::actors
