// The node actor's membership: it connects to every other member, exchanges hellos (a peer whose
// hub shape differs is refused, and both sides say why), monitors each peer's node actor and pings
// it every heartbeat interval. A peer is down on a down_msg or a missed heartbeat; connection
// attempts go on every interval. Each change is told to the proxies of that member's partitions
// and to the cluster dispatcher.
#pragma once

#include "node_state.hpp"

#include <caf/actor_system.hpp>
#include <caf/result.hpp>
#include <caf/system_messages.hpp>

#include <cstdint>

namespace perdure::actors::node_impl {

/// The blocking actor that makes every connection attempt (remote_actor() blocks its thread).
caf::actor spawn_connector(caf::actor_system& system);

/// join_atom: true once another member answered (at once for a hub of one), or the reason for
/// every member when none answered by the deadline.
caf::result<bool> join(node_actor* self, int64_t timeout_ms);

/// hello_atom: this node's hello, or the refusal of a peer whose hub shape differs.
caf::result<node_hello> answer_hello(node_actor* self, node_hello& theirs);

/// roster_atom (a replicated hub): members it did not know are added and connected to, and this
/// node's draining state is taken.
void take_roster(node_actor* self, member_roster& roster);

/// The down handler: the peer whose connection dropped is down.
void connection_lost(node_actor* self, const caf::down_msg& dm);

/// tick_atom: heartbeats to the members that are up, connection attempts to the others, the join
/// deadline; arms the next tick.
void tick(node_actor* self);

}  // namespace perdure::actors::node_impl
