// Activity execution: a dispatcher actor and a bounded pool of worker actors.
//
// Operation: partitions send each committed activity to the dispatcher (work_atom); the dispatcher
// hands one activity at a time to an idle worker and queues the rest, so a busy node is never
// flooded. Workers are detached actors (their own threads): activity code may block. A worker runs
// the activity and sends its result (task_completed or task_failed) to the owning partition as a
// message; the partition applies it once (duplicates are dropped by the replay engine). In a
// cluster the work comes from the cluster dispatcher, which sets activity_work::done_to: the
// worker then reports `done_atom, lease` so the dispatcher knows a local worker is free again.
#pragma once

#include "metrics.hpp"

#include <perdure/registry.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace perdure::actors {

struct activity_pool {
  caf::actor dispatcher;
  std::vector<caf::actor> workers;
};

activity_pool spawn_activity_pool(caf::actor_system& system, const registry& functions, size_t worker_count,
                                  node_metrics& metrics);

}  // namespace perdure::actors
