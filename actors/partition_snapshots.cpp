#include "partition_snapshots.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace perdure::actors {

void snapshot_if_due(storage::snapshot_schedule& schedule, storage::replicated_hub& hub, uint32_t partition,
                     storage::partition_log& log, storage::snapshot_store& snapshots, cluster_metrics& metrics) {
  const auto begun = std::chrono::steady_clock::now();
  const auto stored = schedule.run(hub, partition, log, snapshots);
  if (!stored) return;
  const auto first = log.first_seq();
  metrics.snapshots_taken.fetch_add(1, std::memory_order_relaxed);
  if (partition < metrics.partition_log_count) {
    metrics.partition_logs[partition].snapshot_seq.store(stored->log_seq, std::memory_order_relaxed);
    metrics.partition_logs[partition].log_first_seq.store(first, std::memory_order_relaxed);
  }
  spdlog::info("partition {}: snapshot at log record {} stored ({} bytes in {} chunks, {} ms); its log starts at {} now",
               partition, stored->log_seq, stored->bytes, stored->chunks.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begun).count(),
               first);
}

}  // namespace perdure::actors
