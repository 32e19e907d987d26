#include "coordinator_lease.hpp"

#include <perdure/storage/store.hpp>

namespace perdure::storage {

memory_coordinator_lease::memory_coordinator_lease(std::chrono::milliseconds expiry,
                                                   std::function<clock::time_point()> now)
    : expiry_(expiry), now_(std::move(now)) {
  if (expiry_ <= std::chrono::milliseconds::zero())
    throw store_error(errc::invalid_argument, "a coordinator lease needs an expiry above zero");
}

bool memory_coordinator_lease::hold(std::string_view node) {
  if (node.empty()) throw store_error(errc::invalid_argument, "a coordinator lease needs a node id");
  std::lock_guard lock(mutex_);
  const auto now = now_();
  if (!holder_.empty() && holder_ != node && now < expires_at_) return false;
  holder_ = node;
  expires_at_ = now + expiry_;
  return true;
}

void memory_coordinator_lease::release(std::string_view node) {
  std::lock_guard lock(mutex_);
  if (holder_ == node) holder_.clear();
}

}  // namespace perdure::storage
