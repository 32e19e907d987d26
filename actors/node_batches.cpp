#include "node_batches.hpp"

#include "node_routing.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace perdure::actors::node_impl {
namespace {

constexpr size_t max_batch_entries = 256;
constexpr size_t max_batch_bytes = 1u << 20;
constexpr std::chrono::seconds expiry_slack{2};

// What a message adds to a batch on the wire, roughly: its strings (inputs, records, history
// events) are what can be large.
size_t approx_bytes(const caf::message& msg) {
  size_t bytes = 16;
  for (size_t i = 0; i < msg.size(); ++i) {
    if (msg.match_element<std::string>(i))
      bytes += msg.get_as<std::string>(i).size();
    else if (msg.match_element<wire_history>(i))
      for (const auto& event : msg.get_as<wire_history>(i).events) bytes += event.size() + 8;
    else
      bytes += 16;
  }
  return bytes;
}

void queue_flush(node_actor* self) {
  auto& st = self->state;
  if (st.flush_queued) return;
  st.flush_queued = true;
  self->send(self, flush_atom::value);
}

void send_calls(node_actor* self, size_t member) {
  auto& st = self->state;
  auto& out = st.call_outboxes[member];
  call_batch batch;
  // A call whose member went down since it was queued was answered then (fail_forwards_to).
  for (auto& call : out.calls)
    if (st.forwards.count(call.id)) batch.calls.push_back(std::move(call));
  out.calls.clear();
  out.bytes = 0;
  if (batch.calls.empty()) return;
  const auto& node = st.peers[member].node;
  if (!node) {
    fail_forwards_to(self, member, "unreachable");
    return;
  }
  // One timer for the batch, a little after its longest call's timeout: the owner answers its
  // calls' timeouts itself, so this only answers calls sent to a member incarnation that was
  // replaced before it answered (a restart not seen as down).
  std::vector<uint64_t> ids;
  int64_t longest = 0;
  for (const auto& call : batch.calls) {
    ids.push_back(call.id);
    longest = std::max(longest, call.timeout_ms);
  }
  st.config.cluster->messages_out.fetch_add(1, std::memory_order_relaxed);
  self->send(node, forward_atom::value, std::move(batch));
  self->delayed_send(self, std::chrono::milliseconds{longest} + expiry_slack, forward_atom::value, std::move(ids));
}

void send_replies(node_actor* self, reply_outbox& out) {
  if (out.replies.empty()) return;
  self->state.config.cluster->messages_out.fetch_add(1, std::memory_order_relaxed);
  self->send(out.to, forward_atom::value, reply_batch{std::move(out.replies)});
  out.replies.clear();
  out.bytes = 0;
}

void queue_reply(node_actor* self, const caf::actor& to, forwarded_reply reply) {
  auto& outs = self->state.reply_outboxes;
  auto it = std::find_if(outs.begin(), outs.end(), [&](const reply_outbox& o) { return o.to == to; });
  if (it == outs.end()) it = outs.insert(outs.end(), reply_outbox{to, {}, 0});
  it->bytes += approx_bytes(reply.reply);
  it->replies.push_back(std::move(reply));
  if (it->replies.size() >= max_batch_entries || it->bytes >= max_batch_bytes) return send_replies(self, *it);
  queue_flush(self);
}

}  // namespace

void queue_call(node_actor* self, size_t member, forwarded_call call) {
  auto& st = self->state;
  if (st.call_outboxes.size() <= member) st.call_outboxes.resize(member + 1);
  auto& out = st.call_outboxes[member];
  out.bytes += approx_bytes(call.request);
  out.calls.push_back(std::move(call));
  if (out.calls.size() >= max_batch_entries || out.bytes >= max_batch_bytes) return send_calls(self, member);
  queue_flush(self);
}

void serve_calls(node_actor* self, call_batch& batch) {
  auto& st = self->state;
  st.config.cluster->messages_in.fetch_add(1, std::memory_order_relaxed);
  const auto origin = caf::actor_cast<caf::actor>(self->current_sender());
  if (!origin) return;  // nobody to answer
  for (auto& call : batch.calls) {
    const auto id = call.id;
    if (!(call.partition < st.config.partitions && st.config.view->owner(call.partition).local)) {
      queue_reply(self, origin,
                  forwarded_reply{id, caf::make_message(unavailable(
                                          "node '" + st.config.membership.self().id + "' does not own partition " +
                                          std::to_string(call.partition) + " (it is moving); retry in a few seconds"))});
      continue;
    }
    auto answer = [self, origin, id](auto& reply) {
      queue_reply(self, origin, forwarded_reply{id, caf::make_message(std::move(reply))});
    };
    auto response = self->request(caf::actor{self}, std::chrono::milliseconds{call.timeout_ms}, std::move(call.request));
    self->add_multiplexed_response_handler(
        response.id(), caf::behavior{[answer](std::string& reply) mutable { answer(reply); },
                                     [answer](bool reply) mutable { answer(reply); },
                                     [answer](wire_history& reply) mutable { answer(reply); },
                                     [answer](caf::error& err) mutable { answer(err); }});
  }
}

void take_replies(node_actor* self, reply_batch& batch) {
  auto& forwards = self->state.forwards;
  self->state.config.cluster->messages_in.fetch_add(1, std::memory_order_relaxed);
  for (auto& reply : batch.replies) {
    auto found = forwards.find(reply.id);
    if (found == forwards.end()) continue;  // answered already: its member went down meanwhile
    auto rp = std::move(found->second.rp);
    forwards.erase(found);
    rp.deliver(std::move(reply.reply));
  }
}

void expire_calls(node_actor* self, const std::vector<uint64_t>& ids) {
  auto& forwards = self->state.forwards;
  for (auto id : ids) {
    auto found = forwards.find(id);
    if (found == forwards.end()) continue;
    auto rp = std::move(found->second.rp);
    forwards.erase(found);
    rp.deliver(caf::make_error(caf::sec::request_timeout));
  }
}

void flush_batches(node_actor* self) {
  auto& st = self->state;
  st.flush_queued = false;
  for (size_t member = 0; member < st.call_outboxes.size(); ++member) send_calls(self, member);
  for (auto& out : st.reply_outboxes) send_replies(self, out);
  st.reply_outboxes.clear();
}

}  // namespace perdure::actors::node_impl
