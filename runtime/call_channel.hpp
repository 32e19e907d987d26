// Many asynchronous calls in flight to one node actor with no thread and no actor per call: the
// asynchronous calls of a cluster client (start_async, wait_for_completion_async) go through one
// long-lived actor per client, which sends each request, holds its answer handler (a pending
// response in CAF's scheduler, no thread) and hands the outcome to the caller's callback.
//
// The channel watches its node actor once for all its calls: CAF leaves a request unanswered when
// the connection to the receiver's node is lost, so a call under way then fails at once with
// node_lost (thrown as `unavailable`), and so does every later call. The blocking calls have
// connection_watch.hpp for the same. (async_request.hpp does the same job with an actor per call,
// for the in-process client, whose partitions are local actors.)
#pragma once

#include "actors/protocol.hpp"

#include <perdure/client.hpp>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <variant>

namespace perdure::detail {

/// One call on a channel, its types erased.
class channel_call {
 public:
  virtual ~channel_call() = default;
  /// Sends the request from `self` to `node`; its answer handler calls `take` first and hands the
  /// outcome over only if take() is true (the call was not failed or given up meanwhile).
  virtual void issue(caf::event_based_actor* self, const caf::actor& node, std::function<bool()> take) = 0;
  /// The call's outcome is this error (its node is gone, or the client closed).
  virtual void fail(const caf::error& err) = 0;
};

class call_channel {
 public:
  call_channel(caf::actor_system& system, const caf::actor& node);
  call_channel(const call_channel&) = delete;
  call_channel& operator=(const call_channel&) = delete;
  /// Calls still in flight fail (the client closed).
  ~call_channel();

  /// Asks the node with `xs...` within `timeout`; `convert` turns its Reply into a Result. `done`
  /// gets the Result, or the exception the synchronous client would throw. The returned function
  /// gives the call up (its answer, if still to come, is then dropped).
  template <class Reply, class Result, class Convert, class... Ts>
  cancel_wait call(std::chrono::milliseconds timeout, std::string instance_id, Convert convert,
                   std::function<void(std::variant<Result, std::exception_ptr>)> done, Ts... xs);

 private:
  template <class Reply, class Result, class Convert, class... Ts>
  class typed_call;

  cancel_wait submit(std::shared_ptr<channel_call> call);

  caf::actor actor_;
  std::atomic<uint64_t> next_id_{0};
};

template <class Reply, class Result, class Convert, class... Ts>
class call_channel::typed_call final : public channel_call,
                                       public std::enable_shared_from_this<typed_call<Reply, Result, Convert, Ts...>> {
 public:
  using outcome = std::variant<Result, std::exception_ptr>;
  typed_call(std::chrono::milliseconds timeout, std::string instance_id, Convert convert,
             std::function<void(outcome)> done, Ts... xs)
      : timeout_(timeout),
        instance_id_(std::move(instance_id)),
        convert_(std::move(convert)),
        done_(std::move(done)),
        request_(std::move(xs)...) {}

  void issue(caf::event_based_actor* self, const caf::actor& node, std::function<bool()> take) override {
    auto handle = std::apply(
        [&](auto&... xs) { return self->request(node, timeout_, std::move(xs)...); }, request_);
    handle.then(
        [this, keep = this->shared_from_this(), take](Reply& reply) {
          if (!take()) return;
          outcome result;
          try {
            result = convert_(reply);
          } catch (...) {
            result = std::current_exception();
          }
          deliver(std::move(result));
        },
        [this, keep = this->shared_from_this(), take](caf::error& err) {
          if (take()) fail(err);
        });
  }

  void fail(const caf::error& err) override {
    try {
      actors::throw_client_error(err, instance_id_);
    } catch (...) {
      deliver(std::current_exception());
    }
  }

 private:
  // `done` belongs to the caller: an exception from it would end the channel, never reach anyone.
  void deliver(outcome result) {
    try {
      done_(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("the callback of a request for instance '{}' threw: {}", instance_id_, e.what());
    }
  }

  std::chrono::milliseconds timeout_;
  std::string instance_id_;
  Convert convert_;
  std::function<void(outcome)> done_;
  std::tuple<Ts...> request_;
};

template <class Reply, class Result, class Convert, class... Ts>
cancel_wait call_channel::call(std::chrono::milliseconds timeout, std::string instance_id, Convert convert,
                               std::function<void(std::variant<Result, std::exception_ptr>)> done, Ts... xs) {
  return submit(std::make_shared<typed_call<Reply, Result, Convert, Ts...>>(
      timeout, std::move(instance_id), std::move(convert), std::move(done), std::move(xs)...));
}

}  // namespace perdure::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<perdure::detail::channel_call>)
