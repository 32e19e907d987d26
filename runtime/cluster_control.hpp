// An operator's changes to a replicated hub (`perdure cluster drain|activate|move`, the management
// API's POST /api/cluster/...): written to the hub's member bucket and assignment table, which the
// coordinator carries out (it moves partitions one at a time, through a follower).
#pragma once

#include "storage/log/assignment_table.hpp"
#include "storage/log/member_registry.hpp"

#include <cstdint>
#include <string>

namespace perdure {

class cluster_control {
 public:
  cluster_control(storage::member_registry& registry, storage::assignment_table& table, uint32_t partitions)
      : registry_(registry), table_(table), partitions_(partitions) {}

  /// The member gets no partitions and no follower slots; its partitions move away one at a time
  /// and its node takes no leased activities. Throws invalid_argument_error for an unknown member.
  void drain(const std::string& node);
  /// Undoes drain().
  void activate(const std::string& node);
  /// Starts moving the partition to `node` (an active member): it follows the log, then takes
  /// over. The partition is pinned there (to its owner when that is `node`): the balancer leaves
  /// it, until unpin(), a drain or the loss of its owner. Throws invalid_argument_error for an
  /// unknown partition or member, a draining member, or a move elsewhere under way.
  void move(uint32_t partition, const std::string& node);
  /// The balancer may move the partition again.
  void unpin(uint32_t partition);

 private:
  storage::versioned_assignment entry_of(uint32_t partition);
  void set_state(const std::string& node, storage::member_state state);

  storage::member_registry& registry_;
  storage::assignment_table& table_;
  uint32_t partitions_;
};

}  // namespace perdure
