// Entity reads: one entity by id, and listings ordered by (name, key).
//
// Entity keys are [p][@name@key], so one partition's entities of one name (with a key prefix) are one
// key range; a listing takes the next page's worth of keys from each partition's range, merges
// them by id and reads only the records of the page it returns.
#include "codec.hpp"
#include "keys.hpp"
#include "page_token.hpp"
#include "rocksdb_store.hpp"

#include <rocksdb/snapshot.h>

#include <algorithm>

namespace perdure::storage {

std::string continuation_token_after(const entity_record& last) {
  return encode_page_token(page_token_kind::entities, last.id.instance_id());
}

std::optional<entity_record> rocksdb_store::entity(std::string_view entity_instance_id) const {
  return stored_entity_of(entity_instance_id).record;
}

stored_entity rocksdb_store::stored_entity_of(std::string_view entity_instance_id) const {
  std::string key;
  keys::entity_key(key, partition_of(entity_instance_id), entity_instance_id);
  auto value = get(cf_entities, key);
  if (!value) return {};
  return codec::decode_entity(*value, {cf_name(cf_entities), key});
}

entity_page rocksdb_store::list_entities(const entity_query& q) const {
  std::vector<uint32_t> every(partition_count_);
  for (uint32_t p = 0; p < partition_count_; ++p) every[p] = p;
  return list_entities(q, every);
}

entity_page rocksdb_store::list_entities(const entity_query& q, const std::vector<uint32_t>& partitions) const {
  if (q.page_size == 0) throw store_error(errc::invalid_argument, "entity_query::page_size must be at least 1");
  if (q.name.empty() && !q.key_prefix.empty())
    throw store_error(errc::invalid_argument, "an entity listing filters by key prefix only together with a name");
  const std::string prefix = q.name.empty() ? std::string("@") : entity_id{q.name, q.key_prefix}.instance_id();
  std::string after;
  if (!q.continuation_token.empty()) after = decode_page_token(page_token_kind::entities, q.continuation_token);

  rocksdb::ManagedSnapshot snapshot(db_);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot.snapshot();
  std::vector<std::pair<std::string, uint32_t>> found;  // (id, partition)
  std::string lower, upper;
  for (uint32_t p : partitions) {
    check_partition(p);
    keys::entity_key(lower, p, prefix);
    upper = keys::prefix_end(lower);
    if (!after.empty() && after > prefix) keys::entity_key(lower, p, after);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(cf_entities)));
    size_t taken = 0;
    for (it->Seek(lower); it->Valid() && taken <= q.page_size; it->Next()) {
      auto id = it->key().ToStringView().substr(4);
      if (!after.empty() && id <= after) continue;
      found.emplace_back(std::string(id), p);
      ++taken;
    }
    check(it->status(), "entity scan");
  }
  std::sort(found.begin(), found.end());
  entity_page page;
  const bool more = found.size() > q.page_size;
  if (more) found.resize(q.page_size);
  std::string key;
  for (const auto& [id, p] : found) {
    keys::entity_key(key, p, id);
    auto value = get(cf_entities, key, snapshot.snapshot());
    if (!value) throw store_error(errc::corrupt_record, "entity key '" + keys::escape(key) + "' vanished under a snapshot");
    // A row kept only for a critical section's lock is no entity a client sees.
    if (auto stored = codec::decode_entity(*value, {cf_name(cf_entities), key}); stored.record)
      page.records.push_back(std::move(*stored.record));
  }
  if (more) page.continuation_token = encode_page_token(page_token_kind::entities, found.back().first);
  return page;
}

}  // namespace perdure::storage
