// Conversion between Perdure's value types and the Cap'n Proto bytes stored in RocksDB.
//
// Values are unpacked Cap'n Proto messages. Decoding treats the bytes as untrusted: they are copied
// to aligned memory, read with a traversal limit, and every failure (bad framing, bad pointer,
// unknown union member, status out of range) becomes store_error(corrupt_record) naming the key.
#pragma once

#include "index_value.hpp"

#include <perdure/storage/store.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace perdure::storage::codec {

/// Where a value was read from, for error messages.
struct key_ref {
  std::string_view column_family;
  std::string_view key;
};

// Every encode_* replaces `out` with the encoded bytes (callers reuse one buffer on the hot path).
void encode_event(const history_event& event, std::string& out);
history_event decode_event(std::string_view bytes, key_ref where);

/// The events one episode appended, stored as one history value (a non-empty HistoryChunk).
void encode_history_chunk(std::span<const history_event> events, std::string& out);
/// The events one episode appended as consecutive chunks, each at most `max_chunk_bytes` (an event
/// larger than that alone is a chunk of its own): one chunk, the bytes of encode_history_chunk,
/// when they fit. Calls emit(bytes) for each chunk in order; `scratch` holds the bytes.
void encode_history_chunks(std::span<const history_event> events, size_t max_chunk_bytes,
                           const std::function<void(const std::string&)>& emit, std::string& scratch);
/// Appends the chunk's events to `out`.
void decode_history_chunk(std::string_view bytes, key_ref where, perdure::history& out);

void encode_message(const message& msg, std::string& out);
message decode_message(std::string_view bytes, key_ref where);

struct instance_row {
  instance_record record;
  uint64_t history_chunks = 0;  // history values of the current execution
};
void encode_row(const instance_record& record, uint64_t history_chunks, std::string& out);
instance_row decode_row(std::string_view bytes, key_ref where);

/// What commit() and purge() need of a stored row, without copying its payloads.
struct row_summary {
  runtime_status status = runtime_status::pending;
  time_point created_at{};
  index_value index;  // what the record's index entry holds
  uint64_t history_chunks = 0;
};
row_summary decode_row_summary(std::string_view bytes, key_ref where);

/// An entity's row: its record and its lock; `commit` must hold one of them.
void encode_entity(const entity_commit& commit, std::string& out);
stored_entity decode_entity(std::string_view bytes, key_ref where);

void encode_activity(const activity_task& task, std::string& out);
activity_task decode_activity(std::string_view bytes, key_ref where);

void encode_timer(const timer_entry& timer, std::string& out);
timer_entry decode_timer(std::string_view bytes, key_ref where);

void encode_outbox(const outbox_entry& entry, std::string& out);
outbox_entry decode_outbox(std::string_view bytes, key_ref where);

struct hub_meta {
  uint32_t format_version = 1;
  uint32_t partition_count = 0;
};
void encode_hub_meta(const hub_meta& meta, std::string& out);
hub_meta decode_hub_meta(std::string_view bytes, key_ref where);

/// A partition log's record: an epoch start (the owner's node id) or one part of a WriteBatch.
struct log_entry {
  uint64_t epoch = 0;
  std::string epoch_start_owner;  // set for an epoch start, empty for a batch part
  uint32_t part = 0;
  uint32_t parts = 0;  // 0 for an epoch start
  std::string_view bytes;  // a batch part's slice; points into the decoded record's storage
  bool is_epoch_start() const noexcept { return parts == 0; }
};
void encode_epoch_start(uint64_t epoch, std::string_view owner, std::string& out);
void encode_batch_part(uint64_t epoch, uint32_t part, uint32_t parts, std::string_view bytes, std::string& out);
/// `storage` receives a copy of the part's bytes (log_entry::bytes points into it).
log_entry decode_log_entry(std::string_view bytes, key_ref where, std::string& storage);

/// store_error(corrupt_record) naming the value's kind, its key (escaped) and the reason.
store_error corrupt(key_ref where, std::string_view what, std::string_view reason);

}  // namespace perdure::storage::codec
