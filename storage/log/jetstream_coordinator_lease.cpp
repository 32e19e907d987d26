#include "jetstream_coordinator_lease.hpp"

#include <perdure/storage/store.hpp>

#include <memory>

namespace perdure::storage {
namespace {

constexpr const char* key = "coordinator";

struct destroy_entry {
  void operator()(kvEntry* e) const noexcept { kvEntry_Destroy(e); }
};

}  // namespace

jetstream_coordinator_lease::jetstream_coordinator_lease(jetstream_connection& connection, std::string_view hub,
                                                         int replicas, std::chrono::milliseconds expiry)
    : connection_(connection) {
  require_plain_name("hub name", hub);
  if (expiry < std::chrono::milliseconds{100})
    throw store_error(errc::invalid_argument, "the coordinator lease's expiry is " + std::to_string(expiry.count()) +
                                                  " ms; JetStream needs at least 100 ms");
  bucket_ = "perdure_" + std::string{hub} + "_coordinator";
  kv_ = open_bucket(connection_, bucket_, replicas, expiry, "the coordinator lease bucket " + bucket_);
}

jetstream_coordinator_lease::~jetstream_coordinator_lease() { kvStore_Destroy(kv_); }

std::optional<jetstream_coordinator_lease::holder> jetstream_coordinator_lease::read() {
  kvEntry* raw = nullptr;
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] { return kvStore_Get(&raw, kv_, key); });
  if (s == NATS_NOT_FOUND) return std::nullopt;  // never taken, released, or aged out
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read the coordinator lease in " + bucket_);
  std::unique_ptr<kvEntry, destroy_entry> entry{raw};
  return holder{std::string{static_cast<const char*>(kvEntry_Value(entry.get())),
                            static_cast<size_t>(kvEntry_ValueLen(entry.get()))},
                kvEntry_Revision(entry.get())};
}

bool jetstream_coordinator_lease::hold(std::string_view node) {
  if (node.empty()) throw store_error(errc::invalid_argument, "a coordinator lease needs a node id");
  std::lock_guard lock(mutex_);
  const std::string value{node};
  const int length = static_cast<int>(value.size());
  // Each refusal teaches us the key's state, so a few rounds suffice: the key changes far less often
  // than we write it.
  natsStatus s = NATS_OK;
  jsErrCode code{};
  std::string why;
  for (int round = 0; round < 3; ++round) {
    const uint64_t expected = written_.node == value ? written_.revision : 0;
    uint64_t revision = 0;
    s = retry_transient(connection_, code, [&] {
      return expected == 0 ? kvStore_Create(&revision, kv_, key, value.data(), length)
                           : kvStore_Update(&revision, kv_, key, value.data(), length, expected);
    });
    if (s == NATS_OK) {
      written_ = holder{value, revision};
      return true;
    }
    why = nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "";
    if (transient(s, code)) break;
    // Refused: another node holds the role, or our lease aged out since the last renewal, or our
    // earlier write was stored and its acknowledgement lost (the key holds our id).
    const auto current = read();
    if (current && current->node != value) {
      written_ = {};
      return false;
    }
    if (current && current->revision == expected) break;  // not a refusal: the write itself failed
    written_ = current.value_or(holder{});
  }
  fail_jetstream(s, code, "cannot take or renew the coordinator lease in " + bucket_ + " for " + value +
                              (why.empty() ? "" : " (" + why + ")"));
}

void jetstream_coordinator_lease::release(std::string_view node) {
  std::lock_guard lock(mutex_);
  written_ = {};
  const auto current = read();
  if (!current || current->node != node) return;
  // The read and the delete are two steps, so a lease that expired in between and was taken by
  // another node would be deleted too; that node merely takes it again on its next hold (a create
  // succeeds on a deleted key).
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] { return kvStore_Delete(kv_, key); });
  if (s != NATS_OK) fail_jetstream(s, code, "cannot release the coordinator lease in " + bucket_);
}

}  // namespace perdure::storage
