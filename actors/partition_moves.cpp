#include "partition_moves.hpp"

#include "storage/log/placement.hpp"

#include <perdure/storage/store.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace perdure::actors {

std::vector<std::optional<uint64_t>> read_move_lags(storage::member_registry& registry, const assignment_entries& table) {
  std::vector<std::optional<uint64_t>> lags(table.size());
  for (uint32_t p = 0; p < table.size(); ++p) {
    if (!table[p] || table[p]->assignment.moving_to.empty()) continue;
    const auto progress = registry.progress(p);
    if (progress && progress->node == table[p]->assignment.moving_to && progress->epoch == table[p]->assignment.epoch)
      lags[p] = progress->lag;
  }
  return lags;
}

void write_moves(storage::assignment_table& table_store, assignment_entries& table,
                 const std::vector<std::optional<uint64_t>>& lags, const hub_shape& hub, cluster_metrics& metrics) {
  if (std::any_of(table.begin(), table.end(), [](const auto& e) { return !e; })) return;
  storage::move_inputs in;
  for (const auto& e : table) in.table.push_back(e->assignment);
  in.members = hub.members;
  in.live = hub.live;
  in.draining = hub.draining;
  in.followers = hub.followers;
  for (uint32_t p = 0; p < lags.size(); ++p)
    if (lags[p]) in.target_lag[p] = *lags[p];
  for (const auto& [p, planned] : storage::plan_moves(in)) {
    const std::string old_owner = table[p]->assignment.owner;  // table[p] is replaced below
    try {
      table[p] = storage::versioned_assignment{planned, table_store.compare_and_set(p, planned, table[p]->revision)};
    } catch (const storage::store_error& e) {
      if (e.code() != storage::errc::fenced) throw;
      continue;  // another coordinator wrote it first; read again next time
    }
    metrics.assignments_changed.fetch_add(1, std::memory_order_relaxed);
    if (planned.moving_to.empty())
      spdlog::info("partition {}: moved from '{}' to '{}' in epoch {}", p, old_owner, planned.owner,
                   planned.epoch);
    else
      spdlog::info("partition {}: moving from '{}' to '{}' (it follows the log first)", p, planned.owner,
                   planned.moving_to);
  }
}

}  // namespace perdure::actors
