// A led partition's snapshots, taken by its partition replica (a detached actor) between
// assignment updates: commits go on meanwhile, since the image comes from a RocksDB snapshot, and
// the partition's log is trimmed only below a snapshot that was stored (storage/snapshots.hpp).
#pragma once

#include "cluster_metrics.hpp"

#include "storage/log/partition_log.hpp"
#include "storage/log/snapshot_store.hpp"
#include "storage/replicated_hub.hpp"
#include "storage/snapshots.hpp"

namespace perdure::actors {

/// Stores the partition's snapshot when `schedule` says it is due, trims its log below it, and
/// records both in `metrics`. Throws store_error from the store or the log.
void snapshot_if_due(storage::snapshot_schedule& schedule, storage::replicated_hub& hub, uint32_t partition,
                     storage::partition_log& log, storage::snapshot_store& snapshots, cluster_metrics& metrics);

}  // namespace perdure::actors
