// The node actor's state, shared by the files that implement it, one concern each:
// node_membership.cpp (joining the hub, hellos, heartbeats, failure detection), node_routing.cpp
// (client calls and partition traffic: served here for the partitions this node owns, forwarded
// to the owner's node otherwise), node_gather.cpp (list and stats across every node).
// node_actor.cpp puts their handlers together into the actor's behavior.
#pragma once

#include "actor_state.hpp"
#include "node_actor.hpp"
#include "protocol.hpp"

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <cstdint>
#include <string>
#include <vector>

namespace perdure::actors::node_impl {

using steady = std::chrono::steady_clock;

// Bounds a forwarded command; the client's own timeout is usually shorter.
inline constexpr std::chrono::seconds forward_timeout{60};

struct peer {
  caf::actor node;     // invalid while down
  uint32_t workers = 0;
  bool connecting = false;
  std::string last_error = "not contacted yet";
};

// A call forwarded to another member's node actor and not answered yet: its answer comes in a
// reply_batch under the call's id. If that member goes down first, the call is answered at once
// (unavailable); nothing else would answer it (the owner's answer is lost with the connection).
struct pending_forward {
  size_t member = 0;
  caf::response_promise rp;
};

// Calls queued for one member, and answers queued for one node actor (node_batches.hpp).
struct call_outbox {
  std::vector<forwarded_call> calls;
  size_t bytes = 0;
};
struct reply_outbox {
  caf::actor to;
  std::vector<forwarded_reply> replies;
  size_t bytes = 0;
};

struct node_state {
  static inline const char* name = "perdure.node";
  node_actor_config config;
  caf::actor connector;
  std::vector<peer> peers;  // by member index; the entry of this node stays empty
  bool joining = false;
  bool joined = false;
  bool draining = false;  // this node is draining (a replicated hub): it takes no leased activities
  steady::time_point join_deadline{};
  std::vector<caf::response_promise> join_waiters;
  std::map<uint64_t, pending_forward> forwards;  // by forward id
  uint64_t next_forward = 0;
  std::vector<call_outbox> call_outboxes;        // by member index
  std::vector<reply_outbox> reply_outboxes;
  bool flush_queued = false;                     // a flush_atom is on its way to this actor
};

using node_actor = stateful_actor<node_state>;

inline caf::error unavailable(const std::string& why) { return make_client_error(client_errc::unavailable, why); }

}  // namespace perdure::actors::node_impl
