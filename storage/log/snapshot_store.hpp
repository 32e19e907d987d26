// Where a replicated hub keeps one snapshot per partition: an image of the partition's state
// (replicated_hub::export_image) at a log position, so that the log can be trimmed below it and a
// copy that lost its data or fell behind the trim is rebuilt from the snapshot plus the log's tail.
//
// Operation: put() stores the image as chunks (each at most a log record's size), then a manifest
// naming them, written last: a snapshot whose writer died between its chunks has no manifest and
// is never read. The manifest is a compare-and-set on the partition's previous manifest, so of two
// writers (an owner and a zombie) only one stores; the winner removes the older snapshots.
//
// Errors: store_error with errc::fenced when another snapshot of the partition was stored during
// put(); errc::not_found when read() asks for a snapshot that a newer one replaced meanwhile;
// errc::corrupt_record for an image whose size or checksum is not its manifest's;
// errc::unavailable when the store could not be reached; errc::io_error when the image could
// not be read from its stream.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perdure::storage {

struct snapshot_manifest {
  uint64_t log_seq = 0;   // the image holds the partition's log up to this record
  uint64_t epoch = 0;     // the epoch of the owner that wrote that record
  uint64_t bytes = 0;     // the image's size
  uint64_t checksum = 0;  // FNV-1a 64 of the image
  std::vector<uint64_t> chunks;  // where the store keeps the image's chunks, in order
  friend bool operator==(const snapshot_manifest&, const snapshot_manifest&) = default;
};

class snapshot_store {
 public:
  virtual ~snapshot_store() = default;

  /// Stores `image` (of `partition`, holding its log up to `log_seq` written in `epoch`) as the
  /// partition's newest snapshot and removes the older ones. Returns its manifest.
  virtual snapshot_manifest put(uint32_t partition, uint64_t log_seq, uint64_t epoch, std::istream& image) = 0;

  /// The manifest of the partition's newest complete snapshot, nullopt when it has none.
  virtual std::optional<snapshot_manifest> newest(uint32_t partition) = 0;

  /// Writes the image `manifest` describes to `out`, checked against its size and checksum.
  virtual void read(uint32_t partition, const snapshot_manifest& manifest, std::ostream& out) = 0;
};

/// The checksum of snapshot images, fed piece by piece.
class image_checksum {
 public:
  void add(std::string_view bytes) noexcept;
  uint64_t value() const noexcept { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

/// Reads `image` in chunks of at most `chunk_bytes` and hands each to `store`; fills in the
/// manifest's size and checksum. Throws store_error(io_error) when the stream fails.
void chunk_image(std::istream& image, size_t chunk_bytes, snapshot_manifest& manifest,
                 const std::function<void(std::string_view chunk)>& store);

/// Checks what read() assembled against its manifest: throws store_error(corrupt_record).
void check_image(uint32_t partition, const snapshot_manifest& manifest, uint64_t bytes, uint64_t checksum);

/// The manifest as the JSON an operator can read (`nats stream get`); decode throws
/// store_error(corrupt_record) naming `where`.
std::string encode_manifest(const snapshot_manifest& manifest);
snapshot_manifest decode_manifest(std::string_view text, std::string_view where);

/// In memory, for unit tests without servers; one object stands for the shared store.
class memory_snapshot_store final : public snapshot_store {
 public:
  explicit memory_snapshot_store(size_t chunk_bytes = 4096) : chunk_bytes_(chunk_bytes) {}

  snapshot_manifest put(uint32_t partition, uint64_t log_seq, uint64_t epoch, std::istream& image) override;
  std::optional<snapshot_manifest> newest(uint32_t partition) override;
  void read(uint32_t partition, const snapshot_manifest& manifest, std::ostream& out) override;

  /// Chunks held, over every partition and snapshot (older snapshots are removed by put()).
  size_t chunks_held();

 private:
  struct partition_snapshots {
    std::optional<snapshot_manifest> manifest;
    uint64_t revision = 0;  // of the manifest: put()'s compare-and-set
  };
  const size_t chunk_bytes_;
  std::mutex mutex_;
  std::map<uint32_t, partition_snapshots> partitions_;
  struct stored_chunk {
    uint32_t partition = 0;
    std::string bytes;
  };
  std::map<uint64_t, stored_chunk> chunks_;  // by id
  uint64_t last_chunk_ = 0;
};

}  // namespace perdure::storage
