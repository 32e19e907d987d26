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
  // Episodes per committed batch, to see how much group commit gathers; its sum is committed_episodes.
  static constexpr std::array<uint64_t, 9> commit_batch_bounds{1, 2, 4, 8, 16, 32, 64, 128, 256};
  std::array<std::atomic<uint64_t>, commit_batch_bounds.size() + 1> commit_batch_buckets{};
  std::atomic<uint64_t> timers_fired{0};
  // How late timers fire: scheduling delays in milliseconds, a node that was down in minutes.
  std::atomic<uint64_t> timer_lag_micros_total{0};
  static constexpr std::array<uint64_t, 10> timer_lag_bounds_us{1000,   5000,    10000,   50000,    100000,
                                                                 500000, 1000000, 5000000, 30000000, 300000000};
  std::array<std::atomic<uint64_t>, timer_lag_bounds_us.size() + 1> timer_lag_buckets{};
  std::atomic<uint64_t> failed_partitions{0};

  // Activities.
  std::atomic<uint64_t> activities_started{0};
  std::atomic<uint64_t> activities_completed{0};
  std::atomic<uint64_t> activities_failed{0};
  std::atomic<int64_t> activity_queue_depth{0};  // handed to the pool, not yet started (queued or in a worker's share)

  // Traces (runtime/otlp_exporter.hpp): spans the collector accepted, and spans dropped because the
  // exporter's queue was full or the collector did not accept their batch.
  std::atomic<uint64_t> spans_exported{0};
  std::atomic<uint64_t> spans_dropped{0};

  void record_commit(uint64_t micros, uint64_t episodes_in_batch) noexcept {
    commits.fetch_add(1, std::memory_order_relaxed);
    committed_episodes.fetch_add(episodes_in_batch, std::memory_order_relaxed);
    commit_micros_total.fetch_add(micros, std::memory_order_relaxed);
    observe(commit_latency_bounds_us, commit_latency_buckets, micros);
    observe(commit_batch_bounds, commit_batch_buckets, episodes_in_batch);
  }

  void record_timer_fired(uint64_t lag_micros) noexcept {
    timers_fired.fetch_add(1, std::memory_order_relaxed);
    timer_lag_micros_total.fetch_add(lag_micros, std::memory_order_relaxed);
    observe(timer_lag_bounds_us, timer_lag_buckets, lag_micros);
  }

 private:
  template <size_t N>
  static void observe(const std::array<uint64_t, N>& bounds, std::array<std::atomic<uint64_t>, N + 1>& buckets,
                      uint64_t value) noexcept {
    size_t bucket = 0;
    while (bucket < N && value > bounds[bucket]) ++bucket;
    buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace perdure::actors
