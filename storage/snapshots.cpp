#include "snapshots.hpp"

#include <perdure/storage/store.hpp>

#include <istream>
#include <ostream>

namespace perdure::storage {

bool install_snapshot_if_trimmed(replicated_hub& hub, uint32_t partition, partition_log& log, uint64_t from,
                                 snapshot_store* snapshots) {
  const uint64_t first = log.first_seq();
  if (from >= first) return false;
  const auto lost = [&](const std::string& why) {
    return store_error(errc::log_lost_records,
                       "the log of partition " + std::to_string(partition) + " starts at record " +
                           std::to_string(first) + " but this node needs record " + std::to_string(from) + " next, " +
                           why + "; see docs/reliability.md, \"A partition log that lost records\"");
  };
  if (!snapshots) throw lost("and this node reads no snapshots");
  const auto newest = snapshots->newest(partition);
  if (!newest) throw lost("and the partition has no snapshot");
  if (newest->log_seq + 1 < first)
    throw lost("and its newest snapshot ends at record " + std::to_string(newest->log_seq));
  hub.import_image(partition, [&](std::ostream& image) { snapshots->read(partition, *newest, image); });
  return true;
}

std::optional<snapshot_manifest> snapshot_schedule::run(replicated_hub& hub, uint32_t partition, partition_log& log,
                                                        snapshot_store& snapshots) {
  if (!newest_seq_) {
    const auto newest = snapshots.newest(partition);
    newest_seq_ = newest ? newest->log_seq : 0;
  }
  if (hub.applied(partition).seq < *newest_seq_ + every_) return std::nullopt;
  snapshot_manifest stored;
  hub.export_image(partition, [&](std::istream& image, log_position at) {
    stored = snapshots.put(partition, at.seq, at.epoch, image);
  });
  newest_seq_ = stored.log_seq;
  const uint64_t kept = every_ / 2;
  if (stored.log_seq > kept) log.trim_before(stored.log_seq - kept);
  return stored;
}

}  // namespace perdure::storage
