// Which node of a hub acts as the cluster coordinator, the one that changes assignments.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace perdure::storage {

/// At most one node of a hub holds the coordinator role at a time (the KV key expires unless
/// renewed), so only one node changes assignments at a time. Safety does not depend on it: the
/// assignment table's compare-and-set and the log's fence do; the lease avoids needless conflicts.
class coordinator_lease {
 public:
  virtual ~coordinator_lease() = default;
  /// Takes the role if nobody holds it (or it expired), renews it if `node` holds it; true while
  /// `node` holds it. Call it more often than the lease's expiry. Throws store_error(unavailable).
  virtual bool hold(std::string_view node) = 0;
  /// Gives the role up now (at a clean stop), if `node` holds it.
  virtual void release(std::string_view node) = 0;
};

/// In memory, for unit tests of coordination without servers; one object stands for the shared
/// store, so every node of a test calls the same one. `now` lets a test move time on.
class memory_coordinator_lease final : public coordinator_lease {
 public:
  using clock = std::chrono::steady_clock;
  explicit memory_coordinator_lease(std::chrono::milliseconds expiry,
                                    std::function<clock::time_point()> now = clock::now);

  bool hold(std::string_view node) override;
  void release(std::string_view node) override;

 private:
  const std::chrono::milliseconds expiry_;
  const std::function<clock::time_point()> now_;
  std::mutex mutex_;
  std::string holder_;  // empty: nobody
  clock::time_point expires_at_{};
};

}  // namespace perdure::storage
