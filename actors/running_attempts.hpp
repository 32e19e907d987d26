// The activity attempts queued on this node or running on its workers, so that a partition can
// tell one that nobody needs its result any more (activity_context::cancelled()), and a worker can
// skip one cancelled before it started.
//
// Concurrency: shared by the node's pool dispatcher, its workers (each on its own thread) and the
// cancellations that reach the pool; every call takes one mutex, held only for the map lookups.
//
// On a cluster, cancellations reach attempts leased to other nodes through the cluster
// dispatcher, which forwards them to the node running the lease, into that node's registry.
#pragma once

#include <partition/actions.hpp>

#include <map>
#include <mutex>
#include <stop_token>

namespace perdure::actors {

class running_attempts {
 public:
  /// An attempt is queued on this node's pool: its stop token, which cancel() stops from now until
  /// leave(), before the attempt starts as well as while it runs. Registrations of one attempt at
  /// the same time (a lease run again) share it.
  std::stop_token enter(const partition::attempt_ref& attempt);
  /// The run of a registration that enter() made is over, or was skipped.
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

}  // namespace perdure::actors
