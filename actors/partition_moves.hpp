// The coordinator's second step in a replicated hub, after the placement rules: partition moves
// (a member joined, a member drains, an operator asked), planned by storage::plan_moves() and
// written by compare-and-set. A move's target reports how far behind the log it is in the member
// registry; its flip (owner = target, epoch + 1) waits until that is a few records.
#pragma once

#include "cluster_metrics.hpp"

#include "storage/log/assignment_table.hpp"
#include "storage/log/member_registry.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace perdure::actors {

using assignment_entries = std::vector<std::optional<storage::versioned_assignment>>;  // by partition

/// The lag each move's target reported for the move under way (by partition; nullopt where no
/// move is under way or the target has not reported for this epoch yet).
std::vector<std::optional<uint64_t>> read_move_lags(storage::member_registry& registry, const assignment_entries& table);

struct hub_shape {
  std::vector<std::string> members;  // registered ids, sorted
  std::set<std::string> live;
  std::set<std::string> draining;
  size_t followers = 1;
};

/// Plans and writes the next moves; `table` follows every write that landed. Nothing while some
/// partition has no entry.
void write_moves(storage::assignment_table& table_store, assignment_entries& table,
                 const std::vector<std::optional<uint64_t>>& lags, const hub_shape& hub, cluster_metrics& metrics);

}  // namespace perdure::actors
