#include "remote_partition.hpp"

#include "actor_state.hpp"
#include "protocol.hpp"

#include <caf/all.hpp>

namespace perdure::actors {
namespace {

struct remote_partition_state {
  static inline const char* name = "perdure.remote_partition";
  remote_partition_state() = default;  // not an aggregate: see actor_state.hpp
  std::vector<caf::actor> nodes;       // every member's node actor by index; invalid while unreachable
};

caf::behavior remote_partition(stateful_actor<remote_partition_state>* self, uint32_t partition,
                               std::shared_ptr<const cluster_view> view, cluster_metrics* metrics) {
  keep_running_on_unexpected(self);
  // The owner's node actor, or an invalid handle when the owner runs here, is unknown or is down.
  auto remote_owner = [self, partition, view](caf::actor& local) {
    auto owner = view->owner(partition);
    local = std::move(owner.local);
    const auto& nodes = self->state.nodes;
    return !local && owner.member < nodes.size() ? nodes[owner.member] : caf::actor{};
  };
  return {
      [=](member_atom, uint32_t index, const caf::actor& node) {
        auto& nodes = self->state.nodes;
        if (nodes.size() <= index) nodes.resize(index + 1);
        nodes[index] = node;
      },
      [=](deliver_atom, message& msg) {
        caf::actor local;
        auto node = remote_owner(local);
        if (local) return self->send(local, deliver_atom::value, std::move(msg));
        if (!node) return;  // re-sent from the sender's outbox once the owner is known and reachable
        metrics->messages_out.fetch_add(1, std::memory_order_relaxed);
        self->send(node, deliver_atom::value, wire_message{partition, encode_message(msg), msg.source_prev_seq});
      },
      [=](ack_atom, uint64_t seq) {
        caf::actor local;
        auto node = remote_owner(local);
        if (local) return self->send(local, ack_atom::value, seq);
        if (!node) return;  // the receiver acknowledges again when the message is re-sent
        metrics->messages_out.fetch_add(1, std::memory_order_relaxed);
        self->send(node, ack_atom::value, partition, seq);
      },
  };
}

}  // namespace

caf::actor spawn_remote_partition(caf::actor_system& system, uint32_t partition,
                                  std::shared_ptr<const cluster_view> view, cluster_metrics& metrics) {
  return system.spawn(remote_partition, partition, std::move(view), &metrics);
}

}  // namespace perdure::actors
