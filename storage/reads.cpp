// Point reads and the recovery scans of one partition.
#include "keys.hpp"
#include "rocksdb_store.hpp"

#include <rocksdb/write_batch.h>

namespace perdure::storage {

namespace {

std::string partition_end(uint32_t p) {
  std::string key;
  keys::partition_prefix(key, p);
  return keys::prefix_end(key);
}

}  // namespace

std::optional<instance_record> rocksdb_store::instance(std::string_view instance_id) const {
  std::string key;
  keys::instance_key(key, partition_of(instance_id), instance_id);
  auto value = get(cf_instances, key);
  if (!value) return std::nullopt;
  return codec::decode_row(*value, {cf_name(cf_instances), key}).record;
}

perdure::history rocksdb_store::history(std::string_view instance_id) const {
  std::string prefix;
  keys::history_prefix(prefix, partition_of(instance_id), instance_id);
  perdure::history out;
  scan(cf_history, prefix, keys::prefix_end(prefix), [&](std::string_view key, std::string_view value) {
    codec::decode_history_chunk(value, {cf_name(cf_history), key}, out);
    return true;
  });
  return out;
}

std::optional<activity_task> rocksdb_store::activity(std::string_view instance_id, int32_t task_id) const {
  std::string key;
  keys::activity_key(key, partition_of(instance_id), instance_id, task_id);
  auto value = get(cf_activities, key);
  if (!value) return std::nullopt;
  return codec::decode_activity(*value, {cf_name(cf_activities), key});
}

std::vector<activity_task> rocksdb_store::pending_activities(uint32_t partition) const {
  check_partition(partition);
  std::string lower;
  keys::partition_prefix(lower, partition);
  std::vector<activity_task> out;
  scan(cf_activities, lower, partition_end(partition), [&](std::string_view key, std::string_view value) {
    out.push_back(codec::decode_activity(value, {cf_name(cf_activities), key}));
    return true;
  });
  return out;
}

std::vector<timer_entry> rocksdb_store::timers(uint32_t partition, time_point up_to, size_t limit) const {
  check_partition(partition);
  std::string lower, upper;
  keys::partition_prefix(lower, partition);
  keys::partition_prefix(upper, partition);
  // Fire times are the key's first field: "due by up_to" is everything before up_to + 1 ns.
  uint64_t end = keys::encode_time(up_to);
  if (end == UINT64_MAX)
    upper = partition_end(partition);
  else
    keys::put_be64(upper, end + 1);
  std::vector<timer_entry> out;
  if (limit == 0) return out;
  scan(cf_timers, lower, upper, [&](std::string_view key, std::string_view value) {
    out.push_back(codec::decode_timer(value, {cf_name(cf_timers), key}));
    return out.size() < limit;
  });
  return out;
}

std::optional<time_point> rocksdb_store::next_timer(uint32_t partition) const {
  check_partition(partition);
  std::string lower;
  keys::partition_prefix(lower, partition);
  std::optional<time_point> out;
  scan(cf_timers, lower, partition_end(partition), [&](std::string_view key, std::string_view) {
    if (key.size() < 12) throw codec::corrupt({cf_name(cf_timers), key}, "timer key", "shorter than 12 bytes");
    out = keys::decode_time(keys::get_be64(key.substr(4)));
    return false;
  });
  return out;
}

std::vector<outbox_entry> rocksdb_store::outbox(uint32_t partition) const {
  check_partition(partition);
  std::string lower;
  keys::partition_prefix(lower, partition);
  std::vector<outbox_entry> out;
  scan(cf_outbox, lower, partition_end(partition), [&](std::string_view key, std::string_view value) {
    out.push_back(codec::decode_outbox(value, {cf_name(cf_outbox), key}));
    return true;
  });
  return out;
}

std::vector<std::pair<uint32_t, uint64_t>> rocksdb_store::dedup_watermarks(uint32_t partition) const {
  check_partition(partition);
  std::string lower;
  keys::dedup_prefix(lower, partition);
  std::vector<std::pair<uint32_t, uint64_t>> out;
  scan(cf_partition, lower, keys::prefix_end(lower), [&](std::string_view key, std::string_view value) {
    if (key.size() != lower.size() + 4 || value.size() != 8)
      throw codec::corrupt({cf_name(cf_partition), key}, "dedup watermark", "unexpected key or value size");
    out.emplace_back(keys::get_be32(key.substr(lower.size())), keys::get_be64(value));
    return true;
  });
  return out;
}

bool rocksdb_store::purge(std::string_view id) {
  const uint32_t p = partition_of(id);
  std::lock_guard lock(partitions_[p].mutex);
  std::string key;
  keys::instance_key(key, p, id);
  auto value = get(cf_instances, key);
  if (!value) return false;
  auto row = codec::decode_row_summary(*value, {cf_name(cf_instances), key});
  if (!is_terminal(row.status))
    throw store_error(errc::not_terminal, "instance '" + std::string(id) + "' is " + to_string(row.status) +
                                              "; only Completed, Failed or Terminated instances can be purged");
  rocksdb::WriteBatch wb;
  wb.Delete(cf(cf_instances), key);
  keys::index_key(key, p, row.status, keys::encode_time(row.created_at), id);
  wb.Delete(cf(cf_index), key);
  delete_history(wb, p, id, row.history_chunks);
  delete_activities(wb, p, id);
  write(p, wb, "purge");
  return true;
}

}  // namespace perdure::storage
