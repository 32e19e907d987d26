#include "partition_actor.hpp"

#include "activity_pool.hpp"
#include "actor_state.hpp"
#include "episode.hpp"
#include "protocol.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <list>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>

namespace perdure::actors {
namespace {

using namespace std::chrono_literals;

constexpr size_t timers_per_scan = 1024;
constexpr auto resend_interval = 1s;

struct slot_entry {
  instance_slot slot;
  std::vector<message> inbox;
  bool dirty = false;
  bool start_pending = false;
  std::vector<std::pair<caf::response_promise, std::string>> acks;  // answered after the commit
  std::vector<caf::response_promise> waiters;                       // answered when terminal
  std::list<slot_entry*>::iterator lru_position;

  bool busy() const { return !inbox.empty() || start_pending || !acks.empty() || !waiters.empty(); }
};

struct partition_state {
  static inline const char* name = "perdure.partition";

  partition_config config;
  std::unordered_map<std::string, slot_entry> slots;  // elements never move: pointers to them stay valid
  std::vector<slot_entry*> dirty;  // a dirty entry is never erased before its flush
  std::list<slot_entry*> lru;      // most recently used first
  bool flush_scheduled = false;
  std::string failure;  // non-empty once a commit failed: the partition takes no more work

  // De-duplication of messages from other partitions.
  std::unordered_map<uint32_t, uint64_t> accepted;   // highest seq queued per source
  std::unordered_map<uint32_t, uint64_t> committed;  // highest seq durable per source
  std::vector<std::pair<uint32_t, uint64_t>> acks_after_commit;

  // This partition's outbox: what was sent and not yet acknowledged, also by target partition.
  std::map<uint64_t, storage::outbox_entry> unacked;
  std::unordered_map<uint32_t, std::set<uint64_t>> unacked_by_target;
  std::vector<uint64_t> delivered;

  // Timers: one delayed message for the earliest; stale ones are recognized by generation.
  std::optional<time_point> armed;
  uint64_t timer_generation = 0;
  // Timers queued as messages whose removal is not yet committed, so a re-scan skips them.
  using timer_key = std::tuple<std::string, int32_t, time_point>;
  std::set<timer_key> firing;
  bool recovered = false;  // messages from other partitions wait until the watermarks are loaded

  std::mt19937_64 random{std::random_device{}()};
};

using partition_actor = stateful_actor<partition_state>;

std::string random_hex_id(std::mt19937_64& random) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = random(), b = random();
  for (int i = 0; i < 16; ++i) {
    id[i] = digits[(a >> (i * 4)) & 0xf];
    id[16 + i] = digits[(b >> (i * 4)) & 0xf];
  }
  return id;
}

slot_entry& entry(partition_actor* self, const std::string& instance_id) {
  auto [it, inserted] = self->state.slots.try_emplace(instance_id);
  auto& e = it->second;
  auto& lru = self->state.lru;
  if (inserted) {
    e.slot.instance_id = instance_id;
    e.lru_position = lru.insert(lru.begin(), &e);
  } else {
    lru.splice(lru.begin(), lru, e.lru_position);  // no allocation: this runs for every message
  }
  return e;
}

// Drops what the partition caches of an instance that does not exist (any more). The entry itself
// stays while messages for it wait for a flush (e.g. a late activity result of a purged
// instance): the flush needs it.
void forget(partition_actor* self, const std::string& instance_id) {
  auto it = self->state.slots.find(instance_id);
  if (it == self->state.slots.end()) return;
  auto& e = it->second;
  if (e.dirty || e.busy()) {
    e.slot.record_loaded = false;
    e.slot.record.reset();
    e.slot.executor.reset();
    return;
  }
  self->state.lru.erase(e.lru_position);
  self->state.slots.erase(it);
}

void schedule_flush(partition_actor* self) {
  if (self->state.flush_scheduled) return;
  self->state.flush_scheduled = true;
  self->send(self, flush_atom::value);
}

void enqueue(partition_actor* self, slot_entry& e, message msg) {
  e.inbox.push_back(std::move(msg));
  if (!e.dirty) {
    e.dirty = true;
    self->state.dirty.push_back(&e);
  }
  schedule_flush(self);
}

void arm_timer(partition_actor* self, time_point at) {
  auto& st = self->state;
  if (st.armed && *st.armed <= at) return;
  st.armed = at;
  const auto now = clock::now();
  const auto delay = at > now ? std::chrono::duration_cast<std::chrono::microseconds>(at - now) : 0us;
  self->delayed_send(self, delay, timer_atom::value, ++st.timer_generation);
}

void arm_next_timer(partition_actor* self) {
  auto next = self->state.config.store->next_timer(self->state.config.partition);
  if (!next) return;
  // The earliest may be one that is firing right now (its removal not yet committed): look again
  // shortly rather than spin.
  if (!self->state.firing.empty() && *next <= clock::now()) *next = clock::now() + 10ms;
  arm_timer(self, *next);
}

void fire_due_timers(partition_actor* self) {
  auto& st = self->state;
  const auto now = clock::now();
  auto due = st.config.store->timers(st.config.partition, now, timers_per_scan);
  for (auto& timer : due) {
    if (!st.firing.emplace(timer.instance_id, timer.timer_id, timer.fire_at).second) continue;
    st.config.metrics->record_timer_fired(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - timer.fire_at).count()));
    auto& e = entry(self, timer.instance_id);
    enqueue(self, e, message{timer.instance_id, timer.execution_id,
                             history_event{now, events::timer_fired{timer.timer_id, timer.fire_at}}});
  }
  if (due.size() == timers_per_scan) arm_timer(self, now);
}

void send_outbox(partition_actor* self, const storage::outbox_entry& out) {
  auto& st = self->state;
  const auto& targets = st.config.directory->partitions;
  if (out.target_partition >= targets.size()) {
    spdlog::error("partition {}: outbox entry {} names partition {} which does not exist", st.config.partition,
                  out.seq, out.target_partition);
    return;
  }
  message msg = out.msg;
  const auto& pending = st.unacked_by_target[out.target_partition];
  auto at = pending.lower_bound(out.seq);
  msg.source_prev_seq = at == pending.begin() ? 0 : *std::prev(at);
  self->send(targets[out.target_partition], deliver_atom::value, std::move(msg));
}

void remember_unacked(partition_actor* self, storage::outbox_entry out) {
  auto& st = self->state;
  st.unacked_by_target[out.target_partition].insert(out.seq);
  const uint64_t seq = out.seq;
  st.unacked.emplace(seq, std::move(out));
}

// Evicts least recently used idle entries while the cache is over its bound. A busy entry found
// at the tail (e.g. one with a client waiting for its completion) moves to the front, and each call
// looks at a bounded number of entries, so many waiting instances do not make every flush walk
// the whole cache.
void evict_idle(partition_actor* self, size_t touched) {
  auto& st = self->state;
  size_t budget = 256 + 2 * touched;
  while (st.slots.size() > st.config.max_cached_instances && budget-- > 0) {
    auto* victim = st.lru.back();
    if (victim->busy() || victim->dirty) {
      st.lru.splice(st.lru.begin(), st.lru, victim->lru_position);
      continue;
    }
    st.lru.pop_back();
    st.slots.erase(st.slots.find(victim->slot.instance_id));
  }
}

void fail_partition(partition_actor* self, const std::string& why) {
  auto& st = self->state;
  st.failure = why;
  st.config.metrics->failed_partitions.fetch_add(1, std::memory_order_relaxed);
  spdlog::critical("partition {} stopped taking work: {}", st.config.partition, why);
  auto err = make_client_error(client_errc::unavailable,
                               "partition " + std::to_string(st.config.partition) + " is unavailable: " + why);
  for (auto& [id, e] : st.slots) {
    for (auto& [rp, reply] : e.acks) rp.deliver(err);
    for (auto& rp : e.waiters) rp.deliver(err);
  }
  st.slots.clear();
  st.lru.clear();
  st.dirty.clear();
}

void flush(partition_actor* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (!st.failure.empty()) return;

  storage::commit_batch batch;
  batch.partition = st.config.partition;
  const episode_env env{*st.config.functions, *st.config.store, clock::now(),
                        [self] { return random_hex_id(self->state.random); }, st.config.limits,
                        st.config.max_payload_bytes};
  std::vector<slot_entry*> touched;
  orphaned_entries orphans;
  std::vector<slot_entry*> dirty;
  dirty.swap(st.dirty);
  for (auto* dirty_entry : dirty) {
    auto& e = *dirty_entry;
    e.dirty = false;
    touched.push_back(&e);
    auto inbox = std::move(e.inbox);
    e.inbox.clear();
    try {
      if (auto commit = run_episode(e.slot, std::move(inbox), env, orphans)) batch.episodes.push_back(std::move(*commit));
    } catch (const std::exception& ex) {  // a storage read failed while loading the instance
      fail_partition(self, ex.what());
      return;
    }
  }
  batch.removed_timers = std::move(orphans.timers);
  batch.removed_activities = std::move(orphans.activities);
  batch.delivered_outbox.swap(st.delivered);
  for (const auto& [source, seq] : st.accepted)
    if (st.committed[source] < seq) batch.dedup_watermarks.emplace_back(source, seq);

  storage::commit_result result;
  const bool has_writes = !batch.episodes.empty() || !batch.delivered_outbox.empty() ||
                          !batch.dedup_watermarks.empty() || !batch.removed_timers.empty() ||
                          !batch.removed_activities.empty();
  if (has_writes) {
    const auto started = std::chrono::steady_clock::now();
    try {
      result = st.config.store->commit(batch);
    } catch (const std::exception& ex) {
      fail_partition(self, ex.what());
      return;
    }
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    st.config.metrics->record_commit(static_cast<uint64_t>(micros.count()), batch.episodes.size());
  }
  st.config.metrics->episodes.fetch_add(dirty.size(), std::memory_order_relaxed);

  // Durable: release the effects.
  for (const auto& [source, seq] : batch.dedup_watermarks) st.committed[source] = seq;
  for (auto& out : result.outbox) remember_unacked(self, std::move(out));
  for (const auto& out : result.outbox) send_outbox(self, st.unacked.at(out.seq));
  bool timers_changed = !batch.removed_timers.empty();
  for (const auto& removed : batch.removed_timers)
    st.firing.erase({removed.instance_id, removed.timer_id, removed.fire_at});
  activity_batch activities;
  for (auto& commit : batch.episodes) {
    for (auto& task : commit.scheduled_activities) activities.items.emplace_back(std::move(task), self);
    timers_changed = timers_changed || !commit.new_timers.empty() || !commit.fired_timers.empty();
    for (const auto& fired : commit.fired_timers) st.firing.erase({fired.instance_id, fired.timer_id, fired.fire_at});
  }
  if (!activities.items.empty()) self->send(st.config.dispatcher, work_atom::value, std::move(activities));
  const auto& targets = st.config.directory->partitions;
  for (const auto& [source, seq] : st.acks_after_commit)
    if (source < targets.size()) self->send(targets[source], ack_atom::value, seq);
  st.acks_after_commit.clear();

  for (auto* e : touched) {
    e->start_pending = false;
    for (auto& [rp, reply] : e->acks) rp.deliver(reply);
    e->acks.clear();
    const auto& record = e->slot.record;
    if (record && is_terminal(record->status)) {
      for (auto& rp : e->waiters) rp.deliver(*record);
      e->waiters.clear();
      e->slot.executor.reset();
    }
  }
  if (timers_changed) arm_next_timer(self);
  evict_idle(self, touched.size());
}

caf::error refuse_if_failed(partition_actor* self) {
  if (self->state.failure.empty()) return caf::none;
  return make_client_error(client_errc::unavailable, "partition " + std::to_string(self->state.config.partition) +
                                                         " is unavailable: " + self->state.failure);
}

// True if the instance exists (durably, or by a start waiting for its commit).
bool exists(partition_actor* self, slot_entry& e) {
  load_record(e.slot, *self->state.config.store);
  return e.slot.record.has_value() || e.start_pending;
}

void recover(partition_actor* self) {
  auto& st = self->state;
  const auto p = st.config.partition;
  for (auto& [source, seq] : st.config.store->dedup_watermarks(p)) st.accepted[source] = st.committed[source] = seq;
  activity_batch pending;
  for (auto& task : st.config.store->pending_activities(p)) pending.items.emplace_back(std::move(task), self);
  if (!pending.items.empty()) self->send(st.config.dispatcher, work_atom::value, std::move(pending));
  for (auto& out : st.config.store->outbox(p)) remember_unacked(self, std::move(out));
  for (const auto& [seq, out] : st.unacked) send_outbox(self, out);
  arm_next_timer(self);
  self->delayed_send(self, resend_interval, resend_atom::value);
  st.recovered = true;
}

// A message from a worker (activity result) or from a partition (outbox message, de-duplicated).
void accept_delivery(partition_actor* self, message msg) {
  auto& st = self->state;
  if (!st.failure.empty()) return;  // the sender keeps it and re-sends after a restart
  if (msg.source_partition >= 0) {
    // Before recovery the watermarks are unknown, so a duplicate could not be recognized.
    if (!st.recovered) return;
    const auto source = static_cast<uint32_t>(msg.source_partition);
    auto& accepted = st.accepted[source];
    if (msg.source_seq <= st.committed[source]) {  // a re-send of something already durable
      if (source < st.config.directory->partitions.size())
        self->send(st.config.directory->partitions[source], ack_atom::value, msg.source_seq);
      return;
    }
    if (msg.source_seq <= accepted) return;         // already queued: acknowledged after its commit
    if (msg.source_prev_seq > accepted) return;     // an earlier one is missing: wait for the re-send
    accepted = msg.source_seq;
    st.acks_after_commit.emplace_back(source, msg.source_seq);
  }
  bound_activity_result(msg, st.config.max_payload_bytes);  // results from other nodes too
  auto& e = entry(self, msg.instance_id);
  enqueue(self, e, std::move(msg));
}

caf::behavior partition_behavior(partition_actor* self, partition_config config) {
  self->state.config = std::move(config);
  keep_running_on_unexpected(self);
  self->set_exception_handler([self](std::exception_ptr& ep) -> caf::error {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      fail_partition(self, std::string{"internal error: "} + e.what());
    }
    return caf::none;  // keep running: commands get 'unavailable'
  });
  return {
      [=](recover_atom) {
        try {
          recover(self);
        } catch (const std::exception& e) {
          fail_partition(self, std::string{"recovery failed: "} + e.what());
        }
      },
      [=](start_atom, std::string& name, std::string& input, std::string& instance_id,
          bool return_existing) -> caf::result<std::string> {
        if (auto err = refuse_if_failed(self)) return err;
        if (!self->state.config.functions->has_orchestration(name))
          return make_client_error(client_errc::unknown_function, "no orchestration named '" + name + "' is registered");
        auto& e = entry(self, instance_id);
        if (exists(self, e) && (e.start_pending || !is_terminal(e.slot.record->status))) {
          if (return_existing) return instance_id;
          return make_client_error(client_errc::already_exists,
                                   "orchestration instance '" + instance_id + "' already exists and is not finished");
        }
        events::execution_started started{std::move(name), instance_id, random_hex_id(self->state.random),
                                          std::move(input), std::nullopt};
        enqueue(self, e, message{instance_id, {}, history_event{clock::now(), std::move(started)}});
        e.start_pending = true;
        auto rp = self->make_response_promise();
        e.acks.emplace_back(rp, instance_id);
        return caf::delegated<std::string>{};
      },
      [=](command_atom, message& msg) -> caf::result<std::string> {
        if (auto err = refuse_if_failed(self)) return err;
        auto& e = entry(self, msg.instance_id);
        if (!exists(self, e)) {
          auto id = msg.instance_id;
          forget(self, id);
          return make_client_error(client_errc::not_found, "no orchestration instance '" + id + "'");
        }
        if (!e.start_pending && is_terminal(e.slot.record->status)) return std::string{};  // finished: nothing to do
        enqueue(self, e, std::move(msg));
        e.acks.emplace_back(self->make_response_promise(), std::string{});
        return caf::delegated<std::string>{};
      },
      [=](deliver_atom, message& msg) { accept_delivery(self, std::move(msg)); },
      [=](deliver_atom, result_batch& batch) {
        for (auto& msg : batch.results) accept_delivery(self, std::move(msg));
      },
      [=](wait_atom, const std::string& instance_id) -> caf::result<instance_record> {
        if (auto err = refuse_if_failed(self)) return err;
        auto& e = entry(self, instance_id);
        if (!exists(self, e)) {
          forget(self, instance_id);
          return make_client_error(client_errc::not_found, "no orchestration instance '" + instance_id + "'");
        }
        if (!e.start_pending && is_terminal(e.slot.record->status)) return *e.slot.record;
        e.waiters.push_back(self->make_response_promise());
        return caf::delegated<instance_record>{};
      },
      [=](purge_atom, const std::string& instance_id) -> caf::result<bool> {
        if (auto err = refuse_if_failed(self)) return err;
        auto it = self->state.slots.find(instance_id);
        if (it != self->state.slots.end() && (it->second.dirty || it->second.start_pending))
          return make_client_error(client_errc::invalid_argument,
                                   "orchestration instance '" + instance_id + "' is still running; terminate it first");
        try {
          const bool purged = self->state.config.store->purge(instance_id);
          forget(self, instance_id);
          return purged;
        } catch (const storage::store_error& e) {
          if (e.code() == storage::errc::not_terminal)
            return make_client_error(client_errc::invalid_argument,
                                     "orchestration instance '" + instance_id + "' is still running; terminate it first");
          throw;
        }
      },
      [=](ack_atom, uint64_t seq) {
        auto& st = self->state;
        auto it = st.unacked.find(seq);
        if (it != st.unacked.end()) {
          st.unacked_by_target[it->second.target_partition].erase(seq);
          st.unacked.erase(it);
          self->state.delivered.push_back(seq);
          schedule_flush(self);
        }
      },
      [=](flush_atom) { flush(self); },
      [=](timer_atom, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation || !st.failure.empty()) return;
        st.armed.reset();
        fire_due_timers(self);
        if (!st.flush_scheduled) arm_next_timer(self);
      },
      [=](resend_atom) {
        for (const auto& [seq, out] : self->state.unacked) send_outbox(self, out);
        self->delayed_send(self, resend_interval, resend_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_partition(caf::actor_system& system, partition_config config) {
  return system.spawn<caf::detached>(partition_behavior, std::move(config));
}

}  // namespace perdure::actors
