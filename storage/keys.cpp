#include "keys.hpp"

#include <fmt/format.h>

#include <iterator>

namespace perdure::storage::keys {

namespace {
constexpr uint64_t sign_bit64 = uint64_t{1} << 63;
constexpr uint32_t sign_bit32 = uint32_t{1} << 31;

void put_id(std::string& out, std::string_view id) {
  put_be32(out, static_cast<uint32_t>(id.size()));
  out.append(id);
}
}  // namespace

uint32_t partition_of(std::string_view instance_id, uint32_t partition_count) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : instance_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return partition_count == 0 ? 0 : static_cast<uint32_t>(h % partition_count);
}

void put_be32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out.append(b, 4);
}

void put_be64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  out.append(b, 8);
}

uint32_t get_be32(std::string_view in) noexcept {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint64_t get_be64(std::string_view in) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint64_t encode_time(time_point t) noexcept {
  return static_cast<uint64_t>(t.time_since_epoch().count()) ^ sign_bit64;
}

time_point decode_time(uint64_t v) noexcept {
  return time_point{std::chrono::nanoseconds{static_cast<int64_t>(v ^ sign_bit64)}};
}

void partition_prefix(std::string& out, uint32_t p) {
  out.clear();
  put_be32(out, p);
}

void history_prefix(std::string& out, uint32_t p, std::string_view id) {
  partition_prefix(out, p);
  put_id(out, id);
}

void history_key(std::string& out, uint32_t p, std::string_view id, uint64_t chunk) {
  history_prefix(out, p, id);
  put_be64(out, chunk);
}

void instance_key(std::string& out, uint32_t p, std::string_view id) {
  partition_prefix(out, p);
  out.append(id);
}

void entity_key(std::string& out, uint32_t p, std::string_view id) {
  partition_prefix(out, p);
  out.append(id);
}

void index_prefix(std::string& out, uint32_t p, runtime_status s) {
  partition_prefix(out, p);
  out.push_back(static_cast<char>(s));
}

void index_key(std::string& out, uint32_t p, runtime_status s, uint64_t created, std::string_view id) {
  index_prefix(out, p, s);
  put_be64(out, created);
  out.append(id);
}

void activity_prefix(std::string& out, uint32_t p, std::string_view id) {
  partition_prefix(out, p);
  put_id(out, id);
}

void activity_key(std::string& out, uint32_t p, std::string_view id, int32_t task_id) {
  activity_prefix(out, p, id);
  put_be32(out, static_cast<uint32_t>(task_id) ^ sign_bit32);
}

void timer_key(std::string& out, uint32_t p, time_point fire_at, std::string_view id, int32_t timer_id) {
  partition_prefix(out, p);
  put_be64(out, encode_time(fire_at));
  put_id(out, id);
  put_be32(out, static_cast<uint32_t>(timer_id) ^ sign_bit32);
}

void seq_key(std::string& out, uint32_t p, uint64_t seq) {
  partition_prefix(out, p);
  put_be64(out, seq);
}

void outbox_counter_key(std::string& out, uint32_t p) {
  partition_prefix(out, p);
  out.push_back('o');
}

void log_position_key(std::string& out, uint32_t p) {
  partition_prefix(out, p);
  out.push_back('l');
}

void dedup_prefix(std::string& out, uint32_t p) {
  partition_prefix(out, p);
  out.push_back('d');
}

void dedup_key(std::string& out, uint32_t p, uint32_t source_partition) {
  dedup_prefix(out, p);
  put_be32(out, source_partition);
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

std::string escape(std::string_view key) {
  std::string out;
  out.reserve(key.size() * 2);
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\')
      out.push_back(static_cast<char>(c));
    else
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
  }
  return out;
}

}  // namespace perdure::storage::keys
