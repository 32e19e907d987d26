#include "member_registry.hpp"

#include <perdure/storage/store.hpp>

#include <nlohmann/json.hpp>

#include <memory>

namespace perdure::storage {
namespace {

constexpr const char* members_key = "members";

struct destroy_entry {
  void operator()(kvEntry* e) const noexcept { kvEntry_Destroy(e); }
};

std::string progress_key(uint32_t partition) { return "lag.p" + std::to_string(partition); }

member_state state_named(const std::string& name, std::string_view where) {
  if (name == "active") return member_state::active;
  if (name == "draining") return member_state::draining;
  if (name == "removed") return member_state::removed;
  throw store_error(errc::corrupt_record, std::string{where} + ": unknown member state '" + name + "'");
}

std::string encode(const hub_members& members) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [id, m] : members) j[id] = {{"address", m.address}, {"state", to_string(m.state)}};
  return j.dump();
}

hub_members decode(std::string_view text, std::string_view where) {
  try {
    hub_members out;
    const auto j = nlohmann::json::parse(text);
    for (const auto& [id, m] : j.items())
      out[id] = registered_member{m.at("address").get<std::string>(), state_named(m.at("state").get<std::string>(), where)};
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw store_error(errc::corrupt_record, std::string{where} + " is not a member list: " + e.what());
  }
}

}  // namespace

std::string_view to_string(member_state state) noexcept {
  switch (state) {
    case member_state::active: return "active";
    case member_state::draining: return "draining";
    case member_state::removed: return "removed";
  }
  return "active";
}

member_registry::member_registry(jetstream_connection& connection, std::string_view hub, int replicas)
    : connection_(connection) {
  require_plain_name("hub name", hub);
  bucket_ = "perdure_" + std::string{hub} + "_members";
  kv_ = open_bucket(connection_, bucket_, replicas, std::chrono::nanoseconds{0}, "the member bucket " + bucket_);
}

member_registry::~member_registry() { kvStore_Destroy(kv_); }

namespace {

// The entry's text and revision; nullopt when the key has never been written.
std::optional<std::pair<std::string, uint64_t>> read_key(const jetstream_connection& connection, kvStore* kv,
                                                          const std::string& bucket, const std::string& key) {
  kvEntry* raw = nullptr;
  jsErrCode code{};
  const natsStatus s = retry_transient(connection, code, [&] { return kvStore_Get(&raw, kv, key.c_str()); });
  if (s == NATS_NOT_FOUND) return std::nullopt;
  if (s != NATS_OK) fail_jetstream(s, code, "cannot read " + bucket + " " + key);
  std::unique_ptr<kvEntry, destroy_entry> entry{raw};
  return std::pair{std::string{static_cast<const char*>(kvEntry_Value(entry.get())),
                               static_cast<size_t>(kvEntry_ValueLen(entry.get()))},
                   kvEntry_Revision(entry.get())};
}

}  // namespace

hub_members member_registry::members() {
  const auto entry = read_key(connection_, kv_, bucket_, members_key);
  return entry ? decode(entry->first, bucket_ + " " + members_key) : hub_members{};
}

template <class Change>
void member_registry::update(Change change) {
  const auto deadline = std::chrono::steady_clock::now() + connection_.options().deadline;
  for (;;) {
    const auto entry = read_key(connection_, kv_, bucket_, members_key);
    auto members = entry ? decode(entry->first, bucket_ + " " + members_key) : hub_members{};
    const auto before = members;
    change(members);
    if (entry && members == before) return;
    const std::string value = encode(members);
    const int length = static_cast<int>(value.size());
    uint64_t revision = 0;
    jsErrCode code{};
    const natsStatus s = retry_transient(connection_, code, [&] {
      return entry ? kvStore_Update(&revision, kv_, members_key, value.data(), length, entry->second)
                   : kvStore_Create(&revision, kv_, members_key, value.data(), length);
    });
    if (s == NATS_OK) return;
    // Refused: another member wrote in between (read again), unless the servers are not answering.
    if (transient(s, code) || std::chrono::steady_clock::now() >= deadline)
      fail_jetstream(s, code, "cannot write " + bucket_ + " " + members_key);
  }
}

void member_registry::enroll(const std::string& id, const std::string& address) {
  update([&](hub_members& members) { members[id] = registered_member{address, member_state::active}; });
}

void member_registry::set_state(const std::string& id, member_state state) {
  update([&](hub_members& members) {
    auto it = members.find(id);
    if (it == members.end() || it->second.state == member_state::removed) {
      std::string known;
      for (const auto& [other, m] : members)
        if (m.state != member_state::removed) known += (known.empty() ? "" : ", ") + other;
      throw store_error(errc::not_found, "no member '" + id + "' in this hub (members: " + known + ")");
    }
    it->second.state = state;
  });
}

void member_registry::report_progress(uint32_t partition, const move_progress& progress) {
  const std::string key = progress_key(partition);
  const std::string value = nlohmann::json{{"node", progress.node}, {"epoch", progress.epoch}, {"lag", progress.lag}}.dump();
  uint64_t revision = 0;
  jsErrCode code{};
  const natsStatus s = retry_transient(connection_, code, [&] {
    return kvStore_Put(&revision, kv_, key.c_str(), value.data(), static_cast<int>(value.size()));
  });
  if (s != NATS_OK) fail_jetstream(s, code, "cannot write " + bucket_ + " " + key);
}

std::optional<move_progress> member_registry::progress(uint32_t partition) {
  const std::string key = progress_key(partition);
  const auto entry = read_key(connection_, kv_, bucket_, key);
  if (!entry) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(entry->first);
    return move_progress{j.at("node").get<std::string>(), j.at("epoch").get<uint64_t>(), j.at("lag").get<uint64_t>()};
  } catch (const nlohmann::json::exception& e) {
    throw store_error(errc::corrupt_record, bucket_ + " " + key + " is not a move's progress: " + e.what());
  }
}

}  // namespace perdure::storage
