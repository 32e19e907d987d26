#include "activity_pool.hpp"

#include "protocol.hpp"

#include <perdure/activity_context.hpp>

#include <caf/all.hpp>

#include <deque>

namespace perdure::actors {
namespace {

struct dispatcher_state {
  static inline const char* name = "perdure.dispatcher";
  std::deque<activity_work> queue;
  std::vector<caf::actor> idle;
};

caf::behavior dispatcher(caf::stateful_actor<dispatcher_state>* self, node_metrics* metrics) {
  return {
      [=](work_atom, activity_work& work) {
        auto& st = self->state;
        if (!st.idle.empty()) {
          auto worker = std::move(st.idle.back());
          st.idle.pop_back();
          self->send(worker, work_atom::value, std::move(work));
          return;
        }
        st.queue.push_back(std::move(work));
        metrics->activity_queue_depth.fetch_add(1, std::memory_order_relaxed);
      },
      [=](idle_atom, caf::actor& worker) {
        auto& st = self->state;
        if (st.queue.empty()) {
          st.idle.push_back(std::move(worker));
          return;
        }
        self->send(worker, work_atom::value, std::move(st.queue.front()));
        st.queue.pop_front();
        metrics->activity_queue_depth.fetch_sub(1, std::memory_order_relaxed);
      },
  };
}

message run_activity(const registry& functions, const storage::activity_task& task, node_metrics& metrics) {
  metrics.activities_started.fetch_add(1, std::memory_order_relaxed);
  message result{task.instance_id, task.execution_id, history_event{}};
  try {
    activity_context ctx{task.instance_id, task.task_id, task.name};
    auto output = functions.invoke_activity(task.name, ctx, task.input);
    result.event = history_event{clock::now(), events::task_completed{task.task_id, std::move(output)}};
    metrics.activities_completed.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    result.event = history_event{clock::now(), events::task_failed{task.task_id, to_failure_details(std::current_exception())}};
    metrics.activities_failed.fetch_add(1, std::memory_order_relaxed);
  }
  return result;
}

caf::behavior worker(caf::event_based_actor* self, const registry* functions, caf::actor dispatcher,
                     node_metrics* metrics) {
  self->send(dispatcher, idle_atom::value, caf::actor{self});
  return {
      [=](work_atom, const activity_work& work) {
        self->send(work.partition, deliver_atom::value, run_activity(*functions, work.task, *metrics));
        if (work.done_to) self->send(work.done_to, done_atom::value, work.lease);
        self->send(dispatcher, idle_atom::value, caf::actor{self});
      },
  };
}

}  // namespace

activity_pool spawn_activity_pool(caf::actor_system& system, const registry& functions, size_t worker_count,
                                  node_metrics& metrics) {
  activity_pool pool;
  pool.dispatcher = system.spawn(dispatcher, &metrics);
  pool.workers.reserve(worker_count);
  for (size_t i = 0; i < worker_count; ++i)
    pool.workers.push_back(system.spawn<caf::detached>(worker, &functions, pool.dispatcher, &metrics));
  return pool;
}

}  // namespace perdure::actors
