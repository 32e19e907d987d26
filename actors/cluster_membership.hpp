// Static cluster membership and partition placement.
//
// Every node of a hub is started with the same member list; placement is a pure function of it
// (partition p belongs to member p mod N of the members sorted by id), so every node computes the
// same owner for every partition without talking to the others. The canonical member list is
// exchanged in the handshake, so a node configured differently is refused instead of silently
// disagreeing about placement.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perdure::actors {

struct member {
  std::string id;
  std::string host;
  uint16_t port = 0;
  friend bool operator==(const member&, const member&) = default;
};

/// Parses one "id@host:port" entry. Throws perdure::invalid_argument_error naming it.
member parse_member(std::string_view entry);

class cluster_membership {
 public:
  /// Parses "id@host:port,id@host:port,...". Throws perdure::invalid_argument_error naming the
  /// bad entry (missing '@' or ':', bad port, empty or duplicate id, duplicate address).
  static cluster_membership parse(std::string_view spec, std::string self_id);

  cluster_membership() = default;
  cluster_membership(std::vector<member> members, std::string self_id);

  /// Sorted by id at start; members a replicated hub adds later follow in the order they came, so
  /// an index, once given, stays (the node's cluster view uses the same indexes).
  const std::vector<member>& members() const noexcept { return members_; }
  size_t self_index() const noexcept { return self_; }
  const member& self() const { return members_.at(self_); }
  size_t size() const noexcept { return members_.size(); }

  /// The index (into members()) of the member that owns the partition.
  size_t owner_of(uint32_t partition) const noexcept { return partition % members_.size(); }
  bool owns(uint32_t partition) const noexcept { return owner_of(partition) == self_; }
  std::optional<size_t> index_of(std::string_view id) const;

  /// A replicated hub's member that registered itself: its index, the member appended when new,
  /// its address updated when it had none or moved. Returns the index.
  size_t add(const member& m);

  /// "a@127.0.0.1:7001,b@127.0.0.1:7002" (sorted by id): equal on every node of a hub.
  std::string canonical() const;

 private:
  std::vector<member> members_;
  size_t self_ = 0;
};

}  // namespace perdure::actors
