// The members of a replicated hub, registered by the members themselves in a JetStream key-value
// bucket (`perdure_<hub>_members`), so that a node joins a running hub knowing only the NATS
// servers and the hub's name. One key (`members`) holds every member, changed by compare-and-set:
// a node registering itself and an operator draining another cannot lose each other's write.
// The same bucket carries, per partition being moved (`lag.p<n>`), how far its target still is
// behind the partition's log, which the coordinator reads to flip ownership.
//
// Errors: store_error (errc::unavailable when the servers cannot be reached in time;
// errc::not_found for a member that is not registered, or was removed; errc::corrupt_record for a
// value that is not what a node wrote).
#pragma once

#include "jetstream.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace perdure::storage {

// `removed` is a tombstone an operator leaves for a member gone for good (docs/architecture.md,
// "Members come and go"): every node forgets it, and it enrolls again if it starts again.
enum class member_state { active, draining, removed };

struct registered_member {
  std::string address;  // host:port of its node actor
  member_state state = member_state::active;
  friend bool operator==(const registered_member&, const registered_member&) = default;
};

using hub_members = std::map<std::string, registered_member>;  // by node id

std::string_view to_string(member_state state) noexcept;

/// A move's target and how many records of the partition's log it has still to apply.
struct move_progress {
  std::string node;
  uint64_t epoch = 0;  // of the assignment the target read: a report of an earlier move is stale
  uint64_t lag = 0;
};

class member_registry {
 public:
  /// Opens the hub's bucket, creating it with `replicas` replicas when it does not exist.
  member_registry(jetstream_connection& connection, std::string_view hub, int replicas);
  ~member_registry();
  member_registry(const member_registry&) = delete;
  member_registry& operator=(const member_registry&) = delete;

  /// Every registered member, the removed ones included.
  hub_members members();

  /// Adds the member, or gives a registered one its new address; a node that starts is active (a
  /// drain is undone by restarting the node).
  void enroll(const std::string& id, const std::string& address);

  /// Drains, activates or removes a member. Throws store_error(not_found) naming the members when
  /// `id` is not one of them (a removed member is not).
  void set_state(const std::string& id, member_state state);

  void report_progress(uint32_t partition, const move_progress& progress);
  std::optional<move_progress> progress(uint32_t partition);

 private:
  // Applies `change` to the registered members by compare-and-set, reading again on a conflict.
  template <class Change>
  void update(Change change);

  jetstream_connection& connection_;
  std::string bucket_;
  kvStore* kv_ = nullptr;
};

}  // namespace perdure::storage
