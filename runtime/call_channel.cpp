#include "call_channel.hpp"

#include "actors/actor_state.hpp"
#include "connection_watch.hpp"

#include <unordered_map>

namespace perdure::detail {
namespace {

using call_atom = caf::atom_constant<caf::atom("pd_call")>;

struct channel_state {
  static inline const char* name = "perdure.call_channel";
  channel_state() = default;  // not an aggregate: see actors/actor_state.hpp
  std::unordered_map<uint64_t, std::shared_ptr<channel_call>> in_flight;
  std::optional<caf::error> lost;  // why the node is gone, once it is
};

using channel_actor = actors::stateful_actor<channel_state>;

void fail_all(channel_actor* self, const caf::error& err) {
  auto calls = std::move(self->state.in_flight);
  self->state.in_flight.clear();
  for (auto& [id, call] : calls) call->fail(err);
}

// The node is a spawn argument rather than a capture: CAF 0.17 applies a function actor's
// arguments through a tuple it leaves null when there are none (UBSan: a reference to null).
caf::behavior channel(channel_actor* self, const caf::actor& node) {
  actors::keep_running_on_unexpected(self);
  self->monitor(node);
  self->set_down_handler([self](caf::down_msg& down) {
    self->state.lost = node_lost(down.reason);
    fail_all(self, *self->state.lost);
  });
  self->set_exit_handler([self](caf::exit_msg& exit) {
    fail_all(self, caf::make_error(caf::sec::request_receiver_down, "the client was closed"));
    self->quit(exit.reason);
  });
  return {
      [self, node](call_atom, uint64_t id, std::shared_ptr<channel_call>& call) {
        auto& st = self->state;
        if (st.lost) return call->fail(*st.lost);
        st.in_flight.emplace(id, call);
        call->issue(self, node, [self, id] { return self->state.in_flight.erase(id) > 0; });
      },
      [self](actors::cancel_atom, uint64_t id) { self->state.in_flight.erase(id); },
  };
}

}  // namespace

call_channel::call_channel(caf::actor_system& system, const caf::actor& node) : actor_(system.spawn(channel, node)) {}

call_channel::~call_channel() { caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown); }

cancel_wait call_channel::submit(std::shared_ptr<channel_call> call) {
  const uint64_t id = next_id_++;
  caf::anon_send(actor_, call_atom::value, id, std::move(call));
  // A weak handle: giving up a call that already ended finds nothing, and keeps nothing alive.
  return [address = actor_.address(), id] {
    if (auto channel = caf::actor_cast<caf::actor>(address)) caf::anon_send(channel, actors::cancel_atom::value, id);
  };
}

}  // namespace perdure::detail
