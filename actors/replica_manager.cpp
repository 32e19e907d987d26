#include "replica_manager.hpp"

#include "actor_state.hpp"
#include "protocol.hpp"

#include "storage/log/placement.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace perdure::actors {
namespace {

using steady = std::chrono::steady_clock;

struct partition_role {
  caf::actor actor;  // the partition actor while this node leads the partition
  uint64_t epoch = 0;
  std::string last_problem;  // logged once until it changes
};

struct replica_manager_state {
  static inline const char* name = "perdure.replica_manager";
  replica_manager_state() = default;  // not an aggregate: see actor_state.hpp
  replica_manager_config config;
  std::vector<partition_role> roles;
  std::vector<steady::time_point> last_reached;  // by member
  steady::time_point started{};
  bool coordinating = false;
  std::string last_coordination_problem;
};

using manager = stateful_actor<replica_manager_state>;

const std::string& me(manager* self) { return self->state.config.members[self->state.config.self_index]; }

storage::partition_log& log_of(manager* self, uint32_t partition) {
  auto& logs = self->state.config.resources->logs;
  if (!logs[partition]) logs[partition] = self->state.config.resources->open_log(partition);
  return *logs[partition];
}

void report(std::string& last, const std::string& problem) {
  if (problem == last) return;
  if (!problem.empty()) spdlog::warn("{}", problem);
  last = problem;
}

// Members counted as live: reachable now, or lost for less than the grace period (which starts
// when the manager starts, for members never reached).
std::set<std::string> live_members(manager* self) {
  auto& st = self->state;
  const auto now = steady::now();
  const auto reachable = st.config.view->reachable();
  std::set<std::string> live;
  for (size_t i = 0; i < st.config.members.size(); ++i) {
    if (reachable[i]) st.last_reached[i] = now;
    if (reachable[i] || now - std::max(st.last_reached[i], st.started) < st.config.grace)
      live.insert(st.config.members[i]);
  }
  return live;
}

using entries = std::vector<std::optional<storage::versioned_assignment>>;

// Writes what the placement rules plan; `table` (read this tick) follows every write that landed.
void coordinate(manager* self, entries& table) {
  auto& st = self->state;
  auto& c = st.config;
  const auto live = live_members(self);
  const auto reachable = c.view->reachable();
  const bool everyone = std::all_of(reachable.begin(), reachable.end(), [](bool r) { return r; });
  const bool may_assign_first = everyone || steady::now() - st.started >= c.initial_grace;
  for (uint32_t p = 0; p < c.view->partitions(); ++p) {
    const auto current = table[p];
    if (!current && !may_assign_first) continue;
    const auto planned = storage::plan_assignment(p, current ? std::optional{current->assignment} : std::nullopt,
                                                  c.members, live, c.followers);
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
}

void stop_partition(manager* self, uint32_t partition) {
  auto& role = self->state.roles[partition];
  // Writes are refused before the actor is told to stop: a commit it is making now fails and
  // releases nothing.
  self->state.config.store->follow(partition);
  caf::anon_send_exit(role.actor, caf::exit_reason::user_shutdown);
  role.actor = nullptr;
}

size_t member_index(manager* self, const std::string& id) {
  const auto& members = self->state.config.members;
  const auto found = std::find(members.begin(), members.end(), id);
  return found == members.end() ? no_member : static_cast<size_t>(found - members.begin());
}

std::vector<size_t> follower_indexes(manager* self, const storage::partition_assignment& a) {
  std::vector<size_t> out;
  for (const auto& id : a.followers)
    if (auto i = member_index(self, id); i != no_member) out.push_back(i);
  return out;
}

void lead(manager* self, uint32_t partition, const storage::partition_assignment& a) {
  auto& c = self->state.config;
  auto& role = self->state.roles[partition];
  const uint64_t epoch = a.epoch;
  c.view->set_owner(partition, partition_owner{c.self_index, epoch, {}, follower_indexes(self, a)});
  const auto begun = steady::now();
  const auto before = c.store->applied(partition).seq;
  storage::take_over(*c.store, partition, log_of(self, partition), epoch, me(self));
  const auto caught_up = c.store->applied(partition).seq - before - 1;  // not its own epoch start
  c.metrics->records_followed.fetch_add(caught_up, std::memory_order_relaxed);
  role.actor = c.spawn_partition(partition);
  role.epoch = epoch;
  // Recovery is queued before the partition becomes reachable, so it loads its de-duplication
  // marks before any message from another partition.
  caf::anon_send(role.actor, recover_atom::value);
  c.view->set_owner(partition, partition_owner{c.self_index, epoch, role.actor, follower_indexes(self, a)});
  c.metrics->takeovers.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("partition {}: led by this node in epoch {} (applied {} records first, {} ms)", partition, epoch,
               caught_up, std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - begun).count());
}

// Makes this node's part in one partition what its assignment says; returns the records this
// node still has to apply as its follower.
int64_t reconcile(manager* self, uint32_t partition, const std::optional<storage::versioned_assignment>& entry) {
  auto& c = self->state.config;
  auto& role = self->state.roles[partition];
  if (!entry) return 0;
  const auto& a = entry->assignment;
  if (a.owner == me(self)) {
    if (role.actor && role.epoch == a.epoch && c.store->leads(partition)) {
      c.view->set_owner(partition, partition_owner{c.self_index, a.epoch, role.actor, follower_indexes(self, a)});
      return 0;
    }
    if (role.actor) {
      c.metrics->leaderships_lost.fetch_add(1, std::memory_order_relaxed);
      stop_partition(self, partition);
    }
    lead(self, partition, a);
    return 0;
  }
  if (role.actor) {
    spdlog::info("partition {}: now owned by '{}' in epoch {}; stopping it here", partition, a.owner, a.epoch);
    if (!c.store->leads(partition)) c.metrics->leaderships_lost.fetch_add(1, std::memory_order_relaxed);
    stop_partition(self, partition);
  }
  c.view->set_owner(partition, partition_owner{member_index(self, a.owner), a.epoch, {}, follower_indexes(self, a)});
  if (std::find(a.followers.begin(), a.followers.end(), me(self)) == a.followers.end()) return 0;
  auto& log = log_of(self, partition);
  c.metrics->records_followed.fetch_add(storage::catch_up(*c.store, partition, log), std::memory_order_relaxed);
  return static_cast<int64_t>(log.last_seq()) - static_cast<int64_t>(c.store->read_from(partition) - 1);
}

void tick(manager* self) {
  auto& st = self->state;
  auto& c = st.config;
  entries table(c.view->partitions());
  std::vector<std::string> unread(table.size());
  for (uint32_t p = 0; p < table.size(); ++p) {
    try {
      table[p] = c.resources->table->get(p);
    } catch (const std::exception& e) {
      unread[p] = e.what();
    }
  }
  try {
    st.coordinating = c.resources->lease->hold(me(self));
    c.metrics->coordinator.store(st.coordinating ? 1 : 0, std::memory_order_relaxed);
    // A coordinator plans only from a whole table: a partition it could not read may have an entry.
    const bool whole = std::all_of(unread.begin(), unread.end(), [](const auto& why) { return why.empty(); });
    if (st.coordinating && whole) coordinate(self, table);
    report(st.last_coordination_problem, "");
  } catch (const std::exception& e) {
    report(st.last_coordination_problem, std::string{"coordination: "} + e.what() + "; retrying");
  }
  int64_t lag = 0;
  for (uint32_t p = 0; p < c.view->partitions(); ++p) {
    try {
      if (!unread[p].empty()) throw std::runtime_error("cannot read its assignment: " + unread[p]);
      lag += reconcile(self, p, table[p]);
      report(st.roles[p].last_problem, "");
    } catch (const std::exception& e) {
      report(st.roles[p].last_problem, "partition " + std::to_string(p) + ": " + e.what() + "; retrying");
    }
  }
  c.metrics->follower_lag.store(lag, std::memory_order_relaxed);
  self->delayed_send(self, c.interval, tick_atom::value);
}

caf::behavior replica_manager(manager* self, replica_manager_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  const auto partitions = st.config.view->partitions();
  st.roles.resize(partitions);
  st.config.resources->logs.resize(partitions);
  st.last_reached.resize(st.config.members.size());
  st.started = steady::now();
  keep_running_on_unexpected(self);
  self->attach_functor([self](const caf::error&) {
    auto& st = self->state;
    for (auto& role : st.roles)
      if (role.actor) caf::anon_send_exit(role.actor, caf::exit_reason::user_shutdown);
    try {
      // Handing the role over at a clean stop spares the others the lease's expiry.
      if (st.coordinating) st.config.resources->lease->release(me(self));
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
