// replicated_hub: the log-first write path of a led partition, a follower's apply, and taking a
// partition over (see replicated_hub.hpp).
#include "keys.hpp"
#include "rocksdb_store.hpp"
#include "snapshots.hpp"

#include <chrono>
#include <thread>

namespace perdure::storage {
namespace {

std::string log_name(uint32_t partition) { return "log of partition " + std::to_string(partition); }

std::string record_id(uint64_t epoch, uint64_t expected_last) {
  // One append per (epoch, position): only the epoch's owner appends after `expected_last`, so a
  // retry of the same append carries the same id and nothing else does.
  return "e" + std::to_string(epoch) + "." + std::to_string(expected_last);
}

// Whether a batch read from a log decodes, before it reaches the store: a malformed one would
// make the write fail, and a failed write stops every write of the store.
bool well_formed(const rocksdb::WriteBatch& batch) {
  struct ignore_all : rocksdb::WriteBatch::Handler {
    rocksdb::Status PutCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return {}; }
    rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return {}; }
    rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return {}; }
    rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return {}; }
    rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return {}; }
  } handler;
  return batch.Data().size() >= 12 && batch.Iterate(&handler).ok();
}

}  // namespace

void rocksdb_store::write(uint32_t partition, rocksdb::WriteBatch& batch, std::string_view operation) {
  if (!replicated_) return write(batch, operation);
  partition_state& state = partitions_[partition];
  if (!state.log)
    throw store_error(errc::fenced, "partition " + std::to_string(partition) +
                                        " is not led by this node (it follows it, or another owner fenced it): " +
                                        std::string(operation) + " refused");
  const uint64_t seq = append_to_log(partition, state, batch);
  put_log_position(batch, partition, {seq, state.epoch});
  write(batch, operation);
}

uint64_t rocksdb_store::append_to_log(uint32_t partition, partition_state& state, const rocksdb::WriteBatch& batch) {
  const std::string& rep = batch.Data();
  // The envelope and the message headers take a few hundred bytes of a record.
  const size_t part_bytes = std::max<size_t>(state.log->max_record_bytes() - 1024, 1024);
  const auto parts = static_cast<uint32_t>((rep.size() + part_bytes - 1) / part_bytes);
  std::string record;
  try {
    for (uint32_t part = 0; part < parts; ++part) {
      const std::string_view slice = std::string_view(rep).substr(part * part_bytes, part_bytes);
      codec::encode_batch_part(state.epoch, part, parts, slice, record);
      state.last_seq = state.log->append(record, state.last_seq, record_id(state.epoch, state.last_seq));
    }
  } catch (const store_error& e) {
    // Fenced: another owner appended. Unavailable: the record may be in the log or not. Either
    // way this node no longer knows the log's end, so it stops leading; whoever leads next
    // catches up from the log.
    state.log = nullptr;
    throw store_error(e.code(), "partition " + std::to_string(partition) + " stopped being led here: " + e.what());
  }
  return state.last_seq;
}

void rocksdb_store::put_log_position(rocksdb::WriteBatch& batch, uint32_t partition, log_position position) const {
  std::string key, value;
  keys::log_position_key(key, partition);
  keys::put_be64(value, position.seq);
  keys::put_be64(value, position.epoch);
  batch.Put(cf(cf_partition), key, value);
}

log_position rocksdb_store::applied_locked(uint32_t partition) const {
  std::string key;
  keys::log_position_key(key, partition);
  auto value = get(cf_partition, key);
  if (!value) return {};
  if (value->size() != 16) throw codec::corrupt({cf_name(cf_partition), key}, "log position", "not 16 bytes");
  return {keys::get_be64(std::string_view(*value).substr(0, 8)), keys::get_be64(std::string_view(*value).substr(8))};
}

log_position rocksdb_store::applied(uint32_t partition) const {
  check_partition(partition);
  std::lock_guard lock(partitions_[partition].mutex);
  return applied_locked(partition);
}

uint64_t rocksdb_store::read_from(uint32_t partition) const {
  check_partition(partition);
  const partition_state& state = partitions_[partition];
  std::lock_guard lock(state.mutex);
  return std::max(applied_locked(partition).seq, state.pending_through) + 1;
}

void rocksdb_store::apply(uint32_t partition, const std::vector<log_record>& records) {
  check_partition(partition);
  partition_state& state = partitions_[partition];
  std::lock_guard lock(state.mutex);
  if (state.log)
    throw store_error(errc::invalid_argument,
                      "partition " + std::to_string(partition) + " is led by this node: it is not applied from its log");
  uint64_t read_through = std::max(applied_locked(partition).seq, state.pending_through);
  std::string storage;
  for (const log_record& record : records) {
    if (record.seq <= read_through) continue;
    read_through = record.seq;
    const std::string where = "record " + std::to_string(record.seq);
    const auto entry = codec::decode_log_entry(record.bytes, {log_name(partition), where}, storage);
    rocksdb::WriteBatch batch;
    if (entry.is_epoch_start()) {
      // A batch whose parts stopped before its last one was cut short by its owner's end: the new
      // owner fenced it, nobody was told it committed, and it is dropped.
      state.pending_parts.clear();
      state.pending_next_part = 0;
      state.pending_through = 0;
      put_log_position(batch, partition, {record.seq, entry.epoch});
      write(batch, "apply an epoch start");
      continue;
    }
    if (entry.part == 0) {
      state.pending_parts.clear();
    } else if (entry.part != state.pending_next_part) {
      throw store_error(errc::corrupt_record, log_name(partition) + " holds part " + std::to_string(entry.part) + " of " +
                                                  std::to_string(entry.parts) + " at record " +
                                                  std::to_string(record.seq) + " where part " +
                                                  std::to_string(state.pending_next_part) + " was due");
    }
    state.pending_parts.append(entry.bytes);
    state.pending_next_part = entry.part + 1;
    state.pending_through = record.seq;
    if (entry.part + 1 < entry.parts) continue;
    rocksdb::WriteBatch whole(std::move(state.pending_parts));
    state.pending_parts = {};
    if (!well_formed(whole))
      throw store_error(errc::corrupt_record, log_name(partition) + " holds a batch ending at record " +
                                                  std::to_string(record.seq) + " that is not a RocksDB write batch");
    state.pending_next_part = 0;
    state.pending_through = 0;
    put_log_position(whole, partition, {record.seq, entry.epoch});
    write(whole, "apply a log record");
  }
}

void rocksdb_store::lead(uint32_t partition, partition_log& log, uint64_t epoch) {
  check_partition(partition);
  partition_state& state = partitions_[partition];
  std::lock_guard lock(state.mutex);
  state.log = &log;
  state.epoch = epoch;
  state.last_seq = applied_locked(partition).seq;
  state.pending_parts.clear();
  state.pending_next_part = 0;
  state.pending_through = 0;
  load_counter(partition);  // a follower's applies moved it
}

void rocksdb_store::follow(uint32_t partition) {
  check_partition(partition);
  std::lock_guard lock(partitions_[partition].mutex);
  partitions_[partition].log = nullptr;
}

bool rocksdb_store::leads(uint32_t partition) const {
  check_partition(partition);
  std::lock_guard lock(partitions_[partition].mutex);
  return partitions_[partition].log != nullptr;
}

size_t catch_up(replicated_hub& hub, uint32_t partition, partition_log& log, snapshot_store* snapshots) {
  constexpr size_t records_per_read = 64;
  size_t read = 0;
  for (;;) {
    const uint64_t from = hub.read_from(partition);
    auto records = log.read(from, records_per_read);
    // A read that starts later than asked may have met a trim (sequences may also just skip).
    if (!records.empty() && records.front().seq > from &&
        install_snapshot_if_trimmed(hub, partition, log, from, snapshots))
      continue;
    read += records.size();
    if (!records.empty()) hub.apply(partition, records);
    // A short read reached the end the log had when it began: asking again would cost the log a
    // request to say so.
    if (records.size() < records_per_read) return read;
  }
}

uint64_t records_behind(replicated_hub& hub, uint32_t partition, partition_log& log) {
  const uint64_t applied = hub.read_from(partition) - 1;
  const uint64_t last = log.last_seq();
  // Acknowledged records are gone: the log's servers lost more copies than their quorum survives
  // (two of three stores lost before the first caught up). Leading would write over the hole and
  // following would wait for records that never come, so the partition stops with this error.
  if (last < applied)
    throw store_error(errc::log_lost_records,
                      "the log of partition " + std::to_string(partition) + " ends at record " + std::to_string(last) +
                          " but this node applied records up to " + std::to_string(applied) +
                          " from it: its servers lost acknowledged records; see docs/reliability.md, "
                          "\"A partition log that lost records\"");
  return last - applied;
}

void take_over(replicated_hub& hub, uint32_t partition, partition_log& log, uint64_t epoch, std::string_view owner,
               snapshot_store* snapshots) {
  // Bounded: an old owner that keeps appending is refused as soon as this append lands, and it
  // lands once it reads the log's end before the next of the old owner's appends.
  constexpr int attempts = 100;
  std::string record;
  codec::encode_epoch_start(epoch, owner, record);
  hub.follow(partition);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    catch_up(hub, partition, log, snapshots);
    // The log's compare-and-append fences older writers, not older epochs: a node acting on an
    // assignment it read before it stalled (SIGSTOP, a long pause) would otherwise append an
    // epoch start of its old epoch after the new owner's and fence the rightful owner.
    if (const uint64_t logged = hub.applied(partition).epoch; logged > epoch)
      throw store_error(errc::fenced, "partition " + std::to_string(partition) + " was not taken over in epoch " +
                                          std::to_string(epoch) + ": its log is led in epoch " +
                                          std::to_string(logged) + " already (this node's assignment is stale)");
    const uint64_t last = hub.read_from(partition) - 1;
    uint64_t seq = 0;
    try {
      seq = log.append(record, last, "e" + std::to_string(epoch) + ".start." + std::to_string(last));
    } catch (const store_error& e) {
      if (e.code() != errc::fenced) throw;
      records_behind(hub, partition, log);  // refused because another owner appended, not because records are gone
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 20));
      continue;
    }
    hub.apply(partition, {log_record{seq, record}});
    hub.lead(partition, log, epoch);
    return;
  }
  throw store_error(errc::unavailable, "could not take partition " + std::to_string(partition) + " over in epoch " +
                                           std::to_string(epoch) + ": its log kept growing under another writer");
}

}  // namespace perdure::storage
