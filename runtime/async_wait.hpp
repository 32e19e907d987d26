// client::wait_for_completion_async for the clients that reach a node through CAF: one wait is a
// short-lived event-based actor that sends the wait request, hands the answer to the caller's
// callback and ends. While it waits it holds no thread (it is a pending response in CAF's
// scheduler), which is what lets the HTTP API hold thousands of long-polls with a few workers.
#pragma once

#include "actors/protocol.hpp"

#include <perdure/client.hpp>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <utility>

namespace perdure::detail {

/// Asks `target` with `xs...` (a wait request) within `timeout`; `convert` turns its Reply into
/// the record. `done` gets the record, or the exception the synchronous client would throw.
template <class Reply, class Convert, class... Ts>
cancel_wait spawn_wait(caf::actor_system& system, caf::actor target, std::chrono::milliseconds timeout,
                       std::string instance_id, Convert convert, std::function<void(wait_result)> done, Ts... xs) {
  // `done` belongs to the caller: an exception from it would end this actor, never reach anyone.
  auto deliver = [done = std::move(done), instance_id](wait_result result) {
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("the callback of a wait for instance '{}' threw: {}", instance_id, e.what());
    }
  };
  // The target is a spawn argument rather than a capture: CAF 0.17 applies a function actor's
  // arguments through a tuple it leaves null when there are none (UBSan: a reference to null).
  auto waiter = system.spawn([=](caf::event_based_actor* self, const caf::actor& to) {
    self->request(to, timeout, xs...)
        .then(
            [=](Reply& reply) {
              wait_result result;
              try {
                result = convert(reply);
              } catch (...) {
                result = std::current_exception();
              }
              deliver(std::move(result));
            },
            [=](caf::error& err) {
              try {
                actors::throw_client_error(err, instance_id);
              } catch (...) {
                deliver(std::current_exception());
              }
            });
  }, target);
  // A weak handle: cancelling a wait that already ended finds nothing, and keeps nothing alive.
  return [address = waiter.address()] { caf::anon_send_exit(address, caf::exit_reason::user_shutdown); };
}

}  // namespace perdure::detail
