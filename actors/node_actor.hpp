// The node actor: a cluster node's single published actor (CAF middleman, BASP), through which
// every other node and every remote client talks to this node.
//
// Inbound, it serves:
//  - the handshake (hello_atom, node_hello): a peer whose partition count or member list differs
//    from this node's is refused with an error that names both;
//  - heartbeats (caf::ping_atom -> caf::pong_atom);
//  - partition traffic for the partitions whose partition actor runs here (deliver_atom,
//    wire_batch: a partition's messages and acks), which remote_partition proxies on other nodes
//    send;
//  - leased activities (work_atom, wire_activity -> the result message's bytes), refused with
//    client_errc::busy when the local activity queue is full;
//  - the client API (start, command, wait, purge, status, history, list, stats): served locally
//    for partitions this node owns, forwarded to the owner's node actor otherwise (batched:
//    forward_atom with call_batch and reply_batch, node_batches.hpp); list and stats gather every
//    node's part.
//
// Membership: it connects to every other member (through a blocking connector actor, because
// remote_actor() blocks), exchanges hellos, monitors the peer's node actor and pings it every
// heartbeat interval. A peer is down on a down_msg or a missed heartbeat; connection attempts go
// on every interval, so a member that restarts is taken back as soon as it listens again. Each
// change is told to the proxies, the cluster view and the cluster dispatcher.
//
// The actor is detached: it reads the local store (status, history, list) and must not block the
// scheduler. A failure serving one message (e.g. a corrupt record) is that caller's error: the
// actor keeps serving everyone else.
//
// Implemented by concern: node_membership.cpp, node_routing.cpp, node_gather.cpp (node_state.hpp
// is their shared state); node_actor.cpp puts the behavior together.
#pragma once

#include "cluster_membership.hpp"
#include "cluster_metrics.hpp"
#include "cluster_view.hpp"
#include "metrics.hpp"
#include "partition_actor.hpp"

#include <perdure/storage/store.hpp>

#include "storage/replicated_hub.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace perdure::actors {

struct node_actor_config {
  cluster_membership membership;
  uint32_t partitions = 0;
  uint32_t workers = 0;
  storage::hub_store* store = nullptr;
  storage::replicated_hub* replicated = nullptr;   // the same store in a replicated hub, else null
  std::shared_ptr<cluster_view> view;              // who owns what; which members are reachable
  std::vector<caf::actor> routers;                 // the remote_partition proxies, told of every member change
  caf::actor dispatcher;                           // the cluster dispatcher
  caf::actor local_pool;                           // runs leased activities
  size_t max_leased_queue = 0;                     // refuse leased work beyond this local queue depth
  size_t max_payload_bytes = 4u << 20;
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds heartbeat_timeout{3000};
  node_metrics* metrics = nullptr;
  cluster_metrics* cluster = nullptr;
};

/// A replicated hub's registered members, as the replica manager last read them
/// (`roster_atom, member_roster`): the node actor connects to the ones it did not know, forgets
/// the removed ones, and a draining (or removed) node refuses leased activities.
struct member_roster {
  std::vector<member> members;        // not removed
  std::vector<std::string> draining;  // ids
  std::vector<std::string> removed;   // ids
};

/// Spawns the node actor and its connector. It connects to the others once it gets join_atom
/// (`join_atom, int64_t timeout_ms` -> true once it reached another member, or at once for a hub
/// of one; an error naming every member and why it failed when none answered in time, or the
/// refusal of a member whose configuration differs).
caf::actor spawn_node_actor(caf::actor_system& system, node_actor_config config);

}  // namespace perdure::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::actors::member_roster)
