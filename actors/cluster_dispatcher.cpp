#include "cluster_dispatcher.hpp"

#include "actor_state.hpp"
#include "protocol.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <unordered_map>

namespace perdure::actors {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto tick_interval = 200ms;
constexpr auto busy_backoff = 100ms;

struct target {
  caf::actor node;  // invalid: down (the local target has none and is always up)
  uint32_t capacity = 0;
  uint32_t in_flight = 0;
  steady::time_point busy_until{};
};

struct lease_entry {
  activity_work work;
  size_t target = 0;
  steady::time_point sent{};
  bool orphaned = false;  // its node went down: dispatch again once the lease has run
};

struct dispatcher_state {
  static inline const char* name = "perdure.cluster_dispatcher";
  cluster_dispatcher_config config;
  std::vector<target> targets;
  std::deque<activity_work> queue;
  std::unordered_map<uint64_t, lease_entry> leases;
  uint64_t next_lease = 1;
};

using dispatcher_actor = stateful_actor<dispatcher_state>;

void release(dispatcher_actor* self, uint64_t lease) {
  auto& st = self->state;
  auto it = st.leases.find(lease);
  if (it == st.leases.end()) return;
  auto& t = st.targets[it->second.target];
  if (!it->second.orphaned && t.in_flight > 0) --t.in_flight;  // an orphan no longer counts
  st.leases.erase(it);
}

std::optional<size_t> pick_target(dispatcher_actor* self) {
  auto& st = self->state;
  const auto now = steady::now();
  std::optional<size_t> best;
  double best_load = 2.0;
  for (size_t i = 0; i < st.targets.size(); ++i) {
    const auto& t = st.targets[i];
    const bool local = i == st.config.self_index;
    if (!local && (!t.node || t.busy_until > now)) continue;
    if (t.capacity == 0 || t.in_flight >= t.capacity) continue;
    const double load = static_cast<double>(t.in_flight) / t.capacity;
    if (!best || load < best_load || (load == best_load && local)) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

void pump(dispatcher_actor* self);

void send_remote(dispatcher_actor* self, uint64_t lease, const caf::actor& node, const storage::activity_task& task) {
  self->state.config.metrics->activities_leased_out.fetch_add(1, std::memory_order_relaxed);
  self->state.config.metrics->messages_out.fetch_add(1, std::memory_order_relaxed);
  self->request(node, caf::infinite, work_atom::value, wire_activity{encode_task(task)})
      .then(
          [self, lease](const std::string& result) {
            auto& st = self->state;
            st.config.metrics->messages_in.fetch_add(1, std::memory_order_relaxed);
            auto it = st.leases.find(lease);
            if (it == st.leases.end()) return;  // already re-dispatched and answered
            const auto& task = it->second.work.task;
            try {
              if (result.empty())  // the attempt awaits completion by its task token
                self->send(it->second.work.partition, awaiting_atom::value, task.instance_id, task.execution_id,
                           task.task_id);
              else
                self->send(it->second.work.partition, deliver_atom::value, decode_message(result));
            } catch (const std::exception& e) {
              spdlog::error("activity result from another node is unreadable ({}); the activity runs again", e.what());
              st.queue.push_back(std::move(it->second.work));
            }
            release(self, lease);
            pump(self);
          },
          [self, lease](caf::error& err) {
            auto& st = self->state;
            auto it = st.leases.find(lease);
            if (it == st.leases.end()) return;
            if (err.category() == caf::atom("perdure") && err.code() == static_cast<uint8_t>(client_errc::busy)) {
              // Refused before it ran: place it again right away, elsewhere if possible.
              st.targets[it->second.target].busy_until = steady::now() + busy_backoff;
              st.queue.push_front(std::move(it->second.work));
              release(self, lease);
              pump(self);
              return;
            }
            // Lost with its node (or the connection): it may have run; wait for the lease to run.
            if (!it->second.orphaned) {
              auto& t = st.targets[it->second.target];
              if (t.in_flight > 0) --t.in_flight;
              it->second.orphaned = true;
            }
            pump(self);
          });
}

void pump(dispatcher_actor* self) {
  auto& st = self->state;
  activity_batch local;  // one message to the local pool, however many activities stay here
  while (!st.queue.empty()) {
    auto chosen = pick_target(self);
    if (!chosen) break;  // every node is at capacity: the work waits here (flow control)
    auto work = std::move(st.queue.front());
    st.queue.pop_front();
    const uint64_t lease = st.next_lease++;
    auto& t = st.targets[*chosen];
    ++t.in_flight;
    auto& entry = st.leases[lease];
    entry.target = *chosen;
    entry.sent = steady::now();
    if (*chosen == st.config.self_index) {
      local.items.emplace_back(std::move(work.task), std::move(work.partition), self, lease);
    } else {
      entry.work = std::move(work);
      send_remote(self, lease, t.node, entry.work.task);
    }
  }
  if (!local.items.empty()) self->send(st.config.local_pool, work_atom::value, std::move(local));
}

bool cancelled(const partition::cancel_activities& cancels, const storage::activity_task& task) {
  const partition::attempt_ref attempt{task.instance_id, task.execution_id, task.task_id};
  return std::find(cancels.timed_out.begin(), cancels.timed_out.end(), attempt) != cancels.timed_out.end() ||
         std::find(cancels.ended_instances.begin(), cancels.ended_instances.end(), task.instance_id) !=
             cancels.ended_instances.end();
}

// Attempts still queued here, or waiting to be dispatched again after their node was lost, are
// dropped (nobody waits for their result); those leased to another node are cancelled there; the
// local pool cancels its own.
void cancel(dispatcher_actor* self, partition::cancel_activities& cancels) {
  auto& st = self->state;
  std::erase_if(st.queue, [&](const activity_work& work) { return cancelled(cancels, work.task); });
  std::vector<uint64_t> orphans;
  for (const auto& [lease, entry] : st.leases) {
    if (entry.target == st.config.self_index || !cancelled(cancels, entry.work.task)) continue;
    const auto& task = entry.work.task;
    if (entry.orphaned)
      orphans.push_back(lease);
    else if (const auto& node = st.targets[entry.target].node)
      self->send(node, cancel_atom::value, task.instance_id, task.execution_id, task.task_id);
  }
  for (auto lease : orphans) release(self, lease);
  self->send(st.config.local_pool, cancel_atom::value, std::move(cancels));
}

void expire_leases(dispatcher_actor* self) {
  auto& st = self->state;
  const auto now = steady::now();
  std::vector<uint64_t> expired;
  for (const auto& [id, entry] : st.leases)
    if (entry.orphaned && now - entry.sent >= st.config.lease) expired.push_back(id);
  for (auto id : expired) {
    auto& entry = st.leases.at(id);
    spdlog::info("activity {} of instance '{}' (task {}): lease on a lost node ran out, dispatching it again",
                 entry.work.task.name, entry.work.task.instance_id, entry.work.task.task_id);
    st.config.metrics->activities_redispatched.fetch_add(1, std::memory_order_relaxed);
    st.queue.push_back(std::move(entry.work));
    release(self, id);
  }
}

caf::behavior cluster_dispatcher(dispatcher_actor* self, cluster_dispatcher_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.targets.resize(st.config.member_count);
  st.targets[st.config.self_index].capacity = st.config.local_workers;
  keep_running_on_unexpected(self);
  self->delayed_send(self, tick_interval, tick_atom::value);
  return {
      [=](work_atom, activity_batch& batch) {
        for (auto& work : batch.items) self->state.queue.push_back(std::move(work));
        pump(self);
      },
      [=](cancel_atom, partition::cancel_activities& cancels) { cancel(self, cancels); },
      [=](done_atom, const std::vector<uint64_t>& leases) {
        for (auto lease : leases) release(self, lease);
        pump(self);
      },
      [=](member_atom, uint32_t index, const caf::actor& node, uint32_t workers) {
        auto& st = self->state;
        if (index == st.config.self_index) return;
        if (index >= st.targets.size()) st.targets.resize(index + 1);  // a member that joined a replicated hub
        auto& t = st.targets[index];
        // Down, or restarted before its old incarnation was seen down: the work leased to the old
        // one will never be answered, so it runs again once its lease has run out.
        if (t.node != node) {
          for (auto& [id, entry] : st.leases)
            if (entry.target == index) entry.orphaned = true;
          t.in_flight = 0;
        }
        t.node = node;
        t.capacity = workers;
        pump(self);
      },
      [=](tick_atom) {
        expire_leases(self);
        pump(self);
        self->delayed_send(self, tick_interval, tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_cluster_dispatcher(caf::actor_system& system, cluster_dispatcher_config config) {
  return system.spawn(cluster_dispatcher, std::move(config));
}

}  // namespace perdure::actors
