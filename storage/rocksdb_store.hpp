// The RocksDB implementation of hub_store (see keys.hpp for the layout), and of replicated_hub:
// in cluster mode the same store, its writes going through the partitions' logs first.
#pragma once

#include "codec.hpp"
#include "replicated_hub.hpp"

#include <perdure/storage/store.hpp>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

namespace perdure::storage {

// `inbox` is neither read nor written: hubs created while a durable inbox existed have it, and
// RocksDB opens a database only with every column family it holds.
// New column families go last: a hub created before one was added gets it when next opened.
enum cf : size_t {
  cf_default, cf_history, cf_instances, cf_index, cf_activities, cf_timers, cf_outbox, cf_unused_inbox, cf_partition,
  cf_entities, cf_count
};
inline constexpr std::array<const char*, cf_count> cf_names{
    "default", "history", "instances", "index", "activities", "timers", "outbox", "inbox", "partition", "entities"};

class rocksdb_store final : public replicated_hub {
 public:
  /// `replicated`: every partition starts followed (writes refused until lead()), and the local
  /// store is written without fsync.
  rocksdb_store(const std::filesystem::path& dir, const store_options& options, bool replicated = false);
  ~rocksdb_store() override;

  uint32_t partition_count() const noexcept override { return partition_count_; }
  uint32_t partition_of(std::string_view instance_id) const noexcept override;

  commit_result commit(const commit_batch& batch) override;

  std::optional<instance_record> instance(std::string_view instance_id) const override;
  std::optional<entity_record> entity(std::string_view entity_instance_id) const override;
  stored_entity stored_entity_of(std::string_view entity_instance_id) const override;
  entity_page list_entities(const entity_query& query) const override;
  entity_page list_entities(const entity_query& query, const std::vector<uint32_t>& partitions) const override;
  perdure::history history(std::string_view instance_id) const override;
  instance_page list(const instance_query& query) const override;
  instance_page list(const instance_query& query, const std::vector<uint32_t>& partitions) const override;

  std::optional<activity_task> activity(std::string_view instance_id, int32_t task_id) const override;
  std::vector<activity_task> pending_activities(uint32_t partition) const override;
  std::vector<unfinished_instance> unfinished_instances(uint32_t partition) const override;
  std::vector<timer_entry> timers(uint32_t partition, time_point up_to, size_t limit) const override;
  std::optional<time_point> next_timer(uint32_t partition) const override;
  std::vector<outbox_entry> outbox(uint32_t partition) const override;
  std::vector<std::pair<uint32_t, uint64_t>> dedup_watermarks(uint32_t partition) const override;

  bool purge(std::string_view instance_id) override;

  log_position applied(uint32_t partition) const override;
  uint64_t read_from(uint32_t partition) const override;
  void apply(uint32_t partition, const std::vector<log_record>& records) override;
  void lead(uint32_t partition, partition_log& log, uint64_t epoch) override;
  void follow(uint32_t partition) override;
  bool leads(uint32_t partition) const override;
  log_position export_image(uint32_t partition, const image_consumer& consume) const override;
  log_position import_image(uint32_t partition, const image_producer& fill) override;

 private:
  // Serializes commit(), purge() and the replication calls of one partition; also guards the
  // outbox's sequence counter and the replication state.
  struct partition_state {
    mutable std::mutex mutex;
    uint64_t next_outbox = 1;
    // Cluster mode: the leadership (log set while this node leads), and the parts of a batch
    // read from the log but not yet complete (a follower's).
    partition_log* log = nullptr;
    uint64_t epoch = 0;
    uint64_t last_seq = 0;  // the log's last record as this leader knows it
    std::string pending_parts;
    uint32_t pending_next_part = 0;
    uint64_t pending_through = 0;  // the last record whose part is in pending_parts
  };
  struct match {  // an index entry that passed a query's filters
    uint64_t created = 0;
    std::string instance_id;
    runtime_status status = runtime_status::pending;
  };

  void open_db(const store_options& options);
  void close() noexcept;
  void load_hub_meta(uint32_t requested_count);
  void load_counters();
  void load_counter(uint32_t partition);
  log_position applied_locked(uint32_t partition) const;
  /// Throws store_error(io_error) naming the operation, the data dir and RocksDB's status text.
  void check(const rocksdb::Status& s, std::string_view operation) const;
  /// Writes the batch (synced per the options), unless an earlier write failed: after a failed
  /// write the store refuses every write (store_error(io_error) naming the first failure), so
  /// nothing touches a WAL that a failed append left in an unknown state. Reads keep working.
  void write(rocksdb::WriteBatch& batch, std::string_view operation);
  /// A write of one partition: in cluster mode appended to its log first (see replicated_hub.hpp),
  /// with the partition's mutex held; else write().
  void write(uint32_t partition, rocksdb::WriteBatch& batch, std::string_view operation);
  /// Appends the batch to the leader's log (in parts when it is larger than a record) and returns
  /// the sequence of its last record.
  uint64_t append_to_log(uint32_t partition, partition_state& state, const rocksdb::WriteBatch& batch);
  void put_log_position(rocksdb::WriteBatch& batch, uint32_t partition, log_position position) const;
  void check_partition(uint32_t partition) const;
  rocksdb::ColumnFamilyHandle* cf(size_t which) const { return handles_[which]; }
  std::optional<std::string> get(size_t which, const std::string& key, const rocksdb::Snapshot* snap = nullptr) const;
  /// Calls fn(key, value) for every key in [lower, upper) of a column family, in order, until it returns false.
  template <typename Fn>
  void scan(size_t which, const std::string& lower, const std::string& upper, Fn&& fn) const;
  void delete_history(rocksdb::WriteBatch& wb, uint32_t p, std::string_view id, uint64_t chunks) const;
  void delete_activities(rocksdb::WriteBatch& wb, uint32_t p, std::string_view id) const;
  /// Index entries matching the query's filters (not its page size), in (created, id) order,
  /// starting strictly after `after` when set; at most `limit`.
  std::vector<match> matches(const instance_query& q, const std::vector<uint32_t>& partitions,
                             const std::optional<match>& after, size_t limit,
                             const rocksdb::Snapshot* snap) const;

  std::filesystem::path dir_;
  bool sync_ = true;
  bool replicated_ = false;
  size_t max_payload_bytes_ = 0;
  uint32_t partition_count_ = 0;
  std::unique_ptr<rocksdb::Env> env_;  // an in-memory hub's, or write faults (tests); outlives db_
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<partition_state[]> partitions_;
  std::atomic<bool> writes_refused_{false};
  std::mutex write_failure_mutex_;
  std::string write_failure_;  // the first failed write, set once
};

inline constexpr std::string_view cf_name(size_t which) { return cf_names[which]; }

template <typename Fn>
void rocksdb_store::scan(size_t which, const std::string& lower, const std::string& upper, Fn&& fn) const {
  rocksdb::Slice upper_slice(upper);  // must outlive the iterator
  rocksdb::ReadOptions ro;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(which)));
  for (it->Seek(lower); it->Valid(); it->Next())
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  check(it->status(), "scan");
}

}  // namespace perdure::storage
