#include "node_routing.hpp"

#include "node_batches.hpp"

#include <perdure/detail/json_payload.hpp>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>


namespace perdure::actors::node_impl {
namespace {

// Stands in for the owning partition of a leased activity: the worker's result becomes the answer
// to the lease request, and its heartbeats go to the partition as heartbeats by token, through
// `node` (this node's actor, which routes them to the owner). Their answers are not needed: the
// owner's cluster dispatcher cancels an attempt that timed out or whose instance ended.
caf::behavior result_relay(caf::event_based_actor* self, caf::response_promise rp, caf::actor node) {
  return {[=](deliver_atom, const message& result) mutable {
            rp.deliver(encode_message(result));
            self->quit();
          },
          // The attempt awaits completion by its task token: the answer says so (wire_activity).
          [=](awaiting_atom, const std::string&, const std::string&, int32_t) mutable {
            rp.deliver(std::string{});
            self->quit();
          },
          [=](heartbeat_atom, std::string& instance_id, std::string& execution_id, int32_t task_id,
              std::string& details) {
            self->request(node, forward_timeout, heartbeat_by_token_atom::value, std::move(instance_id),
                          std::move(execution_id), task_id, std::move(details))
                .then([](const std::string&) {}, [](const caf::error&) {});
          }};
}

// The partition actor of a partition that runs on this node, else an invalid handle.
caf::actor local_partition(node_actor* self, uint32_t partition) {
  return self->state.config.view->owner(partition).local;
}

bool owns(node_actor* self, uint32_t partition) {
  return partition < self->state.config.partitions && local_partition(self, partition);
}

uint32_t partition_of(node_actor* self, const std::string& instance_id) {
  return self->state.config.store->partition_of(instance_id);
}

// The owner's node actor, or the error a client gets while it is unreachable.
caf::expected<caf::actor> owner_node(node_actor* self, uint32_t partition) {
  const auto& c = self->state.config;
  const auto owner = c.view->owner(partition);
  if (owner.member == no_member)
    return unavailable("partition " + std::to_string(partition) + " has no owner yet (the hub is starting, or " +
                       "is moving it after a node was lost); retry in a few seconds");
  if (owner.member == c.membership.self_index())
    return unavailable("partition " + std::to_string(partition) + " is being taken over by node '" +
                       c.membership.self().id + "'; retry in a few seconds");
  const auto index = owner.member;
  const auto& p = self->state.peers[index];
  if (p.node) return p.node;
  const auto& m = c.membership.members()[index];
  return unavailable("partition " + std::to_string(partition) + " is owned by node '" + m.id + "' (" + m.host + ":" +
                     std::to_string(m.port) + "), which is unreachable: " + p.last_error + "; retry when it is back");
}

// Answers with what the owner's node actor answers to the same request (sent batched,
// node_batches.hpp), or unavailable if its member goes down first (fail_forwards_to).
template <class Reply, class... Ts>
caf::result<Reply> forward(node_actor* self, uint32_t partition, std::chrono::milliseconds timeout, Ts&&... xs) {
  auto node = owner_node(self, partition);
  if (!node) return node.error();
  auto& st = self->state;
  const uint64_t id = st.next_forward++;
  const auto member = st.config.view->owner(partition).member;
  st.forwards.emplace(id, pending_forward{member, self->make_response_promise()});
  queue_call(self, member,
             forwarded_call{id, partition, static_cast<int64_t>(timeout.count()), caf::make_message(std::forward<Ts>(xs)...)});
  return caf::delegated<Reply>{};
}

// Asks the local partition and answers `rp` with the reply converted by `convert`.
template <class Reply, class Local, class Convert, class... Ts>
caf::result<Reply> ask_local(node_actor* self, uint32_t partition, std::chrono::milliseconds timeout, Convert convert,
                             Ts&&... xs) {
  auto rp = self->make_response_promise();
  auto local = local_partition(self, partition);
  if (!local) return owner_node(self, partition).error();  // it moved since the caller checked
  self->request(local, timeout, std::forward<Ts>(xs)...)
      .then([rp, convert](Local& reply) mutable { rp.deliver(convert(reply)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return caf::delegated<Reply>{};
}

caf::error check_payload(node_actor* self, const std::string& what, const std::string& json) {
  try {
    detail::check_json_payload(what, json, self->state.config.max_payload_bytes);
  } catch (const payload_error& e) {
    return make_client_error(client_errc::invalid_argument, e.what());
  }
  return caf::none;
}

}  // namespace

void deliver_batch(node_actor* self, wire_batch& batch) {
  self->state.config.cluster->messages_in.fetch_add(1, std::memory_order_relaxed);
  if (!owns(self, batch.partition)) {
    spdlog::warn("dropping {} messages and {} acks for partition {}, which this node does not own",
                 batch.messages.size(), batch.acks.size(), batch.partition);
    return;
  }
  const auto partition = local_partition(self, batch.partition);
  // One message to the partition, in the batch's order (a message that cannot be read is dropped:
  // the sender re-sends it, and the log says why).
  result_batch messages;
  for (auto& w : batch.messages) {
    try {
      auto msg = decode_message(w.bytes);
      msg.source_prev_seq = w.prev_seq;
      messages.results.push_back(std::move(msg));
    } catch (const std::exception& e) {
      spdlog::error("dropping an unreadable message for partition {}: {}", batch.partition, e.what());
    }
  }
  if (!messages.results.empty()) self->send(partition, deliver_atom::value, std::move(messages));
  for (auto seq : batch.acks) self->send(partition, ack_atom::value, seq);
}

caf::result<std::string> run_leased(node_actor* self, wire_activity& w) {
  auto& c = self->state.config;
  auto* cm = c.cluster;
  cm->messages_in.fetch_add(1, std::memory_order_relaxed);
  if (c.metrics->activity_queue_depth.load(std::memory_order_relaxed) >= static_cast<int64_t>(c.max_leased_queue)) {
    cm->activities_rejected.fetch_add(1, std::memory_order_relaxed);
    return make_client_error(client_errc::busy, "node '" + c.membership.self().id + "' is busy");
  }
  if (self->state.draining) {
    cm->activities_rejected.fetch_add(1, std::memory_order_relaxed);
    return make_client_error(client_errc::busy, "node '" + c.membership.self().id + "' is draining");
  }
  storage::activity_task task;
  try {
    task = decode_task(w.task);
  } catch (const std::exception& e) {
    return make_client_error(client_errc::invalid_argument, e.what());
  }
  // A one-shot relay stands in for the partition: the worker's result becomes the answer.
  auto relay = self->spawn(result_relay, self->make_response_promise(), caf::actor{self});
  self->send(c.local_pool, work_atom::value, activity_work{std::move(task), relay, caf::actor{}, 0});
  return caf::delegated<std::string>{};
}

void cancel_leased(node_actor* self, std::string& instance_id, std::string& execution_id, int32_t task_id) {
  partition::attempt_ref attempt{std::move(instance_id), std::move(execution_id), task_id};
  self->send(self->state.config.local_pool, cancel_atom::value, partition::cancel_activities{{std::move(attempt)}, {}});
}

caf::result<std::string> route_start(node_actor* self, std::string& name, std::string& input, std::string& id,
                                     bool return_existing, int32_t version, std::string& traceparent,
                                     std::string& tracestate) {
  if (auto err = check_payload(self, "the input", input)) return err;
  const auto p = partition_of(self, id);
  if (!owns(self, p))
    return forward<std::string>(self, p, forward_timeout, start_atom::value, std::move(name), std::move(input),
                                std::move(id), return_existing, version, std::move(traceparent), std::move(tracestate));
  return ask_local<std::string, std::string>(self, p, forward_timeout, [](std::string& s) { return s; },
                                             start_atom::value, std::move(name), std::move(input), std::move(id),
                                             return_existing, version, std::move(traceparent), std::move(tracestate));
}

caf::result<std::string> route_command(node_actor* self, std::string& bytes) {
  message msg;
  try {
    msg = decode_message(bytes);
  } catch (const std::exception& e) {
    return make_client_error(client_errc::invalid_argument, e.what());
  }
  if (auto* raised = std::get_if<events::event_raised>(&msg.event.payload))
    if (auto err = check_payload(self, "the event payload", raised->input)) return err;
  if (auto* operation = std::get_if<events::entity_operation>(&msg.event.payload))
    if (auto err = check_payload(self, "the operation's input", operation->input)) return err;
  if (auto* completed = std::get_if<events::task_completed>(&msg.event.payload))
    if (auto err = check_payload(self, "the activity's result", completed->output)) return err;
  const auto p = partition_of(self, msg.instance_id);
  if (!owns(self, p)) return forward<std::string>(self, p, forward_timeout, command_atom::value, std::move(bytes));
  return ask_local<std::string, std::string>(self, p, forward_timeout, [](std::string& s) { return s; },
                                             command_atom::value, std::move(msg));
}

caf::result<std::string> route_heartbeat_by_token(node_actor* self, std::string& instance_id, std::string& execution_id,
                                                 int32_t task_id, std::string& details) {
  if (auto err = check_payload(self, "the heartbeat details", details)) return err;
  const auto p = partition_of(self, instance_id);
  if (!owns(self, p))
    return forward<std::string>(self, p, forward_timeout, heartbeat_by_token_atom::value, std::move(instance_id),
                                std::move(execution_id), task_id, std::move(details));
  return ask_local<std::string, std::string>(self, p, forward_timeout, [](std::string& s) { return s; },
                                             heartbeat_by_token_atom::value, std::move(instance_id),
                                             std::move(execution_id), task_id, std::move(details));
}

caf::result<std::string> route_wait(node_actor* self, std::string& id, int64_t timeout_ms) {
  const auto p = partition_of(self, id);
  const auto timeout = std::chrono::milliseconds{timeout_ms};
  if (!owns(self, p)) return forward<std::string>(self, p, timeout, wait_atom::value, std::move(id), timeout_ms);
  return ask_local<std::string, instance_record>(self, p, timeout, [](instance_record& r) { return encode_record(r); },
                                                 wait_atom::value, std::move(id), timeout_ms);
}

caf::result<bool> route_purge(node_actor* self, std::string& id) {
  const auto p = partition_of(self, id);
  if (!owns(self, p)) return forward<bool>(self, p, forward_timeout, purge_atom::value, std::move(id));
  return ask_local<bool, bool>(self, p, forward_timeout, [](bool b) { return b; }, purge_atom::value, std::move(id));
}

caf::result<std::string> route_status(node_actor* self, std::string& id) {
  const auto p = partition_of(self, id);
  if (!owns(self, p)) return forward<std::string>(self, p, forward_timeout, status_atom::value, std::move(id));
  auto record = self->state.config.store->instance(id);
  return record ? encode_record(*record) : std::string{};
}

caf::result<std::string> route_entity(node_actor* self, std::string& id) {
  const auto p = partition_of(self, id);
  if (!owns(self, p)) return forward<std::string>(self, p, forward_timeout, entity_atom::value, std::move(id));
  auto entity = self->state.config.store->entity(id);
  return entity ? encode_entity(*entity) : std::string{};
}

caf::result<wire_history> route_history(node_actor* self, std::string& id) {
  const auto p = partition_of(self, id);
  if (!owns(self, p)) return forward<wire_history>(self, p, forward_timeout, history_atom::value, std::move(id));
  auto& store = *self->state.config.store;
  if (!store.instance(id)) return make_client_error(client_errc::not_found, "no orchestration instance '" + id + "'");
  wire_history out;
  for (const auto& event : store.history(id)) out.events.push_back(encode_event(event));
  return out;
}

void fail_forwards_to(node_actor* self, size_t member, const std::string& why) {
  auto& forwards = self->state.forwards;
  const auto& id = self->state.config.membership.members()[member].id;
  for (auto it = forwards.begin(); it != forwards.end();) {
    if (it->second.member != member) {
      ++it;
      continue;
    }
    it->second.rp.deliver(unavailable("node '" + id + "', which was serving the call, went down (" + why +
                                      "); retry in a few seconds"));
    it = forwards.erase(it);
  }
}

}  // namespace perdure::actors::node_impl
