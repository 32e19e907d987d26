#include "remote_partition.hpp"

#include "actor_state.hpp"
#include "protocol.hpp"

#include <caf/all.hpp>

namespace perdure::actors {
namespace {

struct remote_partition_state {
  static inline const char* name = "perdure.remote_partition";
  remote_partition_state() = default;  // not an aggregate: see actor_state.hpp
  caf::actor owner;                    // the owning node's node actor; invalid while it is unreachable
};

caf::behavior remote_partition(stateful_actor<remote_partition_state>* self, uint32_t partition,
                               cluster_metrics* metrics) {
  keep_running_on_unexpected(self);
  return {
      [=](member_atom, const caf::actor& owner) { self->state.owner = owner; },
      [=](deliver_atom, const message& msg) {
        if (!self->state.owner) return;  // re-sent from the sender's outbox once the owner is back
        metrics->messages_out.fetch_add(1, std::memory_order_relaxed);
        self->send(self->state.owner, deliver_atom::value, wire_message{partition, encode_message(msg), msg.source_prev_seq});
      },
      [=](ack_atom, uint64_t seq) {
        if (!self->state.owner) return;  // the receiver acknowledges again when the message is re-sent
        metrics->messages_out.fetch_add(1, std::memory_order_relaxed);
        self->send(self->state.owner, ack_atom::value, partition, seq);
      },
  };
}

}  // namespace

caf::actor spawn_remote_partition(caf::actor_system& system, uint32_t partition, cluster_metrics& metrics) {
  return system.spawn(remote_partition, partition, &metrics);
}

}  // namespace perdure::actors
