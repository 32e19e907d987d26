// Where each partition lives: the rules the cluster coordinator applies to the assignment table
// when members come and go. Pure functions of the configured members and the ones reachable now,
// so every coordinator (and a test) computes the same plan from the same inputs.
//
// The rules move as little as possible: a live owner keeps its partition and epoch, a live
// follower keeps its place, and a lost owner is replaced by a follower (a warm copy) before any
// other member. A member that comes back is not given ownership back, which would cost a second
// handover for nothing; it becomes a follower when a slot is free.
//
// Moves (a member joined, a member drains, an operator asked) go through a follower: plan_moves()
// first makes the target a follower (`moving_to`), and flips ownership with epoch + 1 once the
// target reports that it has caught up with the log. One automatic move at a time.
#pragma once

#include "assignment_table.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
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
/// Draining members (a subset of members) keep a partition they own (plan_moves() moves it away)
/// but get no new partition and no follower slot, unless no other member is live. A move under way
/// keeps its target among the followers (beyond `followers`) while the target is live and not
/// draining, and is dropped otherwise (and its pin with it). The owner after a lost one is not
/// pinned.
/// Throws store_error(invalid_argument) when `members` is not sorted or holds an id twice.
std::optional<partition_assignment> plan_assignment(uint32_t partition, const std::optional<partition_assignment>& current,
                                                    const std::vector<std::string>& members,
                                                    const std::set<std::string>& live, size_t followers,
                                                    const std::set<std::string>& draining = {});

/// What plan_moves() reads: the table, whole (every partition has an entry whose owner is live),
/// and how far behind the log each move's target is (by partition; absent: not reported yet).
struct move_inputs {
  std::vector<partition_assignment> table;  // by partition
  std::vector<std::string> members;         // sorted, as for plan_assignment
  std::set<std::string> live;
  std::set<std::string> draining;
  size_t followers = 1;                     // as for plan_assignment
  std::map<uint32_t, uint64_t> target_lag;  // records the move's target still has to apply
  uint64_t caught_up = 8;                   // a target this close to the log's end takes over
};

/// The entries to write next, by partition: each move whose target has caught up flips (owner =
/// target, epoch + 1, the old owner first among the followers unless it drains, pinned as it was);
/// when no move is under way, one new move starts: a partition of a draining member (unpinned),
/// else an unpinned one of the member owning the most to the active member owning the fewest while
/// they differ by more than one (the next most loaded member when all of the first's are pinned).
/// The target is the least loaded live active member (a follower of the partition on ties: it is
/// warm). Nothing while the table is not whole (plan_assignment first).
std::map<uint32_t, partition_assignment> plan_moves(const move_inputs& in);

}  // namespace perdure::storage
