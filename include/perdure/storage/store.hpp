// The durable store of a task hub on one node: RocksDB on disk, records encoded with Cap'n Proto.
//
// Operation: one RocksDB database per node holds the partitions that node owns; every key starts
// with its partition number, so a partition's data is one key range (the unit that can later move
// between nodes). Each partition has exactly one writer (its partition actor), which commits whole
// episodes, many at a time, with commit(): one WriteBatch, so after a crash every batch is either
// wholly present or wholly absent.
//
// Durability: with store_options::sync (the default) commit() returns only after the WAL is
// fsync'ed: the batch survives a power loss. Without it, a committed batch survives a crash of the
// process but not of the machine.
//
// Concurrency: every method may be called from any thread. commit() for one partition must not be
// called concurrently with another commit() for the same partition (single writer per partition);
// commits of different partitions may run concurrently (RocksDB then groups their WAL syncs).
//
// Errors: every failure throws perdure::storage::store_error with a code and a message a user can
// act on; a record that cannot be decoded names its key. A payload larger than
// store_options::max_payload_bytes is refused (errc::payload_too_large) before anything is written.
// After a failed write (e.g. a full disk) the store refuses every further write (errc::io_error
// naming the first failure) until it is reopened; reads keep working. A write-ahead log damaged
// before its end fails the open (errc::corrupt_record naming the file) unless on_wal_damage says otherwise.
#pragma once

#include <perdure/entity_record.hpp>
#include <perdure/error_code.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/message.hpp>
#include <perdure/query.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace perdure::storage {

enum class errc {
  io_error = 1,            // RocksDB reported an I/O error (disk full, read-only, ...)
  corrupt_record,          // bytes under a key could not be decoded
  payload_too_large,       // a payload exceeds max_payload_bytes
  partition_count_mismatch,  // the hub on disk was created with another partition count
  invalid_argument,        // e.g. an empty instance id, a partition out of range
  not_found,               // the instance does not exist (where absence is an error)
  not_terminal,            // purge of an instance that is still running
  fenced,                  // a partition log refused an append: another owner appended since
  unavailable,             // a partition log or assignment table could not be reached in time
  log_lost_records,        // a partition log ends before records this node applied from it
};

}  // namespace perdure::storage

template <>
struct std::is_error_code_enum<perdure::storage::errc> : std::true_type {};

namespace perdure::storage {

namespace detail {

class store_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "perdure.storage"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::io_error: return "I/O error";
      case errc::corrupt_record: return "corrupt record";
      case errc::payload_too_large: return "payload too large";
      case errc::partition_count_mismatch: return "partition count mismatch";
      case errc::invalid_argument: return "invalid argument";
      case errc::not_found: return "not found";
      case errc::not_terminal: return "instance not finished";
      case errc::fenced: return "fenced by another owner";
      case errc::unavailable: return "unavailable";
      case errc::log_lost_records: return "the partition log lost records";
    }
    return "unknown storage error " + std::to_string(code);
  }
};

}  // namespace detail

/// The category of storage::errc, named "perdure.storage".
inline const std::error_category& store_category() noexcept {
  static const detail::store_category category;
  return category;
}

inline std::error_code make_error_code(errc code) noexcept { return {static_cast<int>(code), store_category()}; }

/// A perdure::error whose error::code() is the storage::errc (category "perdure.storage"). What a
/// client is told about it is decided in one place (actors/client_errors.hpp).
class store_error : public perdure::error {
 public:
  store_error(errc code, const std::string& message) : perdure::error(make_error_code(code), message) {}
  /// error::code() as the enum (it hides error::code(), which holds the same value).
  errc code() const noexcept { return static_cast<errc>(perdure::error::code().value()); }
};

/// What opening a hub does with a write-ahead log damaged before its end. A torn last record (a
/// write cut short by a crash, so never acknowledged) is always dropped.
enum class wal_damage {
  refuse,       // the open fails (corrupt_record naming the file): nothing acknowledged is lost
  drop_after,   // an operator's deliberate choice: recover every commit before the damage and drop
                // every one after it, acknowledged ones included
};

struct store_options {
  uint32_t partition_count = 0;  // required when the hub is created; must match when reopened (0 = take it from disk)
  bool sync = true;              // fsync the WAL on every commit
  size_t max_payload_bytes = 4u << 20;  // any one payload (input, output, event data, custom status)
  wal_damage on_wal_damage = wal_damage::refuse;
  // The hub lives in memory (RocksDB's in-memory environment; `dir` only names it): the same store
  // with nothing on disk, gone when closed. For orchestration_tester and tests.
  bool in_memory = false;
};

/// An activity the partition has scheduled and not yet received a result for.
struct activity_task {
  std::string instance_id;
  std::string execution_id;
  int32_t task_id = -1;
  std::string name;
  std::string input;
  time_point scheduled_at{};
  int32_t attempt = 1;         // events::task_scheduled's: which attempt of one activity call
  int32_t first_task_id = -1;  // the call's first attempt's task id; -1 on the first attempt itself
  activity_timeouts timeouts{};  // events::task_scheduled's: the partition times the attempt out
  std::string heartbeat_details{};  // events::task_scheduled's: the call's earlier attempts' last heartbeat
  // The attempt returned pending (activity_context::complete_asynchronously): it is completed by its
  // task token, and a restart does not run it again.
  bool awaiting_completion = false;
  std::string trace_parent{};  // the instance's (instance_record::trace_parent): the attempt's span is its child
  friend bool operator==(const activity_task&, const activity_task&) = default;
};

/// A durable timer. Scans return them ordered by fire time.
struct timer_entry {
  time_point fire_at{};
  std::string instance_id;
  std::string execution_id;
  int32_t timer_id = -1;
  time_point created_at{};  // when the episode that created it ran (its trace span's start); {}: unknown
  friend bool operator==(const timer_entry&, const timer_entry&) = default;
};

/// A message waiting to leave its partition (sub-orchestration start/result, event sent).
struct outbox_entry {
  uint64_t seq = 0;  // assigned by commit(); unique and increasing per partition, never reused
  uint32_t target_partition = 0;
  message msg;  // msg.source_partition/source_seq are filled in by commit()
  friend bool operator==(const outbox_entry&, const outbox_entry&) = default;
};

/// Everything one episode of one instance changes; applied atomically with the rest of its batch.
struct episode_commit {
  std::string instance_id;
  // Start of a new execution (start, or continue-as-new): the instance's existing history and the
  // activities still queued for its previous execution are deleted first, then `appended` becomes
  // the whole history.
  bool new_execution = false;
  std::vector<history_event> appended;  // appended after the existing history
  instance_record record;               // replaces the record; the query index follows it
  std::vector<activity_task> scheduled_activities;
  std::vector<int32_t> finished_activities;   // task ids removed from the activity queue
  std::vector<timer_entry> new_timers;
  std::vector<timer_entry> fired_timers;      // removed
  std::vector<outbox_entry> outbox;           // seq and msg.source_* assigned by commit()
};

/// An entity held by an orchestration's critical section (lock_entities): the execution that holds
/// it, and the operations others sent it meanwhile, in arrival order (they run at the release).
struct entity_lock {
  std::string instance_id;
  std::string execution_id;
  std::vector<events::entity_operation> held;
  friend bool operator==(const entity_lock&, const entity_lock&) = default;
};

/// What the store keeps of one entity: its record (none: no state), its lock (none: free) and its
/// scheduled signals not yet due (each wakes it with a timer of its own).
struct stored_entity {
  std::optional<entity_record> record;
  std::optional<entity_lock> lock;
  std::vector<events::entity_operation> scheduled;
};

/// What one batch of operations on one entity changes; applied atomically with the rest of its batch.
struct entity_commit {
  std::string instance_id;              // the entity's id in instance-id form
  std::optional<entity_record> record;  // replaces the record; nullopt: no state
  std::optional<entity_lock> lock;      // replaces the lock
  std::vector<events::entity_operation> scheduled;  // replaces the scheduled signals; with none of the three, the row is deleted
  std::vector<timer_entry> new_timers;    // a scheduled signal's wake-up (execution id empty, timer id 0)
  std::vector<timer_entry> fired_timers;  // removed
  std::vector<outbox_entry> outbox;     // seq and msg.source_* assigned by commit()
};

/// One atomic, durable write for one partition.
struct commit_batch {
  uint32_t partition = 0;
  std::vector<episode_commit> episodes;
  std::vector<uint64_t> delivered_outbox;     // outbox seqs acknowledged by their receivers
  // De-duplication marks: the highest outbox seq applied from each source partition.
  std::vector<std::pair<uint32_t, uint64_t>> dedup_watermarks;
  // Queue entries of instances that no longer exist (purged), removed without an episode.
  std::vector<timer_entry> removed_timers;
  std::vector<std::pair<std::string, int32_t>> removed_activities;  // (instance id, task id)
  // Queue entries rewritten as awaiting completion (activity_task::awaiting_completion). Written
  // before the episodes, so an episode of the same batch that finishes the attempt removes it.
  std::vector<activity_task> awaiting_activities;
  std::vector<entity_commit> entities;  // committed after the episodes (their outbox entries too)
};

/// An instance that has not ended: its orchestration's name and version, and whether it waits for
/// that version (instance_record::waiting_for_version).
struct unfinished_instance {
  std::string instance_id;
  std::string name;
  int32_t version = 0;
  bool waiting_for_version = false;
  friend bool operator==(const unfinished_instance&, const unfinished_instance&) = default;
};

/// What commit() assigned: the outbox entries of the episodes, then of the entities, in batch order.
struct commit_result {
  std::vector<outbox_entry> outbox;
};

// The list query's types are the client's (perdure/query.hpp).
using perdure::instance_page;
using perdure::instance_query;

/// The continuation token of a page that ends with `last` (what list() returns): a listing merged
/// from several stores continues after its last record on every one of them.
std::string continuation_token_after(const instance_record& last);
/// The same for an entity listing (list_entities), which is ordered by the entities' instance ids.
std::string continuation_token_after(const entity_record& last);

class hub_store {
 public:
  /// Opens the hub under `dir`, creating it when absent. Throws store_error
  /// (partition_count_mismatch, io_error, ...).
  static std::unique_ptr<hub_store> open(const std::filesystem::path& dir, const store_options& options);
  virtual ~hub_store() = default;

  virtual uint32_t partition_count() const noexcept = 0;
  /// Which partition an instance id belongs to: a stable hash, the same on every node and build.
  virtual uint32_t partition_of(std::string_view instance_id) const noexcept = 0;

  virtual commit_result commit(const commit_batch& batch) = 0;

  virtual std::optional<instance_record> instance(std::string_view instance_id) const = 0;
  // Spelled perdure::history: inside the class, `history` names this member (GCC rejects the change of meaning).
  virtual perdure::history history(std::string_view instance_id) const = 0;  // empty when absent
  virtual instance_page list(const instance_query& query) const = 0;  // over all partitions held here
  virtual std::optional<entity_record> entity(std::string_view entity_instance_id) const = 0;
  /// The entity's record and lock (the partition's view; clients read entity()).
  virtual stored_entity stored_entity_of(std::string_view entity_instance_id) const = 0;
  virtual entity_page list_entities(const entity_query& query) const = 0;  // over all partitions held here

  /// The activity queue's entry for a task of the instance (its current execution's, or one a
  /// previous execution left), nullopt when there is none.
  virtual std::optional<activity_task> activity(std::string_view instance_id, int32_t task_id) const = 0;

  // Recovery scans of one partition.
  virtual std::vector<activity_task> pending_activities(uint32_t partition) const = 0;
  virtual std::vector<timer_entry> timers(uint32_t partition, time_point up_to, size_t limit) const = 0;  // fire_at <= up_to
  virtual std::optional<time_point> next_timer(uint32_t partition) const = 0;
  virtual std::vector<outbox_entry> outbox(uint32_t partition) const = 0;
  virtual std::vector<std::pair<uint32_t, uint64_t>> dedup_watermarks(uint32_t partition) const = 0;
  /// The instances of the partition that have not ended, as their index entries hold them: what a
  /// node that starts serving the partition checks against the orchestration versions it registers.
  virtual std::vector<unfinished_instance> unfinished_instances(uint32_t partition) const = 0;

  /// Deletes a terminal instance: history, record, index entries, queued activities. False if it did not exist;
  /// throws store_error(not_terminal) for an instance that still runs.
  virtual bool purge(std::string_view instance_id) = 0;
};

}  // namespace perdure::storage
