// Counters a node keeps for its metrics endpoint. Written by the actors with relaxed atomics,
// read by anyone.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace perdure::actors {

struct node_metrics {
  // Partitions.
  std::atomic<uint64_t> episodes{0};           // episodes run
  std::atomic<uint64_t> commits{0};            // storage batches committed
  std::atomic<uint64_t> committed_episodes{0}; // episodes in those batches (sum of batch sizes)
  std::atomic<uint64_t> commit_micros_total{0};
  // Commit latency histogram: upper bounds in microseconds; the last bucket is +Inf.
  static constexpr std::array<uint64_t, 8> commit_latency_bounds_us{100, 250, 500, 1000, 2500, 5000, 10000, 50000};
  std::array<std::atomic<uint64_t>, commit_latency_bounds_us.size() + 1> commit_latency_buckets{};
  std::atomic<uint64_t> timers_fired{0};
  std::atomic<int64_t> last_timer_lag_micros{0};  // how late the last fired timer was
  std::atomic<uint64_t> failed_partitions{0};

  // Activities.
  std::atomic<uint64_t> activities_started{0};
  std::atomic<uint64_t> activities_completed{0};
  std::atomic<uint64_t> activities_failed{0};
  std::atomic<int64_t> activity_queue_depth{0};  // handed to the pool, not yet started (queued or in a worker's share)

  void record_commit(uint64_t micros, uint64_t episodes_in_batch) noexcept {
    commits.fetch_add(1, std::memory_order_relaxed);
    committed_episodes.fetch_add(episodes_in_batch, std::memory_order_relaxed);
    commit_micros_total.fetch_add(micros, std::memory_order_relaxed);
    size_t bucket = 0;
    while (bucket < commit_latency_bounds_us.size() && micros > commit_latency_bounds_us[bucket]) ++bucket;
    commit_latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace perdure::actors
