// A partition's commit log: in cluster mode the durable copy of every commit batch, which the
// owner appends before it applies the batch to its local store, and which followers (and a new
// owner catching up) read back and apply.
//
// Operation: compare-and-append. An append succeeds only while the log's last record is the one
// the writer expects; once anyone else appended (a new owner's epoch-start record), every append
// of the old owner is refused. That refusal is the fence against a stale owner: it lives in the
// log, not in failure detection.
//
// Durability: append() returns once the log acknowledged the record (jetstream_log: a quorum of
// the stream's replicas has it); read() returns only acknowledged records.
//
// Errors: store_error with errc::fenced when the expected sequence is stale (someone else
// appended); errc::unavailable when the log could not be reached before the deadline, in which
// case the record may or may not be in the log: appending it again under the same record id is
// safe, it is stored once.
//
// Concurrency: one writer per log (the partition's owner); reads from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perdure::storage {

struct log_record {
  uint64_t seq = 0;
  std::string bytes;
  friend bool operator==(const log_record&, const log_record&) = default;
};

class partition_log {
 public:
  virtual ~partition_log() = default;

  /// Appends `bytes` right after the record `expected_last` (0: the log must be empty) and returns
  /// its sequence. `record_id` makes a retry idempotent: appending an id the log already holds
  /// returns that record's sequence instead of storing it twice (jetstream_log: within the
  /// stream's duplicate window). Sequences grow but need not be contiguous: pass only values that
  /// last_seq() or append() returned.
  virtual uint64_t append(std::string_view bytes, uint64_t expected_last, std::string_view record_id) = 0;

  /// The sequence of the last record, 0 for an empty log.
  virtual uint64_t last_seq() = 0;

  /// Up to `max` records with a sequence >= `from`, in order; fewer at the end of the log.
  virtual std::vector<log_record> read(uint64_t from, size_t max) = 0;

  /// The largest record append() takes (jetstream_log: the servers' max_payload).
  virtual size_t max_record_bytes() const = 0;

  /// Removes the records before `seq`; the record `seq` and later stay, so the log's last record
  /// (which the next compare-and-append names) is never removed. Call it only below a stored
  /// snapshot (storage/snapshots.hpp): a reader that needs a removed record installs that snapshot.
  virtual void trim_before(uint64_t seq) = 0;

  /// The sequence of the first record the log still holds (after trims), last_seq() + 1 when
  /// it holds none.
  virtual uint64_t first_seq() = 0;
};

}  // namespace perdure::storage
