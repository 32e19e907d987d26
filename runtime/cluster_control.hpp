// An operator's changes to a replicated hub (`perdure cluster drain|activate|remove|move|unpin`, the management
// API's POST /api/cluster/...): written to the hub's member bucket and assignment table, which the
// coordinator carries out (it moves partitions one at a time, through a follower).
#pragma once

#include "actors/cluster_view.hpp"
#include "storage/log/assignment_table.hpp"
#include "storage/log/member_registry.hpp"

#include <cstdint>
#include <string>

namespace perdure {

class cluster_control {
 public:
  /// `self`: the id of the node answering; `view`: its view of the hub (which members it reaches).
  cluster_control(storage::member_registry& registry, storage::assignment_table& table,
                  const actors::cluster_view& view, std::string self)
      : registry_(registry), table_(table), view_(view), self_(std::move(self)) {}

  /// The member gets no partitions and no follower slots; its partitions move away one at a time
  /// and its node takes no leased activities. Throws invalid_argument_error for an unknown member.
  void drain(const std::string& node);
  /// Undoes drain().
  void activate(const std::string& node);
  /// Forgets a member gone for good (stopped after a drain, or lost): every node stops connecting
  /// to it and no longer lists it; it enrolls again if it starts again. Throws
  /// invalid_argument_error for an unknown member, this node, a member that still owns, follows
  /// or is the target of a move of a partition, or one this node reaches (it is running).
  void remove(const std::string& node);
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
  // What the member still does in the assignment table ("owns partitions 1, 4; follows 2"), or empty.
  std::string partitions_held_by(const std::string& node);
  bool reaches(const std::string& node) const;

  storage::member_registry& registry_;
  storage::assignment_table& table_;
  const actors::cluster_view& view_;
  std::string self_;
};

}  // namespace perdure
