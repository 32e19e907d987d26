#include "state_machine.hpp"

#include "activities.hpp"
#include "entity_episode.hpp"

#include "restart.hpp"
#include "versions.hpp"

#include <algorithm>
#include <utility>

namespace perdure::partition {

namespace {

refusal not_found(const std::string& instance_id) {
  return {refusal_code::not_found, "no orchestration instance '" + instance_id + "'"};
}

refusal still_running(const std::string& instance_id) {
  return {refusal_code::invalid_argument,
          "orchestration instance '" + instance_id + "' is still running; terminate it first"};
}

actions just(request_id caller, answer_value value) { return {answer{caller, std::move(value)}}; }

// The task an activity's result answers.
std::optional<int32_t> activity_result_task(const event_payload& payload) {
  if (auto* done = std::get_if<events::task_completed>(&payload)) return done->task_id;
  if (auto* failed = std::get_if<events::task_failed>(&payload)) return failed->task_id;
  return std::nullopt;
}

}  // namespace

bool has_writes(const storage::commit_batch& batch) {
  return !batch.episodes.empty() || !batch.entities.empty() || !batch.delivered_outbox.empty() ||
         !batch.dedup_watermarks.empty() || !batch.awaiting_activities.empty() ||
         !batch.removed_timers.empty() || !batch.removed_activities.empty();
}

state_machine::state_machine(state_machine_config config)
    : config_(std::move(config)), cache_(config_.max_cached_instances), timers_(config_.partition) {}

std::optional<refusal> state_machine::refuse_if_failed() const {
  if (failure_.empty()) return std::nullopt;
  return refusal{refusal_code::unavailable,
                 "partition " + std::to_string(config_.partition) + " is unavailable: " + failure_};
}

// True if the instance exists (durably, or by a start waiting for its commit).
bool state_machine::exists(cached_instance& entry) {
  load_record(entry.slot, *config_.store);
  return entry.slot.record.has_value() || entry.start_pending;
}

void state_machine::wake_up(actions& out, time_point now) {
  if (auto at = timers_.wake_up(*config_.store, now, deadlines_.next_deadline())) out.push_back(arm_timer{*at});
}

actions state_machine::recover(time_point now) {
  const auto& store = *config_.store;
  const auto p = config_.partition;
  actions out;
  dedup_.load(store.dedup_watermarks(p));
  dispatch_activities pending;
  for (auto& task : store.pending_activities(p)) {
    deadlines_.dispatched(task);
    // An attempt awaiting completion by its token ran already: it is only timed, its heartbeat
    // timeout (kept in memory only) starting again now.
    if (task.awaiting_completion) {
      attempt_ref attempt{task.instance_id, task.execution_id, task.task_id};
      deadlines_.heartbeat(attempt, {}, now);
      pending_.insert(std::move(attempt));
    } else
      pending.tasks.push_back(std::move(task));
  }
  if (!pending.tasks.empty()) out.push_back(std::move(pending));
  for (auto& entry : store.outbox(p)) out.push_back(outbox_.remember(std::move(entry)));
  wake_up(out, now);
  check_versions_of_unfinished_instances();
  recovered_ = true;
  return out;
}


actions state_machine::start(request_id caller, std::string name, std::string input, std::string instance_id,
                             bool return_existing, int32_t version, time_point now, std::string trace_parent,
                             std::string trace_state) {
  if (auto refused = refuse_if_failed()) return just(caller, std::move(*refused));
  if (!config_.functions->has_orchestration(name))
    return just(caller, refusal{refusal_code::unknown_function, "no orchestration named '" + name + "' is registered"});
  if (auto refused = resolve_version_to_start(*config_.functions, name, version)) return just(caller, std::move(*refused));
  auto& entry = cache_.touch(instance_id);
  if (exists(entry) && (entry.start_pending || !is_terminal(entry.slot.record->status))) {
    if (return_existing) return just(caller, instance_id);
    return just(caller, refusal{refusal_code::already_exists,
                                "orchestration instance '" + instance_id + "' already exists and is not finished"});
  }
  events::execution_started started{std::move(name), instance_id, config_.new_execution_id(instance_id), std::move(input),
                                     std::nullopt, version, std::move(trace_parent), std::move(trace_state)};
  enqueue(entry, message{instance_id, {}, history_event{now, std::move(started)}});
  entry.start_pending = true;
  entry.acks.emplace_back(caller, std::move(instance_id));
  return {};
}

actions state_machine::command(request_id caller, message msg) {
  if (auto refused = refuse_if_failed()) return just(caller, std::move(*refused));
  auto& entry = cache_.touch(msg.instance_id);
  const auto completed_task = activity_result_task(msg.event.payload);  // a completion by task token
  if (is_entity_instance_id(msg.instance_id) && !completed_task) {  // created by its first operation: nothing to check
    enqueue(entry, std::move(msg));
    entry.acks.emplace_back(caller, std::string{});
    return {};
  }
  if (!exists(entry)) {
    auto id = msg.instance_id;
    cache_.forget(id);
    return just(caller, not_found(id));
  }
  if (std::holds_alternative<events::execution_rewound>(msg.event.payload) ||
      std::holds_alternative<events::execution_restarted>(msg.event.payload)) {
    if (auto refused = refuse_rewind_or_restart(entry, msg)) return just(caller, std::move(*refused));
    enqueue(entry, std::move(msg));
    entry.acks.emplace_back(caller, std::string{});
    return {};
  }
  if (auto refused = refuse_if_ended(entry)) return just(caller, std::move(*refused));
  if (completed_task) {
    if (auto refused = refuse_unless_open(entry, msg.execution_id, *completed_task)) return just(caller, std::move(*refused));
    bound_activity_result(msg, config_.max_payload_bytes);  // the rules of a result from a worker
    answered(attempt_ref{msg.instance_id, msg.execution_id, *completed_task});
  }
  enqueue(entry, std::move(msg));
  entry.acks.emplace_back(caller, std::string{});
  return {};
}

std::optional<refusal> state_machine::refuse_if_ended(const cached_instance& entry) const {
  if (entry.start_pending || !is_terminal(entry.slot.record->status)) return std::nullopt;
  const auto& record = *entry.slot.record;
  return refusal{refusal_code::instance_finished,
                 "orchestration instance '" + record.instance_id + "' has already ended (" + to_string(record.status) + ")"};
}

// The attempt is open while its entry is in the activity queue of the instance's current execution
// and nothing queued since (a worker's result, a timeout, an earlier completion) answers it.
std::optional<refusal> state_machine::refuse_unless_open(cached_instance& entry, const std::string& execution_id,
                                                         int32_t task_id) {
  const auto& id = entry.slot.instance_id;
  auto not_open = [&](const std::string& why) {
    return refusal{refusal_code::activity_not_open,
                   "activity task " + std::to_string(task_id) + " of orchestration instance '" + id + "' " + why};
  };
  const auto& record = entry.slot.record;
  if (entry.start_pending || !record || record->execution_id != execution_id)
    return not_open("belongs to an execution that has been replaced (continue-as-new or a new start)");
  const auto queued = config_.store->activity(id, task_id);
  if (!queued || queued->execution_id != execution_id)
    return not_open("has already ended: it was completed, failed or timed out");
  for (const auto& waiting : entry.inbox)
    if (activity_result_task(waiting.event.payload) == task_id &&
        (waiting.execution_id.empty() || waiting.execution_id == execution_id))
      return not_open("has already been answered (completed, failed or timed out)");
  return std::nullopt;
}

actions state_machine::awaiting_completion(const attempt_ref& attempt, time_point now) {
  if (!failure_.empty()) return {};
  awaiting_.push_back(attempt);
  return heartbeat_deadline_moved(deadlines_.heartbeat(attempt, {}, now));
}

actions state_machine::heartbeat_by_token(request_id caller, const attempt_ref& attempt, std::string details,
                                          time_point now) {
  if (auto refused = refuse_if_failed()) return just(caller, std::move(*refused));
  auto& entry = cache_.touch(attempt.instance_id);
  if (!exists(entry)) {
    cache_.forget(attempt.instance_id);
    return just(caller, not_found(attempt.instance_id));
  }
  if (auto refused = refuse_if_ended(entry)) return just(caller, std::move(*refused));
  if (auto refused = refuse_unless_open(entry, attempt.execution_id, attempt.task_id))
    return just(caller, std::move(*refused));
  auto out = heartbeat_deadline_moved(deadlines_.heartbeat(attempt, std::move(details), now));
  out.emplace_back(answer{caller, std::string{}});
  return out;
}

// The queue entries of the attempts that returned pending, marked in `batch`; an attempt that
// ended since (it is no longer in the queue) is left alone, and one whose instance ended before
// it returned is removed (unless the batch starts the instance again: the store drops the
// previous execution's entries then, and a new one may have the same key).
void state_machine::mark_awaiting(storage::commit_batch& batch) {
  auto starts_again = [&](const std::string& instance_id) {
    return std::any_of(batch.episodes.begin(), batch.episodes.end(), [&](const storage::episode_commit& commit) {
      return commit.instance_id == instance_id && commit.new_execution;
    });
  };
  for (auto& attempt : std::exchange(awaiting_, {})) {
    auto task = config_.store->activity(attempt.instance_id, attempt.task_id);
    if (!task || task->execution_id != attempt.execution_id || task->awaiting_completion) continue;
    const auto record = config_.store->instance(attempt.instance_id);
    if (record && is_terminal(record->status)) {
      if (!starts_again(attempt.instance_id)) batch.removed_activities.emplace_back(attempt.instance_id, attempt.task_id);
      continue;
    }
    task->awaiting_completion = true;
    pending_.insert(attempt);
    batch.awaiting_activities.push_back(std::move(*task));
  }
}

void state_machine::answered(const attempt_ref& attempt) {
  deadlines_.finished(attempt);
  pending_.erase(attempt);
}

// An attempt awaiting completion has no worker whose late result would release its queue entry:
// the episode that ends its instance removes it, so a token is the only thing left of it. (One that
// starts a new execution needs nothing: the store drops the previous execution's entries.)
void state_machine::forget_pending_of_ended(storage::commit_batch& batch) {
  for (auto& commit : batch.episodes) {
    const bool ended = is_terminal(commit.record.status);
    if (!ended && !commit.new_execution) continue;
    auto it = pending_.lower_bound(attempt_ref{commit.instance_id, {}, -1});
    while (it != pending_.end() && it->instance_id == commit.instance_id) {
      if (ended) commit.finished_activities.push_back(it->task_id);
      it = pending_.erase(it);
    }
  }
}

// A rewind needs a Failed instance, a restart a finished one, whose orchestration (in the version
// asked for) is registered here and whose history has the prefix asked for. Both act on the
// execution the request was checked against: msg.execution_id names it, so a request that a
// second one overtook in the same batch is dropped rather than applied to a new execution.
std::optional<refusal> state_machine::refuse_rewind_or_restart(cached_instance& entry, message& msg) {
  const auto& record = *entry.slot.record;
  const std::string quoted = "orchestration instance '" + record.instance_id + "'";
  const bool finished = !entry.start_pending && is_terminal(record.status);
  msg.execution_id = record.execution_id;
  if (std::holds_alternative<events::execution_rewound>(msg.event.payload)) {
    if (!finished || record.status != runtime_status::failed)
      return refusal{refusal_code::status_conflict,
                     quoted + " is " + (entry.start_pending ? "starting" : to_string(record.status)) +
                         "; only a Failed instance can be rewound"};
    return std::nullopt;
  }
  auto& restart = std::get<events::execution_restarted>(msg.event.payload);
  if (!finished)
    return refusal{refusal_code::status_conflict,
                   quoted + " is " + (entry.start_pending ? "starting" : to_string(record.status)) +
                       "; terminate it first, then restart it"};
  if (restart.version == events::execution_started::any_version) restart.version = record.version;
  if (!config_.functions->has_orchestration(record.name, restart.version))
    return refusal{refusal_code::unknown_function, "orchestration '" + record.name + "' version " +
                                                       std::to_string(restart.version) + " is not registered here"};
  if (auto why = invalid_restart_prefix(config_.store->history(record.instance_id), restart.from_event))
    return refusal{refusal_code::invalid_argument, quoted + ": " + *why};
  restart.previous_execution_id = record.execution_id;
  return std::nullopt;
}

actions state_machine::deliver(message msg) {
  if (!failure_.empty()) return {};  // the sender keeps it and re-sends after a restart
  if (msg.source_partition >= 0) {
    // Before recovery the watermarks are unknown, so a duplicate could not be recognized.
    if (!recovered_) return {};
    const auto source = static_cast<uint32_t>(msg.source_partition);
    switch (dedup_.accept(source, msg.source_seq, msg.source_prev_seq)) {
      case dedup_watermarks::verdict::already_durable: return {acknowledge{source, msg.source_seq}};
      case dedup_watermarks::verdict::already_queued:
      case dedup_watermarks::verdict::out_of_order: return {};
      case dedup_watermarks::verdict::apply: break;
    }
  }
  bound_activity_result(msg, config_.max_payload_bytes);  // results from other nodes too
  if (auto task_id = activity_result_task(msg.event.payload))
    answered(attempt_ref{msg.instance_id, msg.execution_id, *task_id});
  auto& entry = cache_.touch(msg.instance_id);
  enqueue(entry, std::move(msg));
  return {};
}

actions state_machine::wait(request_id caller, const std::string& instance_id) {
  if (auto refused = refuse_if_failed()) return just(caller, std::move(*refused));
  auto& entry = cache_.touch(instance_id);
  if (!exists(entry)) {
    cache_.forget(instance_id);
    return just(caller, not_found(instance_id));
  }
  if (!entry.start_pending && is_terminal(entry.slot.record->status)) return just(caller, *entry.slot.record);
  entry.waiters.push_back(caller);
  return {};
}

actions state_machine::expire_wait(request_id caller, const std::string& instance_id) {
  auto* entry = cache_.find(instance_id);
  if (!entry) return {};
  const auto waiter = std::find(entry->waiters.begin(), entry->waiters.end(), caller);
  if (waiter == entry->waiters.end()) return {};
  entry->waiters.erase(waiter);
  return just(caller, refusal{refusal_code::unavailable, "the wait for instance '" + instance_id + "' ran out"});
}

actions state_machine::purge(request_id caller, const std::string& instance_id) {
  if (auto refused = refuse_if_failed()) return just(caller, std::move(*refused));
  auto* entry = cache_.find(instance_id);
  if (entry && (entry->dirty || entry->start_pending)) return just(caller, still_running(instance_id));
  try {
    const bool purged = config_.store->purge(instance_id);
    cache_.forget(instance_id);
    return just(caller, purged);
  } catch (const storage::store_error& e) {
    if (e.code() == storage::errc::not_terminal) return just(caller, still_running(instance_id));
    throw;
  }
}

actions state_machine::heartbeat(const attempt_ref& attempt, std::string details, time_point now) {
  if (!failure_.empty()) return {};
  return heartbeat_deadline_moved(deadlines_.heartbeat(attempt, std::move(details), now));
}

actions state_machine::heartbeat_deadline_moved(std::optional<time_point> deadline) {
  if (!deadline) return {};
  if (auto at = timers_.wake_up_at(*deadline)) return {arm_timer{*at}};  // nothing earlier is armed
  return {};
}

void state_machine::acknowledged(uint64_t seq) { outbox_.acknowledged(seq); }

actions state_machine::on_timer(time_point now) {
  if (!failure_.empty()) return {};
  bool more = false;
  bool took = false;
  for (auto& timer : timers_.take_due(*config_.store, now, more)) {
    if (config_.on_timer_due) config_.on_timer_due(timer.fire_at, now);
    auto& entry = cache_.touch(timer.instance_id);
    enqueue(entry, message{timer.instance_id, timer.execution_id,
                           history_event{now, events::timer_fired{timer.timer_id, timer.fire_at, timer.created_at}}});
    took = true;
  }
  for (auto& [attempt, timeout] : deadlines_.take_expired(now)) {
    pending_.erase(attempt);
    enqueue(cache_.touch(attempt.instance_id), std::move(timeout));
    timed_out_.push_back(std::move(attempt));
    took = true;
  }
  actions out;
  if (more) {
    if (auto at = timers_.wake_up_at(now)) out.push_back(arm_timer{*at});
  } else if (!took || !wants_flush()) {  // otherwise the flush's commit arms the next one
    wake_up(out, now);
  }
  return out;
}

actions state_machine::resend() const {
  actions out;
  for (auto& msg : outbox_.unacknowledged()) out.push_back(std::move(msg));
  return out;
}

bool state_machine::wants_flush() const {
  return failure_.empty() && (cache_.has_dirty() || outbox_.has_delivered() || !awaiting_.empty());
}

storage::commit_batch state_machine::prepare(time_point now) {
  storage::commit_batch batch;
  batch.partition = config_.partition;
  touched_.clear();
  spans_.clear();
  if (!failure_.empty()) return batch;
  const episode_env env{*config_.functions, *config_.store, now, config_.new_execution_id, config_.limits,
                        config_.max_payload_bytes};
  orphaned_entries orphans;
  touched_ = cache_.take_dirty();
  last_episodes_ = touched_.size();
  for (auto* entry : touched_) {
    auto inbox = std::move(entry->inbox);
    entry->inbox.clear();
    const bool revive = std::exchange(entry->revive, false);
    if (is_entity_instance_id(entry->slot.instance_id)) {
      if (auto commit = run_entity_episode(entry->slot, std::move(inbox), env, spans_))
        batch.entities.push_back(std::move(*commit));
    } else if (auto commit = run_episode(entry->slot, std::move(inbox), revive, env, orphans, spans_)) {
      batch.episodes.push_back(std::move(*commit));
    }
  }
  batch.removed_timers = std::move(orphans.timers);
  batch.removed_activities = std::move(orphans.activities);
  mark_awaiting(batch);
  forget_pending_of_ended(batch);
  batch.delivered_outbox = outbox_.take_delivered();
  batch.dedup_watermarks = dedup_.marks_to_commit();
  return batch;
}

actions state_machine::committed(storage::commit_batch batch, storage::commit_result result, time_point now) {
  actions out;
  for (auto& entry : result.outbox) out.push_back(outbox_.remember(std::move(entry)));
  bool timers_changed = !batch.removed_timers.empty();
  for (const auto& removed : batch.removed_timers) timers_.removed(removed);
  dispatch_activities activities;
  cancel_activities cancels{std::exchange(timed_out_, {}), {}};
  timers_changed = timers_changed || !cancels.timed_out.empty();
  for (auto& commit : batch.episodes) {
    // The attempts of an execution that ended, or was replaced by a new one, no longer time out.
    const bool ended = is_terminal(commit.record.status);
    if (ended || commit.new_execution) deadlines_.ended(commit.instance_id);
    if (ended) cancels.ended_instances.push_back(commit.instance_id);
    for (auto& task : commit.scheduled_activities) {
      deadlines_.dispatched(task);
      timers_changed = timers_changed || task.timeouts.any();
      activities.tasks.push_back(std::move(task));
    }
    timers_changed = timers_changed || !commit.new_timers.empty() || !commit.fired_timers.empty();
    for (const auto& fired : commit.fired_timers) timers_.removed(fired);
  }
  for (const auto& commit : batch.entities) {
    timers_changed = timers_changed || !commit.new_timers.empty() || !commit.fired_timers.empty();
    for (const auto& fired : commit.fired_timers) timers_.removed(fired);
  }
  if (!activities.tasks.empty()) out.push_back(std::move(activities));
  if (!cancels.timed_out.empty() || !cancels.ended_instances.empty()) out.push_back(std::move(cancels));
  for (const auto& [source, seq] : dedup_.committed(batch.dedup_watermarks)) out.push_back(acknowledge{source, seq});

  for (auto* entry : touched_) {
    entry->start_pending = false;
    for (auto& [caller, reply] : entry->acks) out.emplace_back(answer{caller, std::move(reply)});
    entry->acks.clear();
    const auto& record = entry->slot.record;
    if (record && is_terminal(record->status)) {
      for (auto caller : entry->waiters) out.emplace_back(answer{caller, *record});
      entry->waiters.clear();
      entry->slot.executor.reset();
    }
  }
  if (!spans_.empty()) {
    for (auto& span : spans_)
      if (span.end == time_point{}) span.end = std::max(now, span.start);  // an episode ends with its commit
    out.push_back(export_spans{std::exchange(spans_, {})});
  }
  if (timers_changed) wake_up(out, now);
  cache_.evict_idle(touched_.size());
  touched_.clear();
  return out;
}

actions state_machine::fail(const std::string& why) {
  failure_ = why;
  actions out;
  const refusal unavailable{refusal_code::unavailable,
                            "partition " + std::to_string(config_.partition) + " is unavailable: " + why};
  for (auto& [id, entry] : cache_.entries()) {
    for (auto& [caller, reply] : entry.acks) out.emplace_back(answer{caller, unavailable});
    for (auto caller : entry.waiters) out.emplace_back(answer{caller, unavailable});
  }
  cache_.clear();
  touched_.clear();
  timed_out_.clear();
  awaiting_.clear();
  pending_.clear();
  spans_.clear();
  return out;
}

}  // namespace perdure::partition
