// Counters of a cluster node's networking, next to node_metrics. Relaxed atomics, read by anyone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace perdure::actors {

struct cluster_metrics {
  std::atomic<uint64_t> messages_out{0};            // node-to-node messages sent by this node
  std::atomic<uint64_t> messages_in{0};             // received
  std::atomic<uint64_t> activities_leased_out{0};   // activities sent to another node's workers
  std::atomic<uint64_t> activities_redispatched{0}; // leases that expired on a lost node
  std::atomic<uint64_t> activities_rejected{0};     // leased work refused: the local queue was full
  std::atomic<uint64_t> members_up{0};              // other members currently reached (a gauge)
  std::atomic<uint64_t> connection_attempts{0};     // connections to other members this node tried
  // A replicated hub (--nats).
  std::atomic<uint64_t> takeovers{0};               // partitions this node took over (a new epoch began here)
  std::atomic<uint64_t> leaderships_lost{0};        // led partitions whose log refused an append or was unreachable
  std::atomic<uint64_t> assignments_changed{0};     // assignment entries this node wrote as coordinator
  std::atomic<uint64_t> records_followed{0};        // log records applied as a follower or while catching up
  std::atomic<int64_t> follower_lag{0};             // records not yet applied, summed over followed partitions (a gauge)
  std::atomic<uint64_t> coordinator{0};             // 1 while this node holds the coordinator role (a gauge)
  std::atomic<uint64_t> snapshots_taken{0};         // partition snapshots this node stored as the owner
  // Per partition, sized when the replicated hub's partitions are known (before any actor runs);
  // as this node last stored, read or trimmed them (gauges).
  struct partition_log_gauges {
    std::atomic<uint64_t> snapshot_seq{0};   // the log record the partition's newest snapshot holds
    std::atomic<uint64_t> log_first_seq{0};  // the first record its log still holds
  };
  std::unique_ptr<partition_log_gauges[]> partition_logs;
  uint32_t partition_log_count = 0;
};

}  // namespace perdure::actors
