// `perdure cluster drain|activate|remove|move|unpin`: an operator's changes to a replicated hub, through the
// management API (POST /api/cluster/...); the hub's coordinator carries them out.
#pragma once

#include "commands.hpp"

#include <cstdint>
#include <string>

namespace perdure::cli {

/// The member gets no partitions: its partitions move away one at a time, its node takes no leased
/// activities. `cluster partitions` shows the moves.
exit_code cluster_drain(const global_options& g, const std::string& node);
/// Undoes a drain.
exit_code cluster_activate(const global_options& g, const std::string& node);
/// Forgets a member gone for good (drained and stopped, or lost) on every node.
exit_code cluster_remove(const global_options& g, const std::string& node);
/// Moves one partition to `node`: the node follows its log, then takes it over; pins it there.
exit_code cluster_move(const global_options& g, uint32_t partition, const std::string& node);
/// Lets the balancer move the partition again.
exit_code cluster_unpin(const global_options& g, uint32_t partition);

}  // namespace perdure::cli
