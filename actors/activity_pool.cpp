#include "activity_pool.hpp"

#include "actor_state.hpp"
#include "heartbeat_throttle.hpp"
#include "protocol.hpp"

#include <partition/activities.hpp>
#include <partition/spans.hpp>

#include <perdure/detail/log_context.hpp>
#include <perdure/trace_context.hpp>


#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <utility>

namespace perdure::actors {
namespace {

// A worker takes at most as many activities at once as it typically runs in share_budget (and
// never more than max_share): no-op activities go out 64 at a time, while activities that take a
// millisecond or more go out one at a time as before, so a slow one never holds others back.
constexpr size_t max_share = 64;
constexpr double share_budget_micros = 1000;
// A worker sends the results it has gathered once the oldest waited this long, so a slow
// activity later in its batch does not delay the results of the ones before it.
constexpr auto max_result_delay = std::chrono::milliseconds(1);

struct dispatcher_state {
  static inline const char* name = "perdure.dispatcher";
  std::deque<activity_work> queue;
  std::vector<caf::actor> idle;
  double typical_micros = share_budget_micros;  // moving average of an activity's run time; slow until measured
};

using dispatcher_actor = stateful_actor<dispatcher_state>;

// Splits the queue evenly over the idle workers: every idle worker gets work at once (as before,
// when each got one activity), but in one message per worker rather than one per activity.
void hand_out(dispatcher_actor* self) {
  auto& st = self->state;
  while (!st.queue.empty() && !st.idle.empty()) {
    const auto affordable = static_cast<size_t>(share_budget_micros / std::max(1.0, st.typical_micros));
    const size_t even = (st.queue.size() + st.idle.size() - 1) / st.idle.size();
    const size_t share = std::clamp<size_t>(std::min(even, affordable), 1, max_share);
    activity_batch batch;
    batch.items.reserve(share);
    for (size_t i = 0; i < share; ++i) {
      batch.items.push_back(std::move(st.queue.front()));
      st.queue.pop_front();
    }
    self->send(st.idle.back(), work_atom::value, std::move(batch));
    st.idle.pop_back();
  }
}

partition::attempt_ref attempt_of(const storage::activity_task& task) {
  return {task.instance_id, task.execution_id, task.task_id};
}

// Every attempt queued here is registered, so that a cancellation reaches it before it starts too.
caf::behavior dispatcher(dispatcher_actor* self, node_metrics* metrics, std::shared_ptr<running_attempts> running) {
  keep_running_on_unexpected(self);
  auto queue = [=](activity_work& work) {
    work.stop = running->enter(attempt_of(work.task));
    self->state.queue.push_back(std::move(work));
  };
  return {
      [=](work_atom, activity_work& work) {
        metrics->activity_queue_depth.fetch_add(1, std::memory_order_relaxed);
        queue(work);
        hand_out(self);
      },
      [=](work_atom, activity_batch& batch) {
        metrics->activity_queue_depth.fetch_add(static_cast<int64_t>(batch.items.size()), std::memory_order_relaxed);
        for (auto& work : batch.items) queue(work);
        hand_out(self);
      },
      [=](cancel_atom, const partition::cancel_activities& cancels) { running->cancel(cancels); },
      [=](heartbeat_atom, const std::shared_ptr<heartbeat_throttle>& throttle) { throttle->flush(); },
      [=](idle_atom, caf::actor& worker, uint64_t ran, uint64_t micros) {
        auto& st = self->state;
        if (ran > 0) st.typical_micros += (static_cast<double>(micros) / static_cast<double>(ran) - st.typical_micros) / 4;
        st.idle.push_back(std::move(worker));
        hand_out(self);
      },
  };
}

// Heartbeats go out at most every half heartbeat timeout (so one always lands within it), or every
// second when the attempt has no heartbeat timeout (its details still matter to a later attempt);
// one between goes out at the interval's end with the latest details (heartbeat_throttle), sent by
// the pool's dispatcher while the worker runs the activity. The attempt's start is a heartbeat
// too: its heartbeat timeout counts from then, not from its dispatch.
class heartbeat_sender {
 public:
  heartbeat_sender(caf::event_based_actor* self, caf::actor dispatcher, const activity_work& work)
      : self_(self), dispatcher_(std::move(dispatcher)) {
    const auto timeout = work.task.timeouts.heartbeat_timeout;
    const auto interval = timeout.count() > 0
                              ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout / 2)
                              : std::chrono::steady_clock::duration{std::chrono::seconds(1)};
    throttle_ = std::make_shared<heartbeat_throttle>(work.partition, work.task, interval);
    if (timeout.count() > 0) throttle_->started();
  }

  void operator()(const std::string& details) {
    if (auto flush_in = throttle_->beat(details))
      self_->delayed_send(dispatcher_, *flush_in, heartbeat_atom::value, throttle_);
  }

 private:
  caf::event_based_actor* self_;
  caf::actor dispatcher_;
  std::shared_ptr<heartbeat_throttle> throttle_;
};

// Only an attempt with timeouts heartbeats its partition: the partition keeps no other. nullopt:
// the attempt awaits completion by its task token.
// Each attempt is a span of its own (a run again after a restart is another), a child of its
// instance's; the activity continues the trace from activity_context::traceparent().
std::optional<message> run_activity(caf::event_based_actor* self, const caf::actor& dispatcher, const registry& functions,
                                    const activity_work& work, node_metrics& metrics, const span_sink& spans) {
  const auto& task = work.task;
  metrics.activities_started.fetch_add(1, std::memory_order_relaxed);
  const auto instance_trace = parse_traceparent(task.trace_parent);
  detail::log_scope about{task.instance_id, instance_trace ? instance_trace->trace_id : std::string{}};
  partition::attempt_connection connection{{}, work.stop, {}};
  const std::string span_id = instance_trace ? detail::new_span_id() : std::string{};
  if (instance_trace) connection.traceparent = instance_trace->with_span(span_id).traceparent();
  if (task.timeouts.any()) connection.heartbeat = heartbeat_sender{self, dispatcher, work};
  const auto started = clock::now();
  auto outcome = partition::run_activity(functions, task, std::move(connection));
  const auto ended = clock::now();
  const auto* failed = outcome ? std::get_if<events::task_failed>(&*outcome) : nullptr;
  if (spans)
    if (auto span = partition::attempt_span(task, span_id, started, ended, failed ? &failed->failure : nullptr))
      spans(detail::span_records{std::move(*span)});
  if (!outcome) return std::nullopt;
  (failed ? metrics.activities_failed : metrics.activities_completed).fetch_add(1, std::memory_order_relaxed);
  return message{task.instance_id, task.execution_id, history_event{ended, std::move(*outcome)}};
}

// An attempt cancelled before it started is not started: its partition already has the task's
// answer (its timeout) or the instance ended, so this result is dropped there as any late one; it
// is sent all the same, for a lease's answer and the dispatchers' flow control.
message not_started(const storage::activity_task& task) {
  return message{task.instance_id, task.execution_id,
                 history_event{clock::now(), events::task_failed{task.task_id, failure_details{
                                                                   "Cancelled",
                                                                   "the attempt was cancelled before it started: it "
                                                                   "timed out or its instance ended",
                                                                   {},
                                                                   true}}}};
}

// Results a worker has gathered and not yet sent, grouped by destination so each destination
// gets one message.
class result_outbox {
 public:
  void add(const activity_work& work, message result) {
    if (by_partition_.empty() && done_by_dispatcher_.empty()) oldest_ = std::chrono::steady_clock::now();
    group(by_partition_, work.partition).push_back(std::move(result));
    if (work.done_to) group(done_by_dispatcher_, work.done_to).push_back(work.lease);
  }

  /// The attempt returned pending: its partition is told at once (it has no result to wait with).
  void add_awaiting(caf::event_based_actor* self, const activity_work& work) {
    const auto& task = work.task;
    self->send(work.partition, awaiting_atom::value, task.instance_id, task.execution_id, task.task_id);
    if (work.done_to) group(done_by_dispatcher_, work.done_to).push_back(work.lease);
  }

  bool overdue() const {
    return !by_partition_.empty() && std::chrono::steady_clock::now() - oldest_ >= max_result_delay;
  }

  void send_all(caf::event_based_actor* self) {
    for (auto& [partition, results] : by_partition_) {
      // A single result keeps the single-message form: the cluster's lease relay expects it.
      if (results.size() == 1)
        self->send(partition, deliver_atom::value, std::move(results.front()));
      else
        self->send(partition, deliver_atom::value, result_batch{std::move(results)});
    }
    // Results first: the cluster dispatcher may only count a worker free once its result is on its way.
    for (auto& [dispatcher, leases] : done_by_dispatcher_) self->send(dispatcher, done_atom::value, std::move(leases));
    by_partition_.clear();
    done_by_dispatcher_.clear();
  }

 private:
  template <class T>
  static std::vector<T>& group(std::vector<std::pair<caf::actor, std::vector<T>>>& groups, const caf::actor& to) {
    for (auto& [destination, items] : groups)
      if (destination == to) return items;
    return groups.emplace_back(to, std::vector<T>{}).second;
  }

  std::vector<std::pair<caf::actor, std::vector<message>>> by_partition_;
  std::vector<std::pair<caf::actor, std::vector<uint64_t>>> done_by_dispatcher_;
  std::chrono::steady_clock::time_point oldest_{};
};

// `running` is shared: a worker may still be finishing an attempt when the node's pool dispatcher,
// its other owner, is gone (ASan saw the registry freed under a worker at a node's stop).
caf::behavior worker(caf::event_based_actor* self, const registry* functions, caf::actor dispatcher,
                     std::shared_ptr<running_attempts> running, node_metrics* metrics, span_sink spans) {
  keep_running_on_unexpected(self);
  self->send(dispatcher, idle_atom::value, caf::actor{self}, uint64_t{0}, uint64_t{0});
  return {
      [=](work_atom, activity_batch& batch) {
        const auto started = std::chrono::steady_clock::now();
        result_outbox outbox;
        for (const auto& work : batch.items) {
          metrics->activity_queue_depth.fetch_sub(1, std::memory_order_relaxed);
          if (work.stop.stop_requested())
            outbox.add(work, not_started(work.task));
          else if (auto result = run_activity(self, dispatcher, *functions, work, *metrics, spans))
            outbox.add(work, std::move(*result));
          else
            outbox.add_awaiting(self, work);
          running->leave(attempt_of(work.task));
          if (outbox.overdue()) outbox.send_all(self);
        }
        outbox.send_all(self);
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
        self->send(dispatcher, idle_atom::value, caf::actor{self}, uint64_t{batch.items.size()},
                   static_cast<uint64_t>(micros.count()));
      },
  };
}

}  // namespace

activity_pool spawn_activity_pool(caf::actor_system& system, const registry& functions, size_t worker_count,
                                  node_metrics& metrics, span_sink spans) {
  activity_pool pool;
  pool.running = std::make_shared<running_attempts>();
  pool.dispatcher = system.spawn(dispatcher, &metrics, pool.running);
  pool.workers.reserve(worker_count);
  for (size_t i = 0; i < worker_count; ++i)
    pool.workers.push_back(
        system.spawn<caf::detached>(worker, &functions, pool.dispatcher, pool.running, &metrics, spans));
  return pool;
}

}  // namespace perdure::actors
