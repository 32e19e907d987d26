// The local stand-in for a partition that may live on another node, so that partition actors
// address every partition the same way (partition_directory) and stay unaware of the network.
//
// Operation: `deliver_atom, message` (outbox traffic, activity results) and `ack_atom, seq` go to
// the partition's current owner as the cluster view says: to its partition actor when it runs on
// this node, else encoded to the owning node's node actor, batched: what arrives in one round of
// the proxy's mailbox (a commit's messages and acks) travels as one wire_batch, in order. The node actor tells the proxy every
// member's node actor (`member_atom, member index, caf::actor`, invalid while that member is
// down). Traffic for an owner that is unreachable or unknown (a takeover in progress) is dropped:
// the sender keeps every unacknowledged message in its durable outbox and re-sends it every
// second, and an ack that is lost is answered again on the re-send.
#pragma once

#include "cluster_metrics.hpp"
#include "cluster_view.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstdint>
#include <memory>

namespace perdure::actors {

caf::actor spawn_remote_partition(caf::actor_system& system, uint32_t partition,
                                  std::shared_ptr<const cluster_view> view, cluster_metrics& metrics);

}  // namespace perdure::actors
