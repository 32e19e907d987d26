// Opening and closing the hub, hub metadata, and the helpers every operation uses.
#include "rocksdb_store.hpp"

#include "fault_file_system.hpp"
#include "keys.hpp"
#include "open_guards.hpp"

#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>

namespace perdure::storage {

namespace {
// 2: one history value per episode (HistoryChunk) instead of one per event.
constexpr uint32_t format_version = 2;

/// `[p][len:4][id]` of a history or activity key: everything of one instance.
///
/// The bare prefix itself is outside the domain: it is where delete_history() and
/// delete_activities() start their range tombstones, and RocksDB 7.8 looks up the same hint for a
/// range tombstone, which lives in another skip list; a hint from the point-key list used there
/// breaks that list (an assertion in Debian's build).
class instance_prefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "perdure.InstancePrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), 8 + keys::get_be32(key.ToStringView().substr(4))};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > 8 && key.size() - 8 > keys::get_be32(key.ToStringView().substr(4));
  }
};

// Skip-list inserts into the memtable are the largest CPU cost of a commit. With a hint prefix,
// RocksDB remembers where the last key with the same prefix went and starts the next insert's
// search there, which costs a few key comparisons instead of a descent from the top when keys of
// one prefix arrive in order. (Ignored while several writers insert concurrently.) A column family
// with range tombstones must keep their start keys out of its prefix's domain (see instance_prefix).
std::shared_ptr<const rocksdb::SliceTransform> insert_hint_prefix(size_t which) {
  switch (which) {
    case cf_history:     // an instance's next chunk follows its previous one
    case cf_activities:  // task ids grow within an instance
      return std::make_shared<instance_prefix>();
    case cf_instances:  // the same row is rewritten by every episode
      return std::shared_ptr<const rocksdb::SliceTransform>(rocksdb::NewNoopTransform());
    case cf_index:  // [p][status]: creation times mostly grow
      return std::shared_ptr<const rocksdb::SliceTransform>(rocksdb::NewFixedPrefixTransform(5));
    case cf_timers:  // [p]: fire times and queue seqs grow within a partition
    case cf_outbox:
      return std::shared_ptr<const rocksdb::SliceTransform>(rocksdb::NewFixedPrefixTransform(4));
    default:
      return nullptr;
  }
}

}  // namespace

std::unique_ptr<hub_store> hub_store::open(const std::filesystem::path& dir, const store_options& options) {
  return std::make_unique<rocksdb_store>(dir, options);
}

std::unique_ptr<replicated_hub> replicated_hub::open(const std::filesystem::path& dir, store_options options) {
  options.sync = false;
  return std::make_unique<rocksdb_store>(dir, options, true);
}

rocksdb_store::rocksdb_store(const std::filesystem::path& dir, const store_options& options, bool replicated)
    // RocksDB's in-memory environment resolves no relative paths.
    : dir_(options.in_memory && dir.is_relative() ? "/" / dir : dir),
      sync_(options.sync && !replicated),
      replicated_(replicated),
      max_payload_bytes_(options.max_payload_bytes) {
  std::error_code ec;
  if (options.partition_count == 0 && (options.in_memory || !std::filesystem::exists(dir / "CURRENT", ec)))
    throw store_error(errc::invalid_argument, "no task hub at " + dir.string() +
                                                  ": set store_options::partition_count > 0 to create one");
  open_db(options);
  try {
    load_hub_meta(options.partition_count);
    partitions_ = std::make_unique<partition_state[]>(partition_count_);
    load_counters();
  } catch (...) {
    close();  // the constructor did not finish, so the destructor will not run
    throw;
  }
}

rocksdb_store::~rocksdb_store() { close(); }

void rocksdb_store::close() noexcept {
  if (!db_) return;
  // Debian's RocksDB asserts that no column family handle outlives the database.
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_->Close();
  delete db_;
  db_ = nullptr;
}

void rocksdb_store::open_db(const store_options& options) {
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.bytes_per_sync = 1 << 20;
  // No WAL compression (RocksDB's default), though JSON compresses well: RocksDB 7.8 (experimental
  // there) writes a record that starts in the last bytes of a log block correctly but reads it
  // back wrong ("log record too small", "bad WriteBatch Put"), so the hub does not open again
  // (tests/storage/wal_compression_test.cpp).
  if (options.in_memory) {
    env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    db_opts.env = env_.get();
  } else if (auto faults = installed_write_faults()) {
    env_ = make_fault_env(std::move(faults));
    db_opts.env = env_.get();
  }

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_opts;
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_opts.write_buffer_size = 32 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (size_t which = 0; which < cf_count; ++which) {
    rocksdb::ColumnFamilyOptions opts = cf_opts;
    opts.memtable_insert_with_hint_prefix_extractor = insert_hint_prefix(which);
    if (which == cf_instances) {
      // commit() reads every episode's previous row, and a new instance has none: a memtable
      // bloom filter answers that without a skip-list search.
      opts.memtable_whole_key_filtering = true;
      opts.memtable_prefix_bloom_size_ratio = 0.02;
    }
    descriptors.emplace_back(cf_names[which], opts);
  }
  std::shared_ptr<wal_damage_report> wal_damage = std::make_shared<wal_damage_report>();
  if (!options.in_memory) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw store_error(errc::io_error, "cannot create the hub directory " + dir_.string() + ": " + ec.message());
    wal_damage = guard_open_options(db_opts, dir_, options.on_wal_damage);
  }
  const auto opened = rocksdb::DB::Open(db_opts, dir_.string(), descriptors, &handles_, &db_);
  if (const auto damage = wal_damage->first(); opened.IsCorruption() && !damage.empty())
    throw store_error(errc::corrupt_record,
                      "a write-ahead log of the hub is corrupt before its end (" + damage +
                          "); the node does not start, because recovering past the damage would drop every "
                          "later commit, acknowledged ones included. Restore the data directory from a backup, "
                          "or see 'A corrupt write-ahead log' in docs/reliability.md for opening it accepting that loss");
  check(opened, "open");
}

void rocksdb_store::load_hub_meta(uint32_t requested) {
  std::string key(keys::hub_key);
  auto stored = get(cf_default, key);
  if (!stored) {
    if (requested == 0)
      throw store_error(errc::invalid_argument, "no task hub at " + dir_.string() +
                                                    ": set store_options::partition_count > 0 to create one");
    std::string value;
    codec::encode_hub_meta({format_version, requested}, value);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    check(db_->Put(wo, cf(cf_default), key, value), "write hub metadata");
    partition_count_ = requested;
    return;
  }
  auto meta = codec::decode_hub_meta(*stored, {cf_name(cf_default), key});
  if (meta.format_version != format_version)
    throw store_error(errc::corrupt_record, "the hub at " + dir_.string() + " has storage format " +
                                                std::to_string(meta.format_version) + "; this build reads format " +
                                                std::to_string(format_version));
  if (meta.partition_count == 0)
    throw codec::corrupt({cf_name(cf_default), key}, "hub metadata", "partition count is 0");
  if (requested != 0 && requested != meta.partition_count)
    throw store_error(errc::partition_count_mismatch,
                      "the hub at " + dir_.string() + " was created with " + std::to_string(meta.partition_count) +
                          " partitions but was opened with partition_count " + std::to_string(requested) +
                          "; the count is fixed at creation (pass " + std::to_string(meta.partition_count) +
                          " or 0)");
  partition_count_ = meta.partition_count;
}

void rocksdb_store::load_counters() {
  for (uint32_t p = 0; p < partition_count_; ++p) load_counter(p);
}

void rocksdb_store::load_counter(uint32_t p) {
  std::string key;
  keys::outbox_counter_key(key, p);
  auto v = get(cf_partition, key);
  if (!v) return;
  if (v->size() != 8) throw codec::corrupt({cf_name(cf_partition), key}, "sequence counter", "not 8 bytes");
  partitions_[p].next_outbox = keys::get_be64(*v);
}

uint32_t rocksdb_store::partition_of(std::string_view instance_id) const noexcept {
  return keys::partition_of(instance_id, partition_count_);
}

void rocksdb_store::check(const rocksdb::Status& s, std::string_view operation) const {
  if (s.ok()) return;
  throw store_error(errc::io_error, "RocksDB " + std::string(operation) + " failed in " + dir_.string() + ": " +
                                        s.ToString());
}

void rocksdb_store::write(rocksdb::WriteBatch& batch, std::string_view operation) {
  if (writes_refused_.load(std::memory_order_acquire)) {
    std::lock_guard lock(write_failure_mutex_);
    throw store_error(errc::io_error, "the hub at " + dir_.string() + " takes no more writes since one failed (" +
                                          write_failure_ +
                                          "); fix the cause (e.g. free disk space) and restart the node: every "
                                          "acknowledged commit is on disk");
  }
  rocksdb::WriteOptions options;
  options.sync = sync_;
  const auto written = db_->Write(options, &batch);
  if (written.ok()) return;
  const std::string failure = "RocksDB " + std::string(operation) + " failed in " + dir_.string() + ": " +
                              written.ToString();
  {
    std::lock_guard lock(write_failure_mutex_);
    if (write_failure_.empty()) write_failure_ = failure;
  }
  writes_refused_.store(true, std::memory_order_release);
  throw store_error(errc::io_error, failure);
}

void rocksdb_store::check_partition(uint32_t partition) const {
  if (partition >= partition_count_)
    throw store_error(errc::invalid_argument, "partition " + std::to_string(partition) + " is out of range: the hub has " +
                                                  std::to_string(partition_count_) + " partitions");
}

std::optional<std::string> rocksdb_store::get(size_t which, const std::string& key, const rocksdb::Snapshot* snap) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string value;
  auto s = db_->Get(ro, cf(which), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  check(s, "read");
  return value;
}

void rocksdb_store::delete_activities(rocksdb::WriteBatch& wb, uint32_t p, std::string_view id) const {
  std::string key;
  keys::activity_prefix(key, p, id);
  wb.DeleteRange(cf(cf_activities), key, keys::prefix_end(key));
}

void rocksdb_store::delete_history(rocksdb::WriteBatch& wb, uint32_t p, std::string_view id, uint64_t chunks) const {
  if (chunks == 0) return;
  std::string key;
  // Point deletes for short histories keep range tombstones (which slow every later read of
  // the memtable) for the long ones.
  if (chunks <= 64) {
    for (uint64_t chunk = 0; chunk < chunks; ++chunk) {
      keys::history_key(key, p, id, chunk);
      wb.Delete(cf(cf_history), key);
    }
    return;
  }
  keys::history_prefix(key, p, id);
  wb.DeleteRange(cf(cf_history), key, keys::prefix_end(key));
}

}  // namespace perdure::storage
