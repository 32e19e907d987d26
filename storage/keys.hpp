// Key layout of the store. Every key starts with the 4-byte big-endian partition number, so one
// partition's data is one contiguous key range in each column family. Numbers are big-endian (and
// signed ones have their sign bit flipped) so that bytewise order equals numeric order.
//
//   history     [p][idlen:4][id][chunk:8]               -> HistoryChunk (one episode's events)
//   instances   [p][id]                                 -> InstanceRow
//   index       [p][status:1][created:8][id]            -> orchestration name
//   entities    [p][id]                                 -> EntityRow (id in instance-id form, "@name@key")
//   activities  [p][idlen:4][id][task_id:4]             -> ActivityTask
//   timers      [p][fire_at:8][idlen:4][id][timer_id:4] -> TimerEntry
//   outbox      [p][seq:8]                              -> OutboxEntry
//   inbox       nothing (see rocksdb_store.hpp); ['i'] in `partition` was its counter: not to reuse
//   partition   [p]['o']                                -> next outbox seq (8)
//               [p]['d'][source:4]                      -> dedup watermark (8)
//               [p]['l']                                -> applied log record seq (8), its epoch (8); cluster mode
//   default     "hub"                                   -> HubMeta
//
// Ids sit last in instance and index keys, so those sort by id bytes (prefix filters are one
// range); elsewhere they are length-prefixed so one instance's keys form an exact prefix.
#pragma once

#include <perdure/history.hpp>
#include <perdure/instance.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace perdure::storage::keys {

/// FNV-1a 64 of the id's bytes, modulo the partition count. Stable across builds and machines.
uint32_t partition_of(std::string_view instance_id, uint32_t partition_count) noexcept;

void put_be32(std::string& out, uint32_t v);
void put_be64(std::string& out, uint64_t v);
uint32_t get_be32(std::string_view in) noexcept;  // reads in[0..4)
uint64_t get_be64(std::string_view in) noexcept;  // reads in[0..8)

/// A time as an unsigned number whose order is the time's order.
uint64_t encode_time(time_point t) noexcept;
time_point decode_time(uint64_t v) noexcept;

// Each builder replaces `out` with the key (callers reuse one buffer on the hot path).
void partition_prefix(std::string& out, uint32_t p);
void history_prefix(std::string& out, uint32_t p, std::string_view id);
void history_key(std::string& out, uint32_t p, std::string_view id, uint64_t chunk);
void instance_key(std::string& out, uint32_t p, std::string_view id);
void entity_key(std::string& out, uint32_t p, std::string_view id);
void index_prefix(std::string& out, uint32_t p, runtime_status s);
void index_key(std::string& out, uint32_t p, runtime_status s, uint64_t created, std::string_view id);
void activity_prefix(std::string& out, uint32_t p, std::string_view id);
void activity_key(std::string& out, uint32_t p, std::string_view id, int32_t task_id);
void timer_key(std::string& out, uint32_t p, time_point fire_at, std::string_view id, int32_t timer_id);
void seq_key(std::string& out, uint32_t p, uint64_t seq);  // outbox
void outbox_counter_key(std::string& out, uint32_t p);
void log_position_key(std::string& out, uint32_t p);
void dedup_prefix(std::string& out, uint32_t p);
void dedup_key(std::string& out, uint32_t p, uint32_t source_partition);
inline constexpr std::string_view hub_key = "hub";

/// The smallest key greater than every key starting with `prefix` (empty: no such bound).
std::string prefix_end(std::string_view prefix);

/// A key in readable form: printable ASCII as is, other bytes as \xHH.
std::string escape(std::string_view key);

}  // namespace perdure::storage::keys
