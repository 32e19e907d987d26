// Fails the blocking calls in flight to a node actor when that actor goes down or the connection
// to its node is lost. CAF leaves a request unanswered when the receiver's node is gone, so a
// blocking call under way then (and every later call through the same handle) waited for its
// timeout, 60 s for a command. A blocking call waits in its own scoped actor for the response with
// one message id; when the node is gone, the watch puts an error response with that id into the
// caller's mailbox, which the caller receives like any answer (`request_receiver_down`, thrown as
// `unavailable`). The asynchronous calls watch their target themselves (call_channel.hpp,
// async_request.hpp), with the same error.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/message_id.hpp>
#include <caf/scoped_actor.hpp>

#include <memory>

namespace perdure::detail {

/// The error a call gets when its node actor went down (`reason`) or the connection to it was lost:
/// request_receiver_down, which the clients throw as `unavailable`.
caf::error node_lost(const caf::error& reason);

class connection_watch {
  struct calls;

 public:
  /// While registered, the call `response` of `caller` gets an error response once the node is gone.
  class registration {
   public:
    registration(std::shared_ptr<calls> calls, uint64_t id) : calls_(std::move(calls)), id_(id) {}
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;
    ~registration();

   private:
    std::shared_ptr<calls> calls_;
    uint64_t id_;
  };

  connection_watch(caf::actor_system& system, const caf::actor& node);
  connection_watch(const connection_watch&) = delete;
  connection_watch& operator=(const connection_watch&) = delete;
  ~connection_watch();

  /// Registers a call awaiting `response` in `caller`'s mailbox; answers it at once with the error
  /// when the node is gone already.
  [[nodiscard]] registration watch(caf::scoped_actor& caller, caf::message_id response);

 private:
  std::shared_ptr<calls> calls_;
  caf::actor watcher_;
};

}  // namespace perdure::detail
