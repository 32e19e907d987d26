#include "remote_partition.hpp"

#include "actor_state.hpp"
#include "protocol.hpp"

#include <caf/all.hpp>

namespace perdure::actors {
namespace {

// A batch is sent at the end of the proxy's mailbox round, or once it holds this many entries or
// bytes, so one message stays well under the members' frame bound (--member-max-frame).
constexpr size_t max_batch_entries = 512;
constexpr size_t max_batch_bytes = 1u << 20;

struct remote_partition_state {
  static inline const char* name = "perdure.remote_partition";
  remote_partition_state() = default;  // not an aggregate: see actor_state.hpp
  std::vector<caf::actor> nodes;       // every member's node actor by index; invalid while unreachable
  // Traffic for the partition since the last flush, in arrival order.
  std::vector<message> messages;
  std::vector<uint64_t> acks;
  bool flush_queued = false;
};

using proxy_actor = stateful_actor<remote_partition_state>;

// Sends what is pending to the partition's current owner as the cluster view says: its partition
// actor when it runs here, else the owning node in as few messages as the bounds allow. Traffic
// for an owner that is unreachable or unknown (a takeover in progress) is dropped: the sender
// re-sends every unacknowledged message from its durable outbox every second, and an ack that is
// lost is answered again on the re-send.
void flush(proxy_actor* self, uint32_t partition, const cluster_view& view, cluster_metrics& metrics) {
  auto& st = self->state;
  st.flush_queued = false;
  auto messages = std::move(st.messages);
  auto acks = std::move(st.acks);
  st.messages.clear();
  st.acks.clear();
  auto owner = view.owner(partition);
  if (owner.local) {
    for (auto& msg : messages) self->send(owner.local, deliver_atom::value, std::move(msg));
    for (auto seq : acks) self->send(owner.local, ack_atom::value, seq);
    return;
  }
  if (owner.member >= st.nodes.size() || !st.nodes[owner.member]) return;
  const auto& node = st.nodes[owner.member];
  wire_batch batch{partition, {}, std::move(acks)};
  size_t bytes = 0;
  auto send_batch = [&] {
    metrics.messages_out.fetch_add(1, std::memory_order_relaxed);
    self->send(node, deliver_atom::value, std::move(batch));
    batch = wire_batch{partition, {}, {}};
    bytes = 0;
  };
  for (const auto& msg : messages) {
    auto encoded = encode_message(msg);
    if (!batch.messages.empty() && bytes + encoded.size() > max_batch_bytes) send_batch();
    bytes += encoded.size();
    batch.messages.push_back(wire_message{partition, std::move(encoded), msg.source_prev_seq});
  }
  if (!batch.messages.empty() || !batch.acks.empty()) send_batch();
}

caf::behavior remote_partition(proxy_actor* self, uint32_t partition, std::shared_ptr<const cluster_view> view,
                               cluster_metrics* metrics) {
  keep_running_on_unexpected(self);
  // Everything that arrives before the flush message is in the batch: the partitions send a
  // commit's messages and acks together, so one commit becomes one network message per partition.
  auto queued = [=] {
    auto& st = self->state;
    if (st.messages.size() + st.acks.size() >= max_batch_entries) return flush(self, partition, *view, *metrics);
    if (st.flush_queued) return;
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  };
  return {
      [=](member_atom, uint32_t index, const caf::actor& node) {
        // What was queued before the change goes where the members were then.
        if (self->state.flush_queued) flush(self, partition, *view, *metrics);
        auto& nodes = self->state.nodes;
        if (nodes.size() <= index) nodes.resize(index + 1);
        nodes[index] = node;
      },
      [=](deliver_atom, message& msg) {
        self->state.messages.push_back(std::move(msg));
        queued();
      },
      [=](ack_atom, uint64_t seq) {
        self->state.acks.push_back(seq);
        queued();
      },
      [=](flush_atom) {
        if (self->state.flush_queued) flush(self, partition, *view, *metrics);
      },
  };
}

}  // namespace

caf::actor spawn_remote_partition(caf::actor_system& system, uint32_t partition,
                                  std::shared_ptr<const cluster_view> view, cluster_metrics& metrics) {
  return system.spawn(remote_partition, partition, std::move(view), &metrics);
}

}  // namespace perdure::actors
