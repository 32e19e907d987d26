// What every Perdure actor with state is built on.
//
// CAF 0.17's stateful_actor constructs its State from the actor's own pointer whenever
// std::is_constructible<State, stateful_actor<State>*> holds. Under C++20 an aggregate is
// "constructible" from anything that converts to its first member (parenthesized aggregate
// initialization), so a state whose first member is a caf::actor (or a bool) silently starts out
// holding the actor itself. That is how a remote_partition proxy once began with itself as the
// owner node, sent itself the first outbox message after a restart and died of it, losing every
// later message for that partition. perdure::actors::stateful_actor refuses such states at
// compile time; give them a user-declared default constructor.
//
// A message no handler matches, and an error nobody asked for, are logged and dropped instead of
// CAF's defaults (print to stdout, where a node's output may go unread, and quit; quit): the outbox
// protocol depends on these actors staying up.
#pragma once

#include <caf/make_message.hpp>  // caf/result.hpp uses it without including it
#include <caf/message_view.hpp>
#include <caf/result.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <type_traits>

namespace perdure::actors {

template <class State>
struct checked_state {
  static_assert(!std::is_constructible_v<State, caf::stateful_actor<State>*>,
                "CAF would initialize this state from the actor pointer (C++20 aggregate): "
                "declare a default constructor");
  using actor = caf::stateful_actor<State>;
};

template <class State>
using stateful_actor = typename checked_state<State>::actor;

/// Installs on `self` the handlers that log (with the actor's name) and drop unexpected messages
/// and errors; call it first in every behavior.
void keep_running_on_unexpected(caf::scheduled_actor* self);

}  // namespace perdure::actors
