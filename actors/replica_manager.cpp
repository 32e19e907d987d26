#include "replica_manager.hpp"

#include "actor_state.hpp"
#include "node_actor.hpp"
#include "partition_moves.hpp"
#include "partition_snapshots.hpp"
#include "protocol.hpp"

#include "storage/log/placement.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

namespace perdure::actors::replication {

// What the replica manager hands a partition's replica actor: the partition's entry as read this tick.
struct assignment_update {
  std::optional<storage::versioned_assignment> entry;
  std::string unreadable;  // why the entry could not be read, if it could not
  std::optional<uint64_t> move_lag;  // what the target of a move under way last reported
};

}  // namespace perdure::actors::replication

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::actors::replication::assignment_update)

namespace perdure::actors {
namespace {

using replication::assignment_update;

using steady = std::chrono::steady_clock;

// One partition's part on this node, carried out by an actor of its own: catching up, taking
// over and fencing block on the partition's log (a stream-leader election takes seconds), and
// one partition's wait must not hold the others back.
struct replica_state {
  static inline const char* name = "perdure.partition_replica";
  replica_state() = default;  // not an aggregate: see actor_state.hpp
  std::shared_ptr<const replica_manager_config> config;
  uint32_t partition = 0;
  caf::actor actor;  // the partition actor while this node leads the partition
  uint64_t epoch = 0;
  std::optional<storage::snapshot_schedule> snapshots;  // while this node leads the partition
  std::string last_problem;  // logged once until it changes
};

using replica = stateful_actor<replica_state>;

using assign_atom = caf::atom_constant<caf::atom("pd_assign")>;

struct replica_manager_state {
  static inline const char* name = "perdure.replica_manager";
  replica_manager_state() = default;  // not an aggregate: see actor_state.hpp
  std::shared_ptr<const replica_manager_config> config;
  std::vector<caf::actor> replicas;     // by partition
  std::vector<bool> busy;               // a replica has not answered its last update yet
  std::vector<int64_t> lag;             // by partition, as each replica last answered
  std::map<std::string, steady::time_point> last_reached;  // by member id, from when it was first seen
  steady::time_point started{};
  bool coordinating = false;
  std::string last_coordination_problem;
};

using manager = stateful_actor<replica_manager_state>;

const std::string& me(const replica_manager_config& c) { return c.self_id; }

void report(std::string& last, const std::string& problem) {
  if (problem == last) return;
  if (!problem.empty()) spdlog::warn("{}", problem);
  last = problem;
}

// Members counted as live: reachable now, or lost for less than the grace period (which starts
// when the manager starts, for members never reached).
std::set<std::string> live_members(manager* self) {
  auto& st = self->state;
  const auto& c = *st.config;
  const auto now = steady::now();
  const auto ids = c.view->member_ids();
  const auto reachable = c.view->reachable();
  std::set<std::string> live;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& last = st.last_reached.try_emplace(ids[i], steady::time_point{}).first->second;
    if (reachable[i]) last = now;
    if (reachable[i] || now - std::max(last, st.started) < c.grace) live.insert(ids[i]);
  }
  return live;
}

using entries = assignment_entries;

// The registered members: every node is told them (it connects to new ones, forgets removed ones);
// the coordinator plans over them and the members this node was started with (but a removed one).
hub_shape read_members(manager* self) {
  auto& st = self->state;
  const auto& c = *st.config;
  const auto registered = c.resources->registry->members();
  member_roster roster;
  hub_shape hub;
  for (const auto& [id, m] : registered) {
    if (m.state == storage::member_state::removed) {
      roster.removed.push_back(id);
      continue;
    }
    hub.members.push_back(id);
    if (m.state == storage::member_state::draining) {
      hub.draining.insert(id);
      roster.draining.push_back(id);
    }
    roster.members.push_back(m.address.empty() ? member{id, "", 0} : parse_member(id + "@" + m.address));
  }
  self->send(c.node, roster_atom::value, std::move(roster));
  // Members given with --members count before they registered: the first assignment waits for them.
  for (const auto& id : c.view->member_ids())
    if (!registered.contains(id)) hub.members.push_back(id);
  std::ranges::sort(hub.members);
  hub.live = live_members(self);
  hub.followers = c.followers;
  return hub;
}

// Writes what the placement rules plan, then the moves; `table` (read this tick) follows every
// write that landed.
void coordinate(manager* self, entries& table, const hub_shape& hub, const std::vector<std::optional<uint64_t>>& lags) {
  auto& st = self->state;
  const auto& c = *st.config;
  const auto& live = hub.live;
  const auto reachable = c.view->reachable();
  const bool everyone = std::ranges::all_of(hub.members, [&](const std::string& id) {
    const auto index = c.view->index_of(id);
    return index && *index < reachable.size() && reachable[*index];
  });
  const bool may_assign_first = everyone || steady::now() - st.started >= c.initial_grace;
  for (uint32_t p = 0; p < c.view->partitions(); ++p) {
    const auto current = table[p];
    if (!current && !may_assign_first) continue;
    const auto planned = storage::plan_assignment(p, current ? std::optional{current->assignment} : std::nullopt,
                                                  hub.members, live, c.followers, hub.draining);
    if (!planned) continue;
    try {
      table[p] = storage::versioned_assignment{*planned,
                                               c.resources->table->compare_and_set(p, *planned, current ? current->revision : 0)};
    } catch (const storage::store_error& e) {
      if (e.code() != storage::errc::fenced) throw;
      continue;  // another coordinator wrote it first; read again next time
    }
    c.metrics->assignments_changed.fetch_add(1, std::memory_order_relaxed);
    if (current && current->assignment.owner != planned->owner)
      spdlog::warn("partition {}: owner '{}' is lost, moving it to '{}' in epoch {}", p, current->assignment.owner,
                   planned->owner, planned->epoch);
  }
  write_moves(*c.resources->table, table, lags, hub, *c.metrics);
}

storage::partition_log& log_of(replica* self) {
  auto& logs = self->state.config->resources->logs;  // each replica touches its own element only
  auto& log = logs[self->state.partition];
  if (!log) log = self->state.config->resources->open_log(self->state.partition);
  return *log;
}

void stop_partition(replica* self) {
  auto& st = self->state;
  // Writes are refused before the actor is told to stop: a commit it is making now fails and
  // releases nothing.
  st.config->store->follow(st.partition);
  caf::anon_send_exit(st.actor, caf::exit_reason::user_shutdown);
  st.actor = nullptr;
}

size_t member_index(const replica_manager_config& c, const std::string& id) {
  return c.view->index_of(id).value_or(no_member);
}

std::vector<size_t> follower_indexes(const replica_manager_config& c, const storage::partition_assignment& a) {
  std::vector<size_t> out;
  for (const auto& id : a.followers)
    if (auto i = member_index(c, id); i != no_member) out.push_back(i);
  return out;
}

// The view's entry for an assignment led by `owner` (this node's partition actor when it leads it).
partition_owner view_entry(const replica_manager_config& c, const storage::partition_assignment& a, size_t owner,
                           caf::actor local, std::optional<uint64_t> move_lag) {
  return partition_owner{owner, a.epoch, std::move(local), follower_indexes(c, a),
                         a.moving_to.empty() ? no_member : member_index(c, a.moving_to), move_lag, a.pinned};
}

void lead(replica* self, const storage::partition_assignment& a) {
  auto& st = self->state;
  const auto& c = *st.config;
  const uint32_t p = st.partition;
  c.view->set_owner(p, view_entry(c, a, c.self_index, {}, {}));
  const auto begun = steady::now();
  const auto before = c.store->applied(p).seq;
  storage::take_over(*c.store, p, log_of(self), a.epoch, me(c), c.resources->snapshots.get());
  const auto caught_up = c.store->applied(p).seq - before - 1;  // not its own epoch start
  c.metrics->records_followed.fetch_add(caught_up, std::memory_order_relaxed);
  st.actor = c.spawn_partition(p);
  st.epoch = a.epoch;
  if (c.resources->snapshots && c.snapshot_every > 0) st.snapshots.emplace(c.snapshot_every);
  // Recovery is queued before the partition becomes reachable, so it loads its de-duplication
  // marks before any message from another partition.
  caf::anon_send(st.actor, recover_atom::value);
  c.view->set_owner(p, view_entry(c, a, c.self_index, st.actor, {}));
  c.metrics->takeovers.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("partition {}: led by this node in epoch {} (applied {} records first, {} ms)", p, a.epoch, caught_up,
               std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - begun).count());
}

// Makes this node's part in the partition what its assignment says; returns the records this
// node still has to apply as its follower.
int64_t reconcile(replica* self, const std::optional<storage::versioned_assignment>& entry,
                  std::optional<uint64_t> move_lag) {
  auto& st = self->state;
  const auto& c = *st.config;
  const uint32_t p = st.partition;
  if (!entry) return 0;
  const auto& a = entry->assignment;
  if (a.owner == me(c)) {
    if (st.actor && st.epoch == a.epoch && c.store->leads(p)) {
      c.view->set_owner(p, view_entry(c, a, c.self_index, st.actor, move_lag));
      if (st.snapshots) snapshot_if_due(*st.snapshots, *c.store, p, log_of(self), *c.resources->snapshots, *c.metrics);
      return 0;
    }
    if (st.actor) {
      c.metrics->leaderships_lost.fetch_add(1, std::memory_order_relaxed);
      stop_partition(self);
    }
    lead(self, a);
    return 0;
  }
  if (st.actor) {
    spdlog::info("partition {}: now owned by '{}' in epoch {}; stopping it here", p, a.owner, a.epoch);
    if (!c.store->leads(p)) c.metrics->leaderships_lost.fetch_add(1, std::memory_order_relaxed);
    stop_partition(self);
  }
  c.view->set_owner(p, view_entry(c, a, member_index(c, a.owner), {}, move_lag));
  if (std::find(a.followers.begin(), a.followers.end(), me(c)) == a.followers.end()) return 0;
  auto& log = log_of(self);
  c.metrics->records_followed.fetch_add(storage::catch_up(*c.store, p, log, c.resources->snapshots.get()),
                                        std::memory_order_relaxed);
  const auto behind = storage::records_behind(*c.store, p, log);
  if (a.moving_to == me(c)) c.resources->registry->report_progress(p, storage::move_progress{me(c), a.epoch, behind});
  return static_cast<int64_t>(behind);
}

caf::behavior partition_replica(replica* self, std::shared_ptr<const replica_manager_config> config,
                                uint32_t partition) {
  self->state.config = std::move(config);
  self->state.partition = partition;
  keep_running_on_unexpected(self);
  self->attach_functor([self](const caf::error&) {
    if (self->state.actor) caf::anon_send_exit(self->state.actor, caf::exit_reason::user_shutdown);
  });
  return {[=](assign_atom, const assignment_update& update) -> int64_t {
    auto& st = self->state;
    try {
      if (!update.unreadable.empty()) throw std::runtime_error("cannot read its assignment: " + update.unreadable);
      const auto lag = reconcile(self, update.entry, update.move_lag);
      report(st.last_problem, "");
      return lag;
    } catch (const std::exception& e) {
      report(st.last_problem, "partition " + std::to_string(partition) + ": " + e.what() + "; retrying");
      return 0;
    }
  }};
}

void tick(manager* self) {
  auto& st = self->state;
  const auto& c = *st.config;
  entries table(c.view->partitions());
  std::vector<std::string> unread(table.size());
  for (uint32_t p = 0; p < table.size(); ++p) {
    try {
      table[p] = c.resources->table->get(p);
    } catch (const std::exception& e) {
      unread[p] = e.what();
    }
  }
  std::vector<std::optional<uint64_t>> lags(table.size());
  try {
    const auto hub = read_members(self);
    lags = read_move_lags(*c.resources->registry, table);
    st.coordinating = c.resources->lease->hold(me(c));
    c.metrics->coordinator.store(st.coordinating ? 1 : 0, std::memory_order_relaxed);
    // A coordinator plans only from a whole table: a partition it could not read may have an entry.
    const bool whole = std::all_of(unread.begin(), unread.end(), [](const auto& why) { return why.empty(); });
    if (st.coordinating && whole) coordinate(self, table, hub, lags);
    report(st.last_coordination_problem, "");
  } catch (const std::exception& e) {
    report(st.last_coordination_problem, std::string{"coordination: "} + e.what() + "; retrying");
  }
  // A replica still busy with an earlier update (its log is electing a leader, say) gets the
  // newest one once it answers.
  for (uint32_t p = 0; p < table.size(); ++p) {
    if (st.busy[p]) continue;
    st.busy[p] = true;
    self->request(st.replicas[p], caf::infinite, assign_atom::value, assignment_update{table[p], unread[p], lags[p]})
        .then(
            [self, p](int64_t lag) {
              self->state.busy[p] = false;
              self->state.lag[p] = lag;
            },
            [self, p](caf::error&) { self->state.busy[p] = false; });
  }
  int64_t lag = 0;
  for (auto l : st.lag) lag += l;
  c.metrics->follower_lag.store(lag, std::memory_order_relaxed);
  self->delayed_send(self, c.interval, tick_atom::value);
}

caf::behavior replica_manager(manager* self, replica_manager_config config) {
  auto& st = self->state;
  const auto partitions = config.view->partitions();
  config.resources->logs.resize(partitions);
  st.config = std::make_shared<const replica_manager_config>(std::move(config));
  for (uint32_t p = 0; p < partitions; ++p)
    st.replicas.push_back(self->system().spawn<caf::detached>(partition_replica, st.config, p));
  st.busy.resize(partitions);
  st.lag.resize(partitions);
  st.started = steady::now();
  keep_running_on_unexpected(self);
  // Runs after the state is gone (CAF destroys it first): it reads only what it captured.
  self->attach_functor([replicas = st.replicas, config = st.config](const caf::error&) {
    for (const auto& r : replicas) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    try {
      // Handing the role over at a clean stop spares the others the lease's expiry.
      if (config->metrics->coordinator.load(std::memory_order_relaxed) == 1)
        config->resources->lease->release(me(*config));
    } catch (const std::exception& e) {
      spdlog::warn("could not give the coordinator role up: {}", e.what());
    }
  });
  self->send(self, tick_atom::value);
  return {[=](tick_atom) { tick(self); }};
}

}  // namespace

caf::actor spawn_replica_manager(caf::actor_system& system, replica_manager_config config) {
  return system.spawn<caf::detached>(replica_manager, std::move(config));
}

}  // namespace perdure::actors
