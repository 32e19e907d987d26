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
};

}  // namespace perdure::actors
