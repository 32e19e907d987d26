// The management API's waits for instances to end (start-and-wait, long-polls). Each is a
// callback of the owning partition (client::wait_for_completion_async), not a thread, and they are
// bounded in number, so a flood of long-polls is refused with 503 rather than piling up callers in
// the partitions. A wait whose client leaves gives its slot back at once.
//
// Concurrency: every member is thread-safe; the callbacks outlive this object safely (they share
// the registry and find their wait gone once it was given up).
#pragma once

#include "http_server.hpp"

#include <perdure/client.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace perdure {

class http_waits {
 public:
  struct registry;

  /// A reserved place among the waiters; given back when destroyed unless handed to wait().
  class slot {
   public:
    slot(std::shared_ptr<registry> owner, uint64_t token) : owner_(std::move(owner)), token_(token) {}
    slot(slot&& other) noexcept : owner_(std::move(other.owner_)), token_(other.token_) {}
    slot& operator=(slot&&) = delete;
    ~slot();

   private:
    friend class http_waits;
    std::shared_ptr<registry> owner_;
    uint64_t token_;
  };

  http_waits(client& hub, size_t max_waiters);
  ~http_waits();  // cancel_all()
  http_waits(const http_waits&) = delete;
  http_waits& operator=(const http_waits&) = delete;

  /// Reserves a waiter's place, before anything is started or asked. Throws http_error 503
  /// TooManyWaiters (with Retry-After) when max_waiters requests are waiting already.
  slot reserve();

  /// Waits up to `timeout` for `instance_id` to end, holding no thread; then `finish` turns the
  /// outcome into the answer, on a worker (where it may block). The slot is given back when the
  /// outcome comes or the client leaves (the partition's wait is then cancelled). Throws what the
  /// client's wait_for_completion_async throws (a bad id), with the slot given back.
  void wait(slot reserved, const std::string& instance_id, std::chrono::milliseconds timeout,
            const http::responder& out, std::function<http::response(const wait_result&)> finish);

  /// Requests waiting now.
  size_t waiting() const;
  size_t limit() const noexcept { return limit_; }

  /// Gives up every wait and refuses new ones (the API stops).
  void cancel_all();

 private:
  client& hub_;
  size_t limit_;
  std::shared_ptr<registry> registry_;
};

}  // namespace perdure
