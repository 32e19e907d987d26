// The local stand-in for a partition another node owns, so that partition actors address every
// partition the same way (partition_directory) and stay unaware of the network.
//
// Operation: `deliver_atom, message` (outbox traffic) and `ack_atom, seq` are encoded and
// forwarded to the owning node's node actor. While the owner is unreachable they are dropped: the
// sender keeps every unacknowledged message in its durable outbox and re-sends it every second,
// and an ack that is lost is answered again on the re-send. The node actor tells the proxy the
// owner's current node actor (`member_atom, caf::actor`, invalid while the owner is down).
#pragma once

#include "cluster_metrics.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstdint>

namespace perdure::actors {

caf::actor spawn_remote_partition(caf::actor_system& system, uint32_t partition, cluster_metrics& metrics);

}  // namespace perdure::actors
