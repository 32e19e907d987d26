// Where each partition lives: the rules the cluster coordinator applies to the assignment table
// when members come and go. Pure functions of the configured members and the ones reachable now,
// so every coordinator (and a test) computes the same plan from the same inputs.
//
// The rules move as little as possible: a live owner keeps its partition and epoch, a live
// follower keeps its place, and a lost owner is replaced by a follower (a warm copy) before any
// other member. A member that comes back is not given ownership back, which would cost a second
// handover for nothing; it becomes a follower when a slot is free.
#pragma once

#include "assignment_table.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace perdure::storage {

/// What the coordinator writes for one partition, or nullopt when its entry is fine as it is.
/// members: every configured node id, sorted; live: the ids reachable now (a subset); followers:
/// how many followers each partition should have (fewer when not enough members are live).
///
/// Without an entry, partition p goes to members[p % N] (or the next live member after it in ring
/// order, members sorted and wrapping around), epoch 1. A new owner gets the current epoch + 1.
/// Followers are the current ones still live, in their order, topped up with live members in ring
/// order after the owner. Ids not among `members` count as not live.
/// Throws store_error(invalid_argument) when `members` is not sorted or holds an id twice.
std::optional<partition_assignment> plan_assignment(uint32_t partition, const std::optional<partition_assignment>& current,
                                                    const std::vector<std::string>& members,
                                                    const std::set<std::string>& live, size_t followers);

}  // namespace perdure::storage
