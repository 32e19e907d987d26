// list(): a merge of per-partition, per-status index ranges.
//
// Index keys are [p][status][created][id] with the orchestration name as value, so every filter
// (statuses, created range, name, id prefix) is evaluated on index entries alone; records are
// read only for the page returned. Each (partition, status) range is already ordered by
// (created, id), so a k-way merge yields the global order.
#include "index_value.hpp"
#include "keys.hpp"
#include "page_token.hpp"
#include "rocksdb_store.hpp"

#include <rocksdb/snapshot.h>

#include <algorithm>
#include <queue>

namespace perdure::storage {

namespace {

constexpr size_t index_header = 4 + 1 + 8;  // partition, status, created

std::string encode_token(uint64_t created, std::string_view id) {
  std::string position;
  keys::put_be64(position, created);
  position.append(id);
  return encode_page_token(page_token_kind::instances, position);
}

std::pair<uint64_t, std::string> decode_token(std::string_view token) {
  const std::string position = decode_page_token(page_token_kind::instances, token);
  if (position.size() < 9)
    throw store_error(errc::invalid_argument, "malformed continuation token (too short); pass the token of the previous page as is");
  return {keys::get_be64(position), position.substr(8)};
}

// One (partition, status) range of the index.
struct cursor {
  std::string upper;
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;
  uint64_t created() const { return keys::get_be64(it->key().ToStringView().substr(5)); }
  std::string_view id() const { return it->key().ToStringView().substr(index_header); }
};

}  // namespace

std::string continuation_token_after(const instance_record& last) {
  return encode_token(keys::encode_time(last.created_at), last.instance_id);
}

std::vector<rocksdb_store::match> rocksdb_store::matches(const instance_query& q, const std::vector<uint32_t>& partitions,
                                                        const std::optional<match>& after,
                                                         size_t limit, const rocksdb::Snapshot* snap) const {
  bool wanted[all_runtime_statuses.size()] = {};
  for (runtime_status s : q.statuses) wanted[static_cast<size_t>(s)] = true;
  if (q.statuses.empty()) std::fill(std::begin(wanted), std::end(wanted), true);
  uint64_t from = q.created_from ? keys::encode_time(*q.created_from) : 0;
  std::optional<uint64_t> to;
  if (q.created_to) to = keys::encode_time(*q.created_to);
  std::vector<match> out;
  if ((to && *to <= from) || limit == 0) return out;

  std::vector<std::unique_ptr<cursor>> cursors;
  auto accept = [&](const cursor& c) {  // positions c on its next entry passing the filters
    for (; c.it->Valid(); c.it->Next()) {
      auto key = c.it->key().ToStringView();
      if (key.size() < index_header) throw codec::corrupt({cf_name(cf_index), key}, "index entry", "key too short");
      if (after && c.created() == after->created && c.id() <= after->instance_id) continue;
      if (!c.id().starts_with(q.instance_id_prefix)) continue;
      if (!q.name.empty() || q.version || q.waiting_for_version) {
        const index_value indexed = decode_index_value(c.it->value().ToStringView());
        if (!q.name.empty() && indexed.name != q.name) continue;
        if (q.version && indexed.version != *q.version) continue;
        if (q.waiting_for_version && !indexed.waiting_for_version) continue;
      }
      return true;
    }
    check(c.it->status(), "index scan");
    return false;
  };
  auto later = [](const cursor* a, const cursor* b) {
    auto ca = a->created(), cb = b->created();
    return ca != cb ? ca > cb : a->id() > b->id();
  };
  std::priority_queue<cursor*, std::vector<cursor*>, decltype(later)> heap(later);

  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string start;
  for (uint32_t p : partitions) {
    check_partition(p);
    for (runtime_status s : all_runtime_statuses) {
      if (!wanted[static_cast<size_t>(s)]) continue;
      auto c = std::make_unique<cursor>();
      keys::index_prefix(start, p, s);
      if (to) {
        c->upper = start;
        keys::put_be64(c->upper, *to);
      } else {
        c->upper = keys::prefix_end(start);
      }
      c->upper_slice = rocksdb::Slice(c->upper);
      if (after && after->created >= from) {
        keys::put_be64(start, after->created);
        start.append(after->instance_id);
      } else {
        keys::put_be64(start, from);
      }
      ro.iterate_upper_bound = &c->upper_slice;
      c->it.reset(db_->NewIterator(ro, cf(cf_index)));
      c->it->Seek(start);
      if (accept(*c)) heap.push(c.get());
      cursors.push_back(std::move(c));
    }
  }
  while (!heap.empty() && out.size() < limit) {
    cursor* c = heap.top();
    heap.pop();
    out.push_back({c->created(), std::string(c->id()),
                   static_cast<runtime_status>(c->it->key().ToStringView()[4])});
    c->it->Next();
    if (accept(*c)) heap.push(c);
  }
  return out;
}

instance_page rocksdb_store::list(const instance_query& q) const {
  std::vector<uint32_t> every(partition_count_);
  for (uint32_t p = 0; p < partition_count_; ++p) every[p] = p;
  return list(q, every);
}

instance_page rocksdb_store::list(const instance_query& q, const std::vector<uint32_t>& partitions) const {
  if (q.page_size == 0) throw store_error(errc::invalid_argument, "instance_query::page_size must be at least 1");
  std::optional<match> after;
  if (!q.continuation_token.empty()) {
    auto [created, id] = decode_token(q.continuation_token);
    after = match{created, std::move(id), runtime_status::pending};
  }
  rocksdb::ManagedSnapshot snapshot(db_);
  auto found = matches(q, partitions, after, q.page_size + 1, snapshot.snapshot());
  instance_page page;
  bool more = found.size() > q.page_size;
  if (more) found.pop_back();
  std::string key;
  page.records.reserve(found.size());
  for (const match& m : found) {
    keys::instance_key(key, partition_of(m.instance_id), m.instance_id);
    auto value = get(cf_instances, key, snapshot.snapshot());
    if (!value)
      throw store_error(errc::corrupt_record, "index entry for instance '" + keys::escape(m.instance_id) +
                                                  "' has no instance record under key '" + keys::escape(key) + "'");
    page.records.push_back(codec::decode_row(*value, {cf_name(cf_instances), key}).record);
  }
  if (more) page.continuation_token = encode_token(found.back().created, found.back().instance_id);
  return page;
}

// Index entries only: a node start costs one scan of the partition's unfinished index ranges, no
// record read.
std::vector<unfinished_instance> rocksdb_store::unfinished_instances(uint32_t partition) const {
  check_partition(partition);
  std::vector<unfinished_instance> found;
  std::string start, upper;
  for (runtime_status s : all_runtime_statuses) {
    if (is_terminal(s)) continue;
    keys::index_prefix(start, partition, s);
    upper = keys::prefix_end(start);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(cf_index)));
    for (it->Seek(start); it->Valid(); it->Next()) {
      const auto key = it->key().ToStringView();
      if (key.size() < index_header) throw codec::corrupt({cf_name(cf_index), key}, "index entry", "key too short");
      index_value indexed = decode_index_value(it->value().ToStringView());
      found.push_back({std::string(key.substr(index_header)), std::move(indexed.name), indexed.version,
                       indexed.waiting_for_version});
    }
    check(it->status(), "index scan");
  }
  return found;
}

}  // namespace perdure::storage
