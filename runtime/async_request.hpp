// The asynchronous calls of the in-process client (local_client: wait_for_completion_async,
// start_async): one call is a short-lived event-based actor that sends the request, hands the
// answer to the caller's callback and ends. While it waits it holds no thread (it is a pending
// response in CAF's scheduler), which is what lets the HTTP API hold thousands of long-polls and
// starts in flight with a few workers.
//
// The actor watches its target: CAF leaves a request unanswered when the connection to the
// receiver's node is lost, so without the watch a call under way when its node died (and every
// later call through the same handle) ran into its timeout. The blocking calls have
// connection_watch.hpp for the same; the cluster client's asynchronous calls share one actor per
// client instead of one per call (call_channel.hpp).
#pragma once

#include "actors/protocol.hpp"
#include "connection_watch.hpp"

#include <perdure/client.hpp>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <variant>

namespace perdure::detail {

/// Asks `target` with `xs...` within `timeout`; `convert` turns its Reply into a Result. `done`
/// gets the Result, or the exception the synchronous client would throw. The returned function
/// gives the call up (its answer, if still to come, is then dropped).
template <class Reply, class Result, class Convert, class... Ts>
cancel_wait spawn_request(caf::actor_system& system, caf::actor target, std::chrono::milliseconds timeout,
                          std::string instance_id, Convert convert,
                          std::function<void(std::variant<Result, std::exception_ptr>)> done, Ts... xs) {
  using outcome = std::variant<Result, std::exception_ptr>;
  // `done` belongs to the caller: an exception from it would end this actor, never reach anyone.
  auto deliver = [done = std::move(done), instance_id](outcome result) {
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("the callback of a request for instance '{}' threw: {}", instance_id, e.what());
    }
  };
  // The target is a spawn argument rather than a capture: CAF 0.17 applies a function actor's
  // arguments through a tuple it leaves null when there are none (UBSan: a reference to null).
  // Each handler quits: whichever of the answer, the error and the target's end comes first is the
  // call's outcome, and the others are dropped with the actor.
  auto requester = system.spawn([=](caf::event_based_actor* self, const caf::actor& to) {
    self->monitor(to);
    self->set_down_handler([=](caf::down_msg& down) {
      try {
        actors::throw_client_error(node_lost(down.reason), instance_id);
      } catch (...) {
        deliver(std::current_exception());
      }
      self->quit();
    });
    self->request(to, timeout, xs...)
        .then(
            [=](Reply& reply) {
              outcome result;
              try {
                result = convert(reply);
              } catch (...) {
                result = std::current_exception();
              }
              deliver(std::move(result));
              self->quit();
            },
            [=](caf::error& err) {
              try {
                actors::throw_client_error(err, instance_id);
              } catch (...) {
                deliver(std::current_exception());
              }
              self->quit();
            });
  }, target);
  // A weak handle: giving up a call that already ended finds nothing, and keeps nothing alive.
  return [address = requester.address()] { caf::anon_send_exit(address, caf::exit_reason::user_shutdown); };
}

}  // namespace perdure::detail
