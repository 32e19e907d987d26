// The activity attempts this node's workers are running, so that a partition can tell one that
// nobody needs its result any more (activity_context::cancelled()).
//
// Concurrency: shared by the node's workers (each on its own thread) and its partitions; every
// call takes one mutex, held only for the map lookups.
//
// Limitations: only attempts running on this node are reached; in a cluster, an attempt leased
// to another node's worker is not cancelled (its result is still dropped).
#pragma once

#include <partition/actions.hpp>

#include <map>
#include <mutex>
#include <stop_token>
#include <utility>

namespace perdure::actors {

class running_attempts {
 public:
  /// An attempt starts on a worker: its stop token, which cancel() stops. Runs of one attempt at
  /// the same time (a lease run again) share it.
  std::stop_token enter(const partition::attempt_ref& attempt);
  /// The run that enter() started is over.
  void leave(const partition::attempt_ref& attempt);
  /// Stops the tokens of the attempts the partition cancels.
  void cancel(const partition::cancel_activities& cancels);

 private:
  struct running {
    std::stop_source stop;
    int runs = 0;
  };
  std::mutex mutex_;
  std::map<partition::attempt_ref, running> running_;
};

/// A running attempt's stay in running_attempts, for the length of its run.
class running_attempt {
 public:
  running_attempt(running_attempts& registry, partition::attempt_ref attempt)
      : registry_(registry), attempt_(std::move(attempt)), stop_(registry_.enter(attempt_)) {}
  ~running_attempt() { registry_.leave(attempt_); }
  running_attempt(const running_attempt&) = delete;
  running_attempt& operator=(const running_attempt&) = delete;
  std::stop_token stop_token() const { return stop_; }

 private:
  running_attempts& registry_;
  partition::attempt_ref attempt_;
  std::stop_token stop_;
};

}  // namespace perdure::actors
