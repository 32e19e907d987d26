// A hub whose partitions are replicated through partition logs (cluster mode with --nats): the
// log is each partition's durable copy, the local RocksDB a replica of it.
//
// Operation: a partition is either led or followed by this node. While it is led, every write of
// that partition (commit, purge) is first appended to its log, right after the last record this
// leader knows of, together with the leader's epoch; only when the log acknowledged it is the same
// WriteBatch applied locally, with the record's sequence as the partition's applied position, in
// the same local write. A batch larger than the log's record limit is appended as several parts
// and applied once its last part is in. While a partition is followed, apply() writes the log's
// records in order; its writes are refused.
//
// Durability: the local store is written without fsync: what an acknowledged commit survives is
// the log's guarantee (docs/reliability.md). After a crash the local copy is a prefix of the log
// (the applied position moves in the same write as the data), and catching up from applied() + 1
// restores the rest.
//
// Errors: a write of a partition that is not led, or whose append the log refused because another
// owner appended since (a newer epoch fenced it), throws store_error(errc::fenced) and writes
// nothing locally; the partition stays unled until lead() is called again. errc::unavailable when
// the log could not be reached: the record may or may not be in the log, so the partition stops
// being led as well (a new leader catches up from the log, whatever the outcome was).
//
// Concurrency: as hub_store; apply(), lead() and follow() of one partition must not run
// concurrently with its writes.
#pragma once

#include "log/partition_log.hpp"

#include <perdure/storage/store.hpp>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string_view>
#include <vector>

namespace perdure::storage {

/// The last log record a partition's local copy holds, and the epoch of the owner that wrote it.
struct log_position {
  uint64_t seq = 0;
  uint64_t epoch = 0;
  friend bool operator==(const log_position&, const log_position&) = default;
};

class replicated_hub : public hub_store {
 public:
  /// Opens the local copy under `dir` (store_options::sync is ignored: the log is the durable copy).
  static std::unique_ptr<replicated_hub> open(const std::filesystem::path& dir, store_options options);

  /// What the local copy of `partition` holds of its log.
  virtual log_position applied(uint32_t partition) const = 0;
  /// The sequence from which the log must be read next: after applied(), and after the parts of a
  /// batch read so far but not yet complete.
  virtual uint64_t read_from(uint32_t partition) const = 0;
  /// Applies records read from the partition's log (in order, starting at read_from()). Records at
  /// or below what was read already are skipped. Throws store_error(invalid_argument) while led.
  virtual void apply(uint32_t partition, const std::vector<log_record>& records) = 0;
  /// Starts leading the partition in `epoch`, appending to `log` after applied().seq, which must
  /// be the log's last record (take_over() makes it so). `log` must outlive the leadership.
  virtual void lead(uint32_t partition, partition_log& log, uint64_t epoch) = 0;
  /// Stops leading: writes of the partition are refused from now on.
  virtual void follow(uint32_t partition) = 0;
  /// Whether this node currently leads the partition (false again after a refused append).
  virtual bool leads(uint32_t partition) const = 0;
  /// Partition images (storage/partition_image.cpp): all of one partition's keys, its applied
  /// position among them, so that a copy lost or fallen behind a trimmed log is rebuilt from a
  /// snapshot (storage/snapshots.hpp) instead of the whole log.
  using image_consumer = std::function<void(std::istream& image, log_position at)>;
  using image_producer = std::function<void(std::ostream& image)>;
  /// Writes an image of the partition from one consistent view of the store (commits go on
  /// meanwhile), hands it to `consume` and returns the position it holds. Throws store_error(io_error).
  virtual log_position export_image(uint32_t partition, const image_consumer& consume) const = 0;
  /// Replaces the partition's copy with the image `fill` writes (any node's export of the same
  /// partition) and returns its position: applied() from then on. Other partitions are untouched.
  /// Throws store_error(invalid_argument) while led or for another partition's image,
  /// (corrupt_record) for bytes that are not an image, (io_error).
  virtual log_position import_image(uint32_t partition, const image_producer& fill) = 0;
  /// list() over the given partitions only (the ones this node owns: a follower's copy is not
  /// answered from, so that every record is listed by exactly one node).
  virtual instance_page list(const instance_query& query, const std::vector<uint32_t>& partitions) const = 0;
  virtual entity_page list_entities(const entity_query& query, const std::vector<uint32_t>& partitions) const = 0;
  using hub_store::list;
  using hub_store::list_entities;
};

class snapshot_store;

/// Reads `log` after what `hub` holds of `partition` and applies it, to the log's end. Returns
/// the number of records read. When the log was trimmed past the record due, the partition's
/// newest snapshot in `snapshots` is installed first (storage/snapshots.hpp); without one the
/// copy cannot be rebuilt: store_error(log_lost_records).
size_t catch_up(replicated_hub& hub, uint32_t partition, partition_log& log, snapshot_store* snapshots = nullptr);

/// How many records `log` holds after what `hub` applied of `partition`. Throws store_error
/// (log_lost_records) when the log ends before a record the hub applied from it.
uint64_t records_behind(replicated_hub& hub, uint32_t partition, partition_log& log);

/// Makes this node the partition's leader in `epoch`: catches up, appends an epoch-start record
/// right after the log's last record (catching up again while someone else appends), applies it
/// and leads. From then on every append of an older owner is refused. Throws store_error
/// (unavailable) when the log cannot be reached, (log_lost_records) when it ends before what the
/// hub applied, (fenced) when the log already has an owner in a later epoch. Catches up as
/// catch_up() does, from `snapshots` where the log was trimmed.
void take_over(replicated_hub& hub, uint32_t partition, partition_log& log, uint64_t epoch, std::string_view owner,
               snapshot_store* snapshots = nullptr);

}  // namespace perdure::storage
