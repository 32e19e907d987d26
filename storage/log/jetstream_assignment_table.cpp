#include "jetstream_assignment_table.hpp"

#include <perdure/storage/store.hpp>

#include <memory>

namespace perdure::storage {
namespace {

std::string key_of(uint32_t partition) { return "p" + std::to_string(partition); }

struct destroy_entry {
  void operator()(kvEntry* e) const noexcept { kvEntry_Destroy(e); }
};

}  // namespace

jetstream_assignment_table::jetstream_assignment_table(jetstream_connection& connection, std::string_view hub,
                                                       int replicas)
    : connection_(connection) {
  require_plain_name("hub name", hub);
  bucket_ = "perdure_" + std::string{hub} + "_assignments";
  kv_ = open_bucket(connection_, bucket_, replicas, std::chrono::nanoseconds{0}, "the assignment bucket " + bucket_);
}

jetstream_assignment_table::~jetstream_assignment_table() { kvStore_Destroy(kv_); }

std::optional<versioned_assignment> jetstream_assignment_table::get(uint32_t partition) {
  const std::string key = key_of(partition);
  kvEntry* raw = nullptr;
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] { return kvStore_Get(&raw, kv_, key.c_str()); });
  if (s == NATS_NOT_FOUND) return std::nullopt;
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read " + bucket_ + " " + key);
  std::unique_ptr<kvEntry, destroy_entry> entry{raw};
  const std::string_view text{static_cast<const char*>(kvEntry_Value(entry.get())),
                              static_cast<size_t>(kvEntry_ValueLen(entry.get()))};
  return versioned_assignment{decode_assignment(text, bucket_ + " " + key), kvEntry_Revision(entry.get())};
}

uint64_t jetstream_assignment_table::compare_and_set(uint32_t partition, const partition_assignment& assignment,
                                                     uint64_t expected_revision) {
  const std::string key = key_of(partition);
  const std::string value = encode_assignment(assignment);
  const int length = static_cast<int>(value.size());
  uint64_t revision = 0;
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] {
    return expected_revision == 0 ? kvStore_Create(&revision, kv_, key.c_str(), value.data(), length)
                                  : kvStore_Update(&revision, kv_, key.c_str(), value.data(), length, expected_revision);
  });
  if (s == NATS_OK) return revision;
  // Refused: either the entry moved on, or an earlier attempt of this very write was stored and
  // its acknowledgement lost.
  const std::string why = nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "";
  const auto current = get(partition);
  const uint64_t actual = current ? current->revision : 0;
  if (current && current->assignment == assignment) return actual;
  if (actual != expected_revision) assignment_moved_on(partition, expected_revision, actual);
  fail_jetstream(s, code, "cannot write " + bucket_ + " " + key + (why.empty() ? "" : " (" + why + ")"));
}

}  // namespace perdure::storage
