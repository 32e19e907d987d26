// The snapshot rules of a replicated hub: the owner of a partition stores a snapshot of it every
// `every` records and only then trims the partition's log below it (no trim without a snapshot);
// a copy that needs a record the log no longer holds (a follower that fell behind the trim, a
// new owner, a node whose data dir was lost) installs the newest snapshot and reads the log's
// tail from there (catch_up and take_over in replicated_hub.hpp call install_snapshot).
#pragma once

#include "log/partition_log.hpp"
#include "log/snapshot_store.hpp"
#include "replicated_hub.hpp"

#include <cstdint>
#include <optional>

namespace perdure::storage {

/// Replaces the partition's copy with its newest snapshot when the log no longer holds the record
/// the copy needs next (`from`, below log.first_seq()). Returns whether it installed one. Throws
/// store_error(log_lost_records) when no snapshot covers the trimmed records.
bool install_snapshot_if_trimmed(replicated_hub& hub, uint32_t partition, partition_log& log, uint64_t from,
                                 snapshot_store* snapshots);

/// The owner's side, one object per led partition (on the partition's replica).
class snapshot_schedule {
 public:
  explicit snapshot_schedule(uint64_t every) : every_(every) {}

  /// When the partition's copy is `every` records past its newest snapshot: stores a snapshot of
  /// it (from a consistent view: commits go on meanwhile), then trims the log below it, keeping
  /// the `every / 2` records before the snapshot's: a follower less than that far behind (it reads
  /// every 200 ms) reads them instead of the whole snapshot. Returns the snapshot stored, if one
  /// was. Throws store_error from the store or the log; the log is trimmed only below a snapshot
  /// that was stored.
  std::optional<snapshot_manifest> run(replicated_hub& hub, uint32_t partition, partition_log& log,
                                       snapshot_store& snapshots);

 private:
  uint64_t every_;
  std::optional<uint64_t> newest_seq_;  // the newest snapshot's record, read from the store once
};

}  // namespace perdure::storage
