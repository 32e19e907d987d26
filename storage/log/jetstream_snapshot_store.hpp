// The snapshot_store on NATS JetStream: one stream per hub, `perdure_<hub>_snapshots`, replicated
// like the logs. A partition's chunks are messages on `perdure.<hub>.snapshots.p<n>.chunk`, its
// manifests (JSON, listing the chunks' stream sequences) on `...p<n>.manifest`; the newest
// manifest is the subject's last message. The manifest is published with "expected last subject
// sequence" = the manifest seen when the snapshot began (the compare-and-set of put()), and once it
// is stored the partition's older messages are purged (a purge of its subjects up to this
// snapshot's first chunk).
#pragma once

#include "jetstream.hpp"
#include "snapshot_store.hpp"

namespace perdure::storage {

class jetstream_snapshot_store final : public snapshot_store {
 public:
  /// Opens the hub's snapshot stream, creating it with `replicas` replicas when it does not exist.
  jetstream_snapshot_store(jetstream_connection& connection, std::string_view hub, int replicas);

  snapshot_manifest put(uint32_t partition, uint64_t log_seq, uint64_t epoch, std::istream& image) override;
  std::optional<snapshot_manifest> newest(uint32_t partition) override;
  void read(uint32_t partition, const snapshot_manifest& manifest, std::ostream& out) override;

  const std::string& stream() const noexcept { return stream_; }

 private:
  struct stored_manifest {
    snapshot_manifest manifest;
    uint64_t seq = 0;
  };
  std::string subject(uint32_t partition, std::string_view kind) const;
  std::optional<stored_manifest> last_manifest(uint32_t partition);
  uint64_t publish_chunk(uint32_t partition, std::string_view chunk);
  void publish_manifest(uint32_t partition, const snapshot_manifest& manifest, uint64_t expected_last);
  void purge_before(uint32_t partition, uint64_t seq);

  jetstream_connection& connection_;
  std::string hub_;
  std::string stream_;
};

}  // namespace perdure::storage
