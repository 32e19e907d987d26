// Activity execution: a dispatcher actor and a bounded pool of worker actors.
//
// Operation: partitions send the activities of each commit to the dispatcher as one batch
// (work_atom); the dispatcher splits its queue evenly over the idle workers, giving each at most
// what it typically runs in a millisecond (workers report their run times; up to 64 no-op
// activities, one slow one), and keeps the rest, so a busy node is never flooded. Workers are detached actors (their
// own threads): activity code may block. A worker runs its share one after another and sends the
// results (task_completed or task_failed) to the owning partitions, one message per partition,
// as soon as it is done or the oldest result has waited max_result_delay; the partition applies
// each once (duplicates are dropped by the replay engine). Batching matters because every
// hand-off between threads costs a wake-up, which on a small machine costs more than a no-op
// activity. In a cluster the work comes from the cluster dispatcher, which sets
// activity_work::done_to: the worker then reports `done_atom, leases` so the dispatcher knows its
// local workers are free again.
//
// Cancellation: the dispatcher registers each attempt it queues in running_attempts and stops the
// ones a `cancel_atom` names (their activity_context::cancelled()); a worker does not start an
// attempt cancelled while it was queued.
#pragma once

#include "metrics.hpp"
#include "running_attempts.hpp"
#include "span_sink.hpp"

#include <perdure/message.hpp>
#include <perdure/registry.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace perdure::actors {

struct activity_pool {
  caf::actor dispatcher;
  std::vector<caf::actor> workers;
  std::shared_ptr<running_attempts> running;  // what is queued and running here; cancel_atom to the dispatcher stops it
};

/// `spans`: where each attempt's span goes (empty: nowhere).
activity_pool spawn_activity_pool(caf::actor_system& system, const registry& functions, size_t worker_count,
                                  node_metrics& metrics, span_sink spans = {});

}  // namespace perdure::actors
