// commit(): the hot path. One WriteBatch per call, validated first, written with one (synced) Write.
#include "keys.hpp"
#include "rocksdb_store.hpp"
#include "validate.hpp"

#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>

#include <unordered_map>

namespace perdure::storage {

namespace {

// An episode's events are one history value up to this size, and split into consecutive values
// beyond it (a fan-out of a million activities appends ~100 MB): a value is read whole into memory,
// twice (RocksDB's copy and an aligned one), and is one WAL record.
constexpr size_t max_history_chunk_bytes = 1 << 20;

// Reusable buffers, so an episode costs no allocation for keys and values once they have grown.
struct scratch {
  std::string key;
  std::string value;
};

// RocksDB counts every key comparison in a thread-local perf context unless the thread's perf
// level says not to (the default counts), and memtable inserts are mostly key comparisons: the
// counting was about a tenth of a commit's instructions. Restores the caller's level afterwards.
class perf_counting_off {
 public:
  perf_counting_off() : before_(rocksdb::GetPerfLevel()) { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }
  ~perf_counting_off() { rocksdb::SetPerfLevel(before_); }
  perf_counting_off(const perf_counting_off&) = delete;
  perf_counting_off& operator=(const perf_counting_off&) = delete;

 private:
  rocksdb::PerfLevel before_;
};

}  // namespace

commit_result rocksdb_store::commit(const commit_batch& b) {
  validate(b, partition_count_, max_payload_bytes_);
  const uint32_t p = b.partition;
  partition_state& state = partitions_[p];
  std::lock_guard lock(state.mutex);
  perf_counting_off no_perf_counting;

  rocksdb::WriteBatch wb;
  commit_result result;
  scratch s;
  uint64_t next_outbox = state.next_outbox;
  // Rows already written by this batch: a read from RocksDB would not see them yet.
  std::unordered_map<std::string_view, codec::row_summary> written;
  rocksdb::ReadOptions ro;
  rocksdb::PinnableSlice stored;
  auto put_outbox = [&](const outbox_entry& o) {
    outbox_entry& e = result.outbox.emplace_back(o);
    e.seq = next_outbox++;
    e.msg.source_partition = static_cast<int32_t>(p);
    e.msg.source_seq = e.seq;
    keys::seq_key(s.key, p, e.seq);
    codec::encode_outbox(e, s.value);
    wb.Put(cf(cf_outbox), s.key, s.value);
  };

  // Before the episodes: one of them that finishes the attempt, or starts a new execution, removes it.
  for (const activity_task& a : b.awaiting_activities) {
    keys::activity_key(s.key, p, a.instance_id, a.task_id);
    codec::encode_activity(a, s.value);
    wb.Put(cf(cf_activities), s.key, s.value);
  }

  for (const episode_commit& ep : b.episodes) {
    const std::string& id = ep.instance_id;
    const instance_record& r = ep.record;
    keys::instance_key(s.key, p, id);
    std::optional<codec::row_summary> prev;
    if (auto it = written.find(id); it != written.end()) {
      prev = it->second;
    } else {
      stored.Reset();
      auto status = db_->Get(ro, cf(cf_instances), s.key, &stored);
      if (!status.IsNotFound()) {
        check(status, "read of an instance record");
        prev = codec::decode_row_summary(stored.ToStringView(), {cf_name(cf_instances), s.key});
      }
    }

    uint64_t chunks = prev ? prev->history_chunks : 0;
    if (ep.new_execution) {
      delete_history(wb, p, id, chunks);
      if (prev) delete_activities(wb, p, id);  // left over by the previous execution
      chunks = 0;
    }
    if (!ep.appended.empty()) {
      codec::encode_history_chunks(ep.appended, max_history_chunk_bytes, [&](const std::string& chunk) {
        keys::history_key(s.key, p, id, chunks++);
        wb.Put(cf(cf_history), s.key, chunk);
      }, s.value);
    }

    keys::instance_key(s.key, p, id);
    codec::encode_row(r, chunks, s.value);
    wb.Put(cf(cf_instances), s.key, s.value);

    // Most episodes leave status, creation time and what the index value holds alone: then the
    // index entry stands.
    index_value indexed = index_value_of(r);
    if (!prev || prev->status != r.status || prev->created_at != r.created_at || prev->index != indexed) {
      if (prev) {
        keys::index_key(s.key, p, prev->status, keys::encode_time(prev->created_at), id);
        wb.Delete(cf(cf_index), s.key);
      }
      keys::index_key(s.key, p, r.status, keys::encode_time(r.created_at), id);
      encode_index_value(indexed, s.value);
      wb.Put(cf(cf_index), s.key, s.value);
    }
    written.insert_or_assign(id, codec::row_summary{r.status, r.created_at, std::move(indexed), chunks});

    // Removals before insertions: an episode that continues as new may schedule task ids that a
    // result of the previous execution, received in the same episode, releases (same key).
    for (int32_t task_id : ep.finished_activities) {
      keys::activity_key(s.key, p, id, task_id);
      wb.Delete(cf(cf_activities), s.key);
    }
    for (const activity_task& a : ep.scheduled_activities) {
      keys::activity_key(s.key, p, id, a.task_id);
      codec::encode_activity(a, s.value);
      wb.Put(cf(cf_activities), s.key, s.value);
    }
    for (const timer_entry& t : ep.fired_timers) {
      keys::timer_key(s.key, p, t.fire_at, id, t.timer_id);
      wb.Delete(cf(cf_timers), s.key);
    }
    for (const timer_entry& t : ep.new_timers) {
      keys::timer_key(s.key, p, t.fire_at, id, t.timer_id);
      codec::encode_timer(t, s.value);
      wb.Put(cf(cf_timers), s.key, s.value);
    }
    for (const outbox_entry& o : ep.outbox) put_outbox(o);
  }
  for (const entity_commit& ec : b.entities) {
    keys::entity_key(s.key, p, ec.instance_id);
    if (ec.record || ec.lock || !ec.scheduled.empty()) {
      codec::encode_entity(ec, s.value);
      wb.Put(cf(cf_entities), s.key, s.value);
    } else {
      wb.Delete(cf(cf_entities), s.key);
    }
    for (const timer_entry& t : ec.fired_timers) {
      keys::timer_key(s.key, p, t.fire_at, ec.instance_id, t.timer_id);
      wb.Delete(cf(cf_timers), s.key);
    }
    for (const timer_entry& t : ec.new_timers) {
      keys::timer_key(s.key, p, t.fire_at, ec.instance_id, t.timer_id);
      codec::encode_timer(t, s.value);
      wb.Put(cf(cf_timers), s.key, s.value);
    }
    for (const outbox_entry& o : ec.outbox) put_outbox(o);
  }

  for (const timer_entry& t : b.removed_timers) {
    keys::timer_key(s.key, p, t.fire_at, t.instance_id, t.timer_id);
    wb.Delete(cf(cf_timers), s.key);
  }
  for (const auto& [id, task_id] : b.removed_activities) {
    keys::activity_key(s.key, p, id, task_id);
    wb.Delete(cf(cf_activities), s.key);
  }
  for (uint64_t seq : b.delivered_outbox) {
    keys::seq_key(s.key, p, seq);
    wb.Delete(cf(cf_outbox), s.key);
  }
  for (const auto& [source, seq] : b.dedup_watermarks) {
    keys::dedup_key(s.key, p, source);
    s.value.clear();
    keys::put_be64(s.value, seq);
    wb.Put(cf(cf_partition), s.key, s.value);
  }
  // The counter moves in the same batch as the entries it numbered, so a seq is never reused.
  if (next_outbox != state.next_outbox) {
    keys::outbox_counter_key(s.key, p);
    s.value.clear();
    keys::put_be64(s.value, next_outbox);
    wb.Put(cf(cf_partition), s.key, s.value);
  }

  write(p, wb, "commit");
  state.next_outbox = next_outbox;
  return result;
}

}  // namespace perdure::storage
