#include "node_actor.hpp"

#include "guarded_behavior.hpp"
#include "node_batches.hpp"
#include "node_gather.hpp"
#include "node_membership.hpp"
#include "node_routing.hpp"
#include "node_state.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace perdure::actors {
namespace {

using namespace node_impl;

caf::behavior node_behavior(node_actor* self, node_actor_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.peers.resize(st.config.membership.size());
  st.config.view->set_reachable(st.config.membership.self_index(), true);
  keep_running_on_unexpected(self);
  st.connector = spawn_connector(self->system());
  self->attach_functor([connector = st.connector](const caf::error&) {
    caf::anon_send_exit(connector, caf::exit_reason::user_shutdown);
  });
  self->set_down_handler([self](caf::down_msg& dm) { connection_lost(self, dm); });
  // Only a response handler can get here (every message handler is guarded); CAF 0.17 ends the
  // actor after this whatever it returns, so say so where an operator looks.
  self->set_exception_handler([self](std::exception_ptr& failure) -> caf::error {
    auto err = make_client_error(failure);
    spdlog::critical("{} (actor {}) stops: a response handler threw: {}; restart this node", self->name(), self->id(),
                     self->system().render(err));
    return err;
  });
  self->delayed_send(self, st.config.heartbeat_interval, tick_atom::value);
  // A failure serving one message (e.g. a corrupt record in the store) is that caller's error; the
  // node goes on serving everyone else. The node's own failures are logged, bad requests are not.
  auto on_exception = [self](std::exception_ptr failure) {
    auto err = make_client_error(failure);
    const auto code = static_cast<client_errc>(err.code());
    if (code == client_errc::failed || code == client_errc::storage_failure)
      spdlog::error("{} (actor {}) failed to serve a message: {}", self->name(), self->id(), self->system().render(err));
    return err;
  };
  return guarded_behavior(
      on_exception,
      // ---- membership
      [=](join_atom, int64_t timeout_ms) { return join(self, timeout_ms); },
      [=](tick_atom) { tick(self); },
      [=](hello_atom, node_hello& h) { return answer_hello(self, h); },
      [=](roster_atom, member_roster& roster) { take_roster(self, roster); },
      [=](caf::ping_atom) { return caf::pong_atom::value; },
      // ---- partition traffic
      [=](deliver_atom, wire_batch& batch) { deliver_batch(self, batch); },
      [=](forward_atom, call_batch& batch) { serve_calls(self, batch); },
      [=](forward_atom, reply_batch& batch) { take_replies(self, batch); },
      [=](forward_atom, const std::vector<uint64_t>& ids) { expire_calls(self, ids); },
      [=](flush_atom) { flush_batches(self); },
      [=](work_atom, wire_activity& w) { return run_leased(self, w); },
      [=](cancel_atom, std::string& instance_id, std::string& execution_id, int32_t task_id) {
        cancel_leased(self, instance_id, execution_id, task_id);
      },
      // ---- client API
      [=](start_atom, std::string& name, std::string& input, std::string& id, bool return_existing, int32_t version,
          std::string& traceparent, std::string& tracestate) {
        return route_start(self, name, input, id, return_existing, version, traceparent, tracestate);
      },
      [=](command_atom, std::string& bytes) { return route_command(self, bytes); },
      [=](heartbeat_by_token_atom, std::string& instance_id, std::string& execution_id, int32_t task_id,
          std::string& details) { return route_heartbeat_by_token(self, instance_id, execution_id, task_id, details); },
      [=](wait_atom, std::string& id, int64_t timeout_ms) { return route_wait(self, id, timeout_ms); },
      [=](purge_atom, std::string& id) { return route_purge(self, id); },
      [=](status_atom, std::string& id) { return route_status(self, id); },
      [=](entity_atom, std::string& id) { return route_entity(self, id); },
      [=](history_atom, std::string& id) { return route_history(self, id); },
      // ---- gathers across every node
      [=](list_atom, const wire_query& query) { return list_all(self, query); },
      [=](local_atom, list_atom, const wire_query& query) { return list_local(self, query); },
      [=](list_atom, entity_atom, const wire_entity_query& query) { return list_entities_all(self, query); },
      [=](local_atom, list_atom, entity_atom, const wire_entity_query& query) {
        return list_entities_local(self, query);
      },
      [=](stats_atom) { return stats_all(self); },
      [=](local_atom, stats_atom) { return local_stats(self); });
}

}  // namespace

caf::actor spawn_node_actor(caf::actor_system& system, node_actor_config config) {
  return system.spawn<caf::detached>(node_behavior, std::move(config));
}

}  // namespace perdure::actors
