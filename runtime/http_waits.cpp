#include "http_waits.hpp"

#include "http_errors.hpp"

#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace perdure {

// How long a client refused for want of a waiter's place is asked to wait before trying again.
constexpr int waiters_retry_seconds = 1;

struct http_waits::registry {
  std::mutex mutex;
  uint64_t next_token = 0;
  bool closed = false;
  // Each reserved place; its cancel function once the wait was asked (empty before).
  std::unordered_map<uint64_t, cancel_wait> waits;

  // Ends a wait: its cancel function, or nullopt when it had ended already.
  std::optional<cancel_wait> take(uint64_t token) {
    std::lock_guard lock(mutex);
    auto it = waits.find(token);
    if (it == waits.end()) return std::nullopt;
    cancel_wait cancel = std::move(it->second);
    waits.erase(it);
    return cancel;
  }

  // False when the wait ended before its cancel function was known.
  bool keep_cancel(uint64_t token, cancel_wait cancel) {
    std::lock_guard lock(mutex);
    auto it = waits.find(token);
    if (it == waits.end()) return false;
    it->second = std::move(cancel);
    return true;
  }
};

http_waits::slot::~slot() {
  if (owner_) owner_->take(token_);
}

http_waits::http_waits(client& hub, size_t max_waiters)
    : hub_(hub), limit_(max_waiters), registry_(std::make_shared<registry>()) {}

http_waits::~http_waits() { cancel_all(); }

http_waits::slot http_waits::reserve() {
  std::lock_guard lock(registry_->mutex);
  if (registry_->closed) throw http_error(503, "Unavailable", "the management API is stopping", waiters_retry_seconds);
  if (registry_->waits.size() >= limit_)
    throw http_error(503, "TooManyWaiters",
                     "the node holds its limit of " + std::to_string(limit_) +
                         " waiting requests (--http-max-waiters); retry later, or ask without waitForCompletion",
                     waiters_retry_seconds);
  const uint64_t token = ++registry_->next_token;
  registry_->waits.emplace(token, cancel_wait{});
  return slot{registry_, token};
}

void http_waits::wait(slot reserved, const std::string& instance_id, std::chrono::milliseconds timeout,
                      const http::responder& out, std::function<http::response(const wait_result&)> finish) {
  auto owner = std::move(reserved.owner_);  // from here on, the outcome or the departure gives it back
  const uint64_t token = reserved.token_;
  cancel_wait cancel;
  try {
    cancel = hub_.wait_for_completion_async(
        instance_id, timeout, [owner, token, out, finish = std::move(finish)](wait_result result) {
          if (!owner->take(token)) return;  // given up: the client left, or the API stopped
          out.send_from_worker([finish, result = std::move(result)] { return finish(result); });
        });
  } catch (...) {
    owner->take(token);
    throw;
  }
  if (!owner->keep_cancel(token, cancel)) {
    cancel();  // already ended (then harmless), or given up before the wait was asked
    return;
  }
  out.on_abandoned([owner, token] {
    if (auto cancel_it = owner->take(token); cancel_it && *cancel_it) (*cancel_it)();
  });
}

size_t http_waits::waiting() const {
  std::lock_guard lock(registry_->mutex);
  return registry_->waits.size();
}

void http_waits::cancel_all() {
  std::vector<cancel_wait> cancels;
  {
    std::lock_guard lock(registry_->mutex);
    registry_->closed = true;
    for (auto& [_, cancel] : registry_->waits)
      if (cancel) cancels.push_back(std::move(cancel));
    registry_->waits.clear();
  }
  for (auto& cancel : cancels) cancel();
}

}  // namespace perdure
