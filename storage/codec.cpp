// Public codec entry points: records, queue entries and hub metadata <-> bytes.
#include "capnp_util.hpp"
#include "keys.hpp"

#include <kj/io.h>

#include <algorithm>
#include <iterator>

namespace perdure::storage::codec {

using namespace detail;

namespace {

// The first segment of every message encoded on this thread: allocating and zeroing one per value
// was a measurable part of a commit. MallocMessageBuilder needs it zeroed and re-zeroes the part it
// used when destroyed. 8 KiB holds any typical record or episode's history chunk; larger values
// continue in heap segments.
thread_local capnp::word reusable_first_segment[1024];

runtime_status read_status(uint8_t v) {
  if (v > static_cast<uint8_t>(runtime_status::continued_as_new))
    throw decode_error("runtime status " + std::to_string(v) + " is out of range");
  return static_cast<runtime_status>(v);
}

void write_record(schema::InstanceRecord::Builder b, const instance_record& r) {
  b.setInstanceId(text(r.instance_id));
  b.setExecutionId(text(r.execution_id));
  b.setName(text(r.name));
  b.setStatus(static_cast<uint8_t>(r.status));
  b.setCreatedAtNs(ns(r.created_at));
  b.setLastUpdatedAtNs(ns(r.last_updated_at));
  b.setInput(text(r.input));
  b.setOutput(text(r.output));
  b.setCustomStatus(text(r.custom_status));
  if (r.failure) write_failure(b.initFailure(), *r.failure);
  if (r.parent) write_parent(b.initParent(), *r.parent);
  b.setVersion(r.version);
  b.setTraceParent(text(r.trace_parent));
  b.setTraceState(text(r.trace_state));
  b.setTraceCallerSpanId(text(r.trace_caller_span_id));
}

instance_record read_record(schema::InstanceRecord::Reader r) {
  instance_record out;
  out.instance_id = str(r.getInstanceId());
  out.execution_id = str(r.getExecutionId());
  out.name = str(r.getName());
  out.status = read_status(r.getStatus());
  out.created_at = from_ns(r.getCreatedAtNs());
  out.last_updated_at = from_ns(r.getLastUpdatedAtNs());
  out.input = str(r.getInput());
  out.output = str(r.getOutput());
  out.custom_status = str(r.getCustomStatus());
  if (r.hasFailure()) out.failure = read_failure(r.getFailure());
  if (r.hasParent()) out.parent = read_parent(r.getParent());
  out.version = r.getVersion();
  out.trace_parent = str(r.getTraceParent());
  out.trace_state = str(r.getTraceState());
  out.trace_caller_span_id = str(r.getTraceCallerSpanId());
  return out;
}

template <typename Root, typename Fill>
void encode(std::string& out, Fill&& fill) {
  capnp::MallocMessageBuilder builder(kj::arrayPtr(reusable_first_segment, std::size(reusable_first_segment)));
  fill(builder.initRoot<Root>());
  to_bytes(builder, out);
}

}  // namespace

void detail::to_bytes(capnp::MallocMessageBuilder& builder, std::string& out) {
  auto segments = builder.getSegmentsForOutput();
  out.resize(capnp::computeSerializedSizeInWords(segments) * sizeof(capnp::word));
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, segments);
}

store_error corrupt(key_ref where, std::string_view what, std::string_view reason) {
  std::string m = "corrupt ";
  m.append(what).append(" under key '").append(keys::escape(where.key)).append("' in column family '");
  m.append(where.column_family).append("': ").append(reason);
  return store_error(errc::corrupt_record, std::move(m));
}

void encode_event(const history_event& event, std::string& out) {
  encode<schema::HistoryEvent>(out, [&](auto b) { write_event(b, event); });
}

history_event decode_event(std::string_view bytes, key_ref where) {
  return read<schema::HistoryEvent>(bytes, where, "history event", [](auto r) { return read_event(r); });
}

void encode_history_chunk(std::span<const history_event> events, std::string& out) {
  encode<schema::HistoryChunk>(out, [&](auto b) {
    auto list = b.initEvents(static_cast<unsigned>(events.size()));
    for (unsigned i = 0; i < list.size(); ++i) write_event(list[i], events[i]);
  });
}

void encode_history_chunks(std::span<const history_event> events, size_t max_chunk_bytes,
                           const std::function<void(const std::string&)>& emit, std::string& scratch) {
  encode_history_chunk(events, scratch);
  if (scratch.size() <= max_chunk_bytes || events.size() == 1) {
    emit(scratch);
    return;
  }
  // Parts of about half the limit by the average event size, so most fit at the first try; a part
  // of larger events than average is split again.
  const size_t parts = std::min(events.size(), scratch.size() / std::max<size_t>(max_chunk_bytes / 2, 1) + 1);
  const size_t per_part = (events.size() + parts - 1) / parts;
  for (size_t begin = 0; begin < events.size(); begin += per_part)
    encode_history_chunks(events.subspan(begin, std::min(per_part, events.size() - begin)), max_chunk_bytes, emit,
                          scratch);
}

void decode_history_chunk(std::string_view bytes, key_ref where, perdure::history& out) {
  read<schema::HistoryChunk>(bytes, where, "history chunk", [&](auto r) {
    auto events = r.getEvents();
    // commit() never writes an empty chunk: one is a sign of damage, not an episode.
    if (events.size() == 0) throw decode_error("history chunk has no events");
    // Every stored event takes at least a word; a damaged list pointer can claim millions of
    // elements that take none (found by fuzz_history_decoder: 24 bytes, 15 s and 1 GB to read).
    if (events.size() > bytes.size() / 8)
      throw decode_error("history chunk claims " + std::to_string(events.size()) + " events in " +
                         std::to_string(bytes.size()) + " bytes");
    for (auto e : events) out.push_back(read_event(e));
  });
}

void encode_message(const message& msg, std::string& out) {
  encode<schema::Message>(out, [&](auto b) { write_message(b, msg); });
}

message decode_message(std::string_view bytes, key_ref where) {
  return read<schema::Message>(bytes, where, "message", [](auto r) { return read_message(r); });
}

void encode_row(const instance_record& record, uint64_t history_chunks, std::string& out) {
  encode<schema::InstanceRow>(out, [&](auto b) {
    write_record(b.initRecord(), record);
    b.setHistoryChunks(history_chunks);
  });
}

instance_row decode_row(std::string_view bytes, key_ref where) {
  return read<schema::InstanceRow>(bytes, where, "instance record", [](auto r) {
    if (!r.hasRecord()) throw decode_error("instance row has no record");
    return instance_row{read_record(r.getRecord()), r.getHistoryChunks()};
  });
}

row_summary decode_row_summary(std::string_view bytes, key_ref where) {
  return read<schema::InstanceRow>(bytes, where, "instance record", [](auto r) {
    if (!r.hasRecord()) throw decode_error("instance row has no record");
    auto rec = r.getRecord();
    const runtime_status status = read_status(rec.getStatus());
    const bool waiting = rec.hasFailure() && is_waiting_for_version(status, str(rec.getFailure().getErrorType()));
    return row_summary{status, from_ns(rec.getCreatedAtNs()),
                       index_value{str(rec.getName()), rec.getVersion(), waiting}, r.getHistoryChunks()};
  });
}

void encode_activity(const activity_task& task, std::string& out) {
  encode<schema::ActivityTask>(out, [&](auto b) {
    b.setInstanceId(text(task.instance_id));
    b.setExecutionId(text(task.execution_id));
    b.setTaskId(task.task_id);
    b.setName(text(task.name));
    b.setInput(text(task.input));
    b.setScheduledAtNs(ns(task.scheduled_at));
    b.setAttempt(task.attempt);
    b.setFirstTaskId(task.first_task_id);
    b.setAttemptDeadlineNs(ns(task.timeouts.attempt_deadline));
    b.setCallDeadlineNs(ns(task.timeouts.call_deadline));
    b.setHeartbeatTimeoutNs(task.timeouts.heartbeat_timeout.count());
    b.setHeartbeatDetails(text(task.heartbeat_details));
    b.setAwaitingCompletion(task.awaiting_completion);
    b.setTraceParent(text(task.trace_parent));
  });
}

activity_task decode_activity(std::string_view bytes, key_ref where) {
  return read<schema::ActivityTask>(bytes, where, "activity task", [](auto r) {
    return activity_task{str(r.getInstanceId()), str(r.getExecutionId()), r.getTaskId(),
                         str(r.getName()),       str(r.getInput()),       from_ns(r.getScheduledAtNs()),
                         r.getAttempt(),         r.getFirstTaskId(),
                         activity_timeouts{from_ns(r.getAttemptDeadlineNs()), from_ns(r.getCallDeadlineNs()),
                                           std::chrono::nanoseconds{r.getHeartbeatTimeoutNs()}},
                         str(r.getHeartbeatDetails()),
                         r.getAwaitingCompletion(),
                         str(r.getTraceParent())};
  });
}

namespace {

template <class List>
void write_operations(List list, const std::vector<events::entity_operation>& operations) {
  for (unsigned i = 0; i < list.size(); ++i) write_entity_operation(list[i], operations[i]);
}

template <class List>
std::vector<events::entity_operation> read_operations(List list) {
  std::vector<events::entity_operation> operations;
  operations.reserve(list.size());
  for (auto op : list) operations.push_back(read_entity_operation(op));
  return operations;
}

}  // namespace

void encode_entity(const entity_commit& commit, std::string& out) {
  encode<schema::EntityRow>(out, [&](auto b) {
    if (commit.record) {  // a row without state (kept for a lock or scheduled signals) needs no name
      b.setName(text(commit.record->id.name));
      b.setKey(text(commit.record->id.key));
      b.setState(text(commit.record->state));
      b.setCreatedAtNs(ns(commit.record->created_at));
      b.setLastModifiedAtNs(ns(commit.record->last_modified_at));
    } else {
      b.setStateless(true);
    }
    if (!commit.scheduled.empty())
      write_operations(b.initScheduledOperations(static_cast<unsigned>(commit.scheduled.size())), commit.scheduled);
    if (!commit.lock) return;
    b.setLockInstanceId(text(commit.lock->instance_id));
    b.setLockExecutionId(text(commit.lock->execution_id));
    write_operations(b.initHeldOperations(static_cast<unsigned>(commit.lock->held.size())), commit.lock->held);
  });
}

stored_entity decode_entity(std::string_view bytes, key_ref where) {
  return read<schema::EntityRow>(bytes, where, "entity", [](auto r) {
    stored_entity stored;
    if (!r.getStateless())
      stored.record = entity_record{entity_id{str(r.getName()), str(r.getKey())}, str(r.getState()),
                                    from_ns(r.getCreatedAtNs()), from_ns(r.getLastModifiedAtNs())};
    stored.scheduled = read_operations(r.getScheduledOperations());
    if (r.getLockInstanceId().size() > 0)
      stored.lock = entity_lock{str(r.getLockInstanceId()), str(r.getLockExecutionId()),
                                read_operations(r.getHeldOperations())};
    return stored;
  });
}

void encode_timer(const timer_entry& timer, std::string& out) {
  encode<schema::TimerEntry>(out, [&](auto b) {
    b.setFireAtNs(ns(timer.fire_at));
    b.setInstanceId(text(timer.instance_id));
    b.setExecutionId(text(timer.execution_id));
    b.setTimerId(timer.timer_id);
    b.setCreatedAtNs(ns(timer.created_at));
  });
}

timer_entry decode_timer(std::string_view bytes, key_ref where) {
  return read<schema::TimerEntry>(bytes, where, "timer", [](auto r) {
    return timer_entry{from_ns(r.getFireAtNs()), str(r.getInstanceId()), str(r.getExecutionId()), r.getTimerId(),
                       from_ns(r.getCreatedAtNs())};
  });
}

void encode_outbox(const outbox_entry& entry, std::string& out) {
  encode<schema::OutboxEntry>(out, [&](auto b) {
    b.setSeq(entry.seq);
    b.setTargetPartition(entry.target_partition);
    write_message(b.initMessage(), entry.msg);
  });
}

outbox_entry decode_outbox(std::string_view bytes, key_ref where) {
  return read<schema::OutboxEntry>(bytes, where, "outbox entry", [](auto r) {
    if (!r.hasMessage()) throw decode_error("outbox entry has no message");
    return outbox_entry{r.getSeq(), r.getTargetPartition(), read_message(r.getMessage())};
  });
}

void encode_hub_meta(const hub_meta& meta, std::string& out) {
  encode<schema::HubMeta>(out, [&](auto b) {
    b.setFormatVersion(meta.format_version);
    b.setPartitionCount(meta.partition_count);
  });
}

hub_meta decode_hub_meta(std::string_view bytes, key_ref where) {
  return read<schema::HubMeta>(bytes, where, "hub metadata", [](auto r) {
    return hub_meta{r.getFormatVersion(), r.getPartitionCount()};
  });
}

void encode_epoch_start(uint64_t epoch, std::string_view owner, std::string& out) {
  encode<schema::LogRecord>(out, [&](auto b) {
    b.setEpoch(epoch);
    b.setEpochStart(text(std::string{owner}));
  });
}

void encode_batch_part(uint64_t epoch, uint32_t part, uint32_t parts, std::string_view bytes, std::string& out) {
  encode<schema::LogRecord>(out, [&](auto b) {
    b.setEpoch(epoch);
    auto batch = b.initBatch();
    batch.setPart(part);
    batch.setParts(parts);
    batch.setBytes(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  });
}

log_entry decode_log_entry(std::string_view bytes, key_ref where, std::string& storage) {
  return read<schema::LogRecord>(bytes, where, "log record", [&](auto r) {
    log_entry out;
    out.epoch = r.getEpoch();
    if (r.isEpochStart()) {
      out.epoch_start_owner = str(r.getEpochStart());
      if (out.epoch_start_owner.empty()) throw decode_error("epoch start without an owner");
      return out;
    }
    if (!r.isBatch()) throw decode_error("unknown log record kind");
    auto batch = r.getBatch();
    if (batch.getParts() == 0 || batch.getPart() >= batch.getParts())
      throw decode_error("batch part " + std::to_string(batch.getPart()) + " of " + std::to_string(batch.getParts()));
    out.part = batch.getPart();
    out.parts = batch.getParts();
    auto data = batch.getBytes();
    storage.assign(reinterpret_cast<const char*>(data.begin()), data.size());
    out.bytes = storage;
    return out;
  });
}

}  // namespace perdure::storage::codec
