#include "episode.hpp"

#include "restart.hpp"
#include "spans.hpp"
#include "validate.hpp"  // storage's

#include <perdure/detail/entity_locks.hpp>
#include <perdure/detail/log_context.hpp>
#include <perdure/detail/overloaded.hpp>
#include <perdure/effective_history.hpp>
#include <perdure/errors.hpp>
#include <perdure/failure.hpp>
#include <perdure/trace_context.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

namespace perdure::partition {
namespace {

using detail::overloaded;

// A chain of continue_as_new within one episode is bounded so a buggy orchestration cannot spin a
// partition forever; the rest continues at the next episode.
constexpr int max_executions_per_episode = 16;

class episode_runner {
 public:
  episode_runner(instance_slot& slot, const episode_env& env, orphaned_entries& orphans, detail::span_records& spans,
                 detail::log_scope& about)
      : slot_(slot), env_(env), orphans_(orphans), spans_(spans), about_(about), spans_before_(spans.size()),
        ended_before_(slot.record && is_terminal(slot.record->status)) {
    commit_.instance_id = slot.instance_id;
  }

  void take(message& msg) {
    if (auto* started = std::get_if<events::execution_started>(&msg.event.payload)) {
      flush();
      start_execution(std::move(*started), {});
      return;
    }
    if (auto* rewound = std::get_if<events::execution_rewound>(&msg.event.payload)) {
      flush();
      rewind(msg.execution_id, std::move(*rewound));
      return;
    }
    if (auto* restarted = std::get_if<events::execution_restarted>(&msg.event.payload)) {
      flush();
      restart(msg.execution_id, std::move(*restarted));
      return;
    }
    if (keep_while_failed(msg)) return;
    if (!slot_.record || is_terminal(slot_.record->status)) {
      drop(msg, "the instance has no running execution");
      return;
    }
    if (!msg.execution_id.empty() && msg.execution_id != slot_.record->execution_id) {
      drop(msg, "it is for execution " + msg.execution_id);
      return;
    }
    release_queue_entry(msg);
    if (auto* raised = std::get_if<events::event_raised>(&msg.event.payload))
      if (auto link = link_to(raised->trace_parent)) links_.push_back(std::move(*link));
    if (auto* fired = std::get_if<events::timer_fired>(&msg.event.payload))
      if (auto span = timer_span(*slot_.record, *fired)) spans_.push_back(std::move(*span));
    if (pending_.empty()) pending_.push_back(history_event{env_.now, events::episode_started{}});
    pending_.push_back(std::move(msg.event));
  }

  /// Replays an instance with nothing queued for it (see run_episode's `revive`).
  void revive_unfinished() {
    if (slot_.executor || !slot_.record || is_terminal(slot_.record->status)) return;
    revive({});
  }

  std::optional<storage::episode_commit> finish() {
    flush();
    if (!wrote_) return std::nullopt;
    slot_.record->last_updated_at = env_.now;
    commit_.record = *slot_.record;
    if (auto refusal = refused_by_store()) {
      fail_refused(*refusal);
      slot_.record->last_updated_at = env_.now;
      commit_.record = *slot_.record;
    }
    record_spans();
    return std::move(commit_);
  }

 private:
  bool runs() const {
    return slot_.record && !is_terminal(slot_.record->status) &&
           slot_.record->status != runtime_status::continued_as_new;
  }

  // A start that asks for any version runs the latest registered one; a requested version is
  // recorded as asked, registered here or not (then the execution waits for it).
  int32_t version_to_record(const events::execution_started& started) const {
    if (started.version != events::execution_started::any_version) return started.version;
    if (!env_.functions.has_orchestration(started.name)) return 0;  // the execution fails: nobody registered it
    return env_.functions.version_to_start(started.name, started.version);
  }

  // This episode's span, and the instance's when the episode ended it.
  void record_spans() {
    const auto& record = *slot_.record;
    if (auto span = episode_span(record, env_.now, span_id(), std::move(links_))) spans_.push_back(std::move(*span));
    if (is_terminal(record.status) && (commit_.new_execution || !ended_before_))
      if (auto span = instance_span(record, env_.now)) spans_.push_back(std::move(*span));
  }

  // The id of this episode's span, chosen when it is first needed: what the episode sends names it.
  const std::string& span_id() {
    if (span_id_.empty()) span_id_ = detail::new_span_id();
    return span_id_;
  }

  // The traceparent what this episode sends carries: its own span's.
  std::string sender_traceparent() { return partition::sender_traceparent(*slot_.record, span_id()); }

  // The record of a new execution (its trace context is the caller's to adopt).
  instance_record record_of(const events::execution_started& started, runtime_status status,
                            time_point created_at) const {
    instance_record record;
    record.instance_id = slot_.instance_id;
    record.execution_id = started.execution_id;
    record.name = started.name;
    record.version = started.version;
    record.status = status;
    record.created_at = created_at;
    record.input = started.input;
    record.parent = started.parent;
    return record;
  }

  void start_execution(events::execution_started started, std::vector<history_event> carryover) {
    if (runs()) {
      refuse_second_start(started);
      return;
    }
    started.version = version_to_record(started);
    const bool continued = slot_.record && slot_.record->status == runtime_status::continued_as_new;
    auto record = record_of(started, runtime_status::pending, continued ? slot_.record->created_at : env_.now);
    adopt_trace(record, started, continued ? slot_.record : std::nullopt);
    about_.set_trace_id(trace_id_of(record.trace_parent));  // the code's log lines from now on
    slot_.record = std::move(record);
    commit_.new_execution = true;
    commit_.appended.clear();
    wrote_ = true;

    std::vector<history_event> first;
    first.reserve(2 + carryover.size());
    first.push_back(history_event{env_.now, events::episode_started{}});
    first.push_back(history_event{env_.now, started});
    for (auto& ev : carryover) first.push_back(std::move(ev));

    try {
      slot_.executor = std::make_unique<orchestration_executor>(env_.functions, started.name, started.version,
                                                                 slot_.instance_id, env_.limits);
    } catch (const orchestration_version_unavailable& e) {
      stall(first, e);  // the start is recorded; a node with the version runs it
      return;
    } catch (const std::exception&) {
      // Unknown orchestration (e.g. a sub-orchestration name nobody registered): the execution fails.
      commit_.appended = std::move(first);
      fail_execution(to_failure_details(std::current_exception()));
      return;
    }
    run([&] { return slot_.executor->execute(first); }, first);
  }

  // The execution's history as this episode leaves it so far.
  history current_history() const {
    history timeline;
    if (!commit_.new_execution) timeline = env_.store.history(slot_.instance_id);
    timeline.insert(timeline.end(), commit_.appended.begin(), commit_.appended.end());
    return timeline;
  }

  // A client's rewind of the failed execution `execution_id` (the state machine checked it; a
  // second rewind in the same batch finds it running and is dropped). The rewind is recorded, the
  // failure it supersedes no longer counts (effective_history.hpp), and the code replays the
  // effective history, where the failed step is pending again.
  void rewind(const std::string& execution_id, events::execution_rewound rewound) {
    auto& record = slot_.record;
    if (!record || record->status != runtime_status::failed || record->execution_id != execution_id) {
      spdlog::debug("instance '{}': dropped a rewind of execution {}: it is not the failed one", slot_.instance_id,
                    execution_id);
      return;
    }
    auto timeline = current_history();
    const auto first_new = timeline.size();
    timeline.push_back(history_event{env_.now, events::episode_started{}});
    timeline.push_back(history_event{env_.now, std::move(rewound)});
    commit_.appended.insert(commit_.appended.end(), timeline.begin() + static_cast<std::ptrdiff_t>(first_new), timeline.end());
    wrote_ = true;
    unanswered_while_failed_.reset();
    recorded_while_failed_ = false;
    record->status = runtime_status::running;
    record->failure.reset();
    record->output.clear();
    reissue_pending(timeline, superseded_events(timeline), false);
    replay_afresh(timeline);
  }

  // A Failed execution records the results of the steps it started and no result has answered,
  // without running its code: a rewind (effective_history.hpp) finds them, so a child or an
  // activity that finished while the instance was Failed is not run again, or waited for forever.
  bool keep_while_failed(const message& msg) {
    if (!slot_.record || slot_.record->status != runtime_status::failed) return false;
    if (!msg.execution_id.empty() && msg.execution_id != slot_.record->execution_id) return false;
    if (!record_while_failed(msg.event)) return false;
    release_queue_entry(msg);
    release_late_grant(msg.event, slot_.record->execution_id);  // kept for a rewind, but not held meanwhile
    return true;
  }

  // Appends `result` to the Failed execution's history if it answers a step nothing answered. A
  // fired timer carries nothing and a rewind arms it again (due, it fires at once): it is not kept,
  // so the history does not depend on when the Failed instance's timers happened to come due.
  bool record_while_failed(const history_event& result) {
    const auto id = result_id(result.payload);
    if (!id || std::holds_alternative<events::timer_fired>(result.payload)) return false;
    if (!unanswered_while_failed_) unanswered_while_failed_ = unanswered_steps(current_history());
    if (unanswered_while_failed_->erase(*id) == 0) return false;
    if (!recorded_while_failed_) commit_.appended.push_back(history_event{env_.now, events::episode_started{}});
    recorded_while_failed_ = true;
    commit_.appended.push_back(result);
    wrote_ = true;
    return true;
  }

  // The id of the step a result answers.
  static std::optional<int32_t> result_id(const event_payload& payload) {
    return std::visit(overloaded{
                          [](const events::task_completed& r) -> std::optional<int32_t> { return r.task_id; },
                          [](const events::task_failed& r) -> std::optional<int32_t> { return r.task_id; },
                          [](const events::timer_fired& r) -> std::optional<int32_t> { return r.timer_id; },
                          [](const events::sub_orchestration_completed& r) -> std::optional<int32_t> { return r.task_id; },
                          [](const events::sub_orchestration_failed& r) -> std::optional<int32_t> { return r.task_id; },
                          [](const events::entity_call_completed& r) -> std::optional<int32_t> { return r.task_id; },
                          [](const events::entity_call_failed& r) -> std::optional<int32_t> { return r.task_id; },
                          [](const auto&) -> std::optional<int32_t> { return std::nullopt; },
                      },
                      payload);
  }

  // The steps of `timeline` waiting for a result: taken, and not answered by a result that counts.
  static std::set<int32_t> unanswered_steps(const history& timeline) {
    const auto superseded = superseded_events(timeline);
    std::set<int32_t> waiting;
    for (const auto& ev : timeline)
      if (auto id = pending_action_id(ev.payload)) waiting.insert(*id);
    for (size_t p = 0; p < timeline.size(); ++p)
      if (auto id = result_id(timeline[p].payload); id && !superseded[p]) waiting.erase(*id);
    return waiting;
  }

  // A client's restart of the finished execution `execution_id`: a new execution whose history is
  // the prefix restart.hpp builds, replayed, then continued live.
  void restart(const std::string& execution_id, events::execution_restarted restarted) {
    if (!slot_.record || runs() || slot_.record->execution_id != execution_id) {
      spdlog::debug("instance '{}': dropped a restart of execution {}: it is not the finished one", slot_.instance_id,
                    execution_id);
      return;
    }
    const auto previous = current_history();
    if (auto why = invalid_restart_prefix(previous, restarted.from_event)) {  // the state machine checked it
      spdlog::warn("instance '{}': dropped a restart: {}", slot_.instance_id, *why);
      return;
    }
    auto timeline = restart_history(previous, restarted, env_.new_execution_id(slot_.instance_id), env_.now);
    const auto& started = std::get<events::execution_started>(
        std::find_if(timeline.begin(), timeline.end(), [](const history_event& ev) {
          return std::holds_alternative<events::execution_started>(ev.payload);
        })->payload);
    auto record = record_of(started, runtime_status::running, env_.now);
    adopt_trace(record, started, std::nullopt);
    about_.set_trace_id(trace_id_of(record.trace_parent));
    slot_.record = std::move(record);
    commit_.new_execution = true;
    commit_.appended = timeline;
    wrote_ = true;
    if (restarted.from_event > 0) reissue_pending(timeline, superseded_events(timeline), true);
    replay_afresh(timeline);
  }

  // The steps of `timeline` that wait for a result nobody will send, after a rewind or a restart
  // (the results that did reach the failed execution are in its history, keep_while_failed; those
  // of a previous execution name it, and a restart's new one drops them). Activities and timers are
  // issued again; so are sub-orchestrations and entity calls after a restart, and after a rewind
  // those whose failure it superseded (a child that did not fail may still answer this execution).
  // An activity's deadlines move with it, by the time since it was first scheduled.
  void reissue_pending(const history& timeline, const std::vector<bool>& superseded, bool restarted) {
    std::set<int32_t> answered;
    std::set<int32_t> rewound_failures;  // only failures are ever superseded
    for (size_t p = 0; p < timeline.size(); ++p)
      if (auto id = result_id(timeline[p].payload)) (superseded[p] ? rewound_failures : answered).insert(*id);
    std::optional<events::continued_as_new> no_next;
    for (const auto& ev : timeline) {
      const auto id = pending_action_id(ev.payload);
      if (!id || answered.contains(*id)) continue;
      if (auto* scheduled = std::get_if<events::task_scheduled>(&ev.payload)) {
        auto again = *scheduled;
        const auto moved = env_.now - ev.timestamp;
        if (again.timeouts.attempt_deadline != time_point{}) again.timeouts.attempt_deadline += moved;
        if (again.timeouts.call_deadline != time_point{}) again.timeouts.call_deadline += moved;
        derive_effects(history_event{env_.now, std::move(again)}, no_next);
      } else if (std::holds_alternative<events::timer_created>(ev.payload) || restarted ||
                 rewound_failures.contains(*id)) {
        derive_effects(ev, no_next);
      }
    }
  }

  // The id of an action that waits for a result (an event sent or a signal waits for none).
  static std::optional<int32_t> pending_action_id(const event_payload& payload) {
    if (auto* t = std::get_if<events::task_scheduled>(&payload)) return t->task_id;
    if (auto* t = std::get_if<events::timer_created>(&payload)) return t->timer_id;
    if (auto* s = std::get_if<events::sub_orchestration_created>(&payload)) return s->task_id;
    if (auto* c = std::get_if<events::entity_called>(&payload)) return c->task_id;
    return std::nullopt;
  }

  // A new coroutine for `timeline`, which this episode wrote or rewrote: what the code does beyond
  // them happens now.
  void replay_afresh(const history& timeline) {
    slot_.executor.reset();
    try {
      slot_.executor = std::make_unique<orchestration_executor>(env_.functions, slot_.record->name,
                                                                 slot_.record->version, slot_.instance_id, env_.limits);
      auto replayed = slot_.executor->replay(timeline);
      for (auto& ev : replayed.appended) ev.timestamp = env_.now;
      apply(std::move(replayed));
    } catch (const std::exception& e) {
      stall({}, e);
    }
  }

  // Clients cannot get here (the start is refused before it is queued); a parent's
  // sub-orchestration start can, and the parent must not wait forever for a child it did not start.
  void refuse_second_start(const events::execution_started& started) {
    if (!started.parent) {
      spdlog::warn("instance '{}': ignored a second start while execution {} runs", slot_.instance_id,
                   slot_.record->execution_id);
      return;
    }
    const auto& parent = *started.parent;
    auto failure = to_failure_details(std::make_exception_ptr(instance_already_exists(slot_.instance_id)));
    failure.non_retriable = true;  // as Temporal's WorkflowExecutionAlreadyStarted
    send(message{parent.instance_id, parent.execution_id,
                 history_event{env_.now, events::sub_orchestration_failed{parent.task_id, std::move(failure)}}});
    wrote_ = true;
  }

  // The store's own check, on this episode alone (it is cheap: sizes and ids).
  std::optional<std::string> refused_by_store() {
    storage::commit_batch alone;
    alone.partition = env_.store.partition_of(slot_.instance_id);
    alone.episodes.push_back(std::move(commit_));
    std::optional<std::string> refusal;
    try {
      storage::validate(alone, env_.store.partition_count(), env_.max_payload_bytes);
    } catch (const storage::store_error& e) {
      refusal = e.what();
    }
    commit_ = std::move(alone.episodes.front());
    return refusal;
  }

  // What the episode did cannot be stored: none of it happens. The execution it ran fails with a
  // payload error on top of its durable state (or, when this episode started it, on top of its
  // start); the queue entries the episode consumed are released as they would have been.
  void fail_refused(const std::string& refusal) {
    slot_.executor.reset();
    spans_.resize(spans_before_);  // the timers it applied are not committed as applied
    auto durable = env_.store.instance(slot_.instance_id);
    const bool was_running = durable && !is_terminal(durable->status) &&
                             durable->status != runtime_status::continued_as_new;
    std::optional<history_event> started;
    if (!was_running)
      for (auto& ev : commit_.appended)
        if (std::holds_alternative<events::execution_started>(ev.payload)) {
          started = std::move(ev);
          break;
        }
    commit_.appended.clear();
    commit_.scheduled_activities.clear();
    commit_.new_timers.clear();
    commit_.outbox.clear();
    commit_.appended.push_back(history_event{env_.now, events::episode_started{}});
    if (was_running || !started) {
      commit_.new_execution = false;
      slot_.record = std::move(durable);
    } else {
      auto& start = std::get<events::execution_started>(started->payload);
      if (start.input.size() > env_.max_payload_bytes) start.input.clear();  // the refusal says why
      commit_.new_execution = true;
      slot_.record->execution_id = start.execution_id;
      slot_.record->version = start.version;
      slot_.record->input = start.input;
      slot_.record->parent = start.parent;
      slot_.record->output.clear();
      slot_.record->custom_status.clear();
      commit_.appended.push_back(std::move(*started));
    }
    spdlog::error("instance '{}' failed: the store refuses what its episode produced: {}", slot_.instance_id, refusal);
    fail_execution(to_failure_details(std::make_exception_ptr(
        payload_error("the orchestration produced a payload the store refuses: " + refusal))));
  }

  void flush() {
    if (pending_.empty()) return;
    auto events = std::move(pending_);
    pending_.clear();
    if (!slot_.executor && !revive(events)) return;
    run([&] { return slot_.executor->execute(events); }, events);
  }

  // Rebuilds the coroutine from the stored history (after an eviction, a restart or a stall).
  // Reading the history is outside the try: a store error is not the code's and fails the partition.
  bool revive(const std::vector<history_event>& events) {
    const auto stored = env_.store.history(slot_.instance_id);
    try {
      slot_.executor = std::make_unique<orchestration_executor>(env_.functions, slot_.record->name,
                                                                 slot_.record->version, slot_.instance_id, env_.limits);
      auto replayed = slot_.executor->replay(stored);
      // What the code does beyond the history (fixed code past a stall) happens now, not at the
      // stalled episode's time.
      for (auto& ev : replayed.appended) ev.timestamp = env_.now;
      if (slot_.record->failure) {  // a stall is over: the code runs again
        slot_.record->failure.reset();
        wrote_ = true;
      }
      apply(std::move(replayed));
      return true;
    } catch (const std::exception& e) {
      stall(events, e);
      return false;
    }
  }

  template <class Step>
  void run(Step&& step, const std::vector<history_event>& inputs) {
    try {
      apply(step());
    } catch (const std::exception& e) {
      stall(inputs, e);
    }
  }

  static failure_details stall_failure(const std::exception& e) {
    if (dynamic_cast<const nondeterminism_error*>(&e) != nullptr)
      return {"NonDeterminismError", e.what(), "the instance resumes when fixed code replays it", false};
    if (auto* missing = dynamic_cast<const orchestration_version_unavailable*>(&e))
      return {std::string(version_unavailable_error_type), e.what(),
              "the instance waits; it continues when a node that registers version " +
                  std::to_string(missing->version()) + " serves its partition",
              false};
    return {"OrchestrationStalled", e.what(), "the instance resumes when fixed code replays it", false};
  }

  // The code cannot run. Record the inputs the engine would apply, so nothing is lost, and keep the
  // instance running so fixed code can take over; a terminate needs no code and ends it.
  void stall(const std::vector<history_event>& inputs, const std::exception& e) {
    slot_.executor.reset();
    wrote_ = true;
    auto& record = *slot_.record;
    if (record.status == runtime_status::pending) record.status = runtime_status::running;
    auto failure = stall_failure(e);
    // Once per instance, not once per message: a waiting instance sees every message fail the same way.
    if (record.failure != failure) {
      if (failure.error_type == version_unavailable_error_type)
        spdlog::warn("instance '{}' waits: {}", slot_.instance_id, failure.message);
      else
        spdlog::error("instance '{}' stalled: {}", slot_.instance_id, failure.message);
    }
    record.failure = std::move(failure);
    for (const auto& ev : inputs) {
      const bool keep = std::visit(
          overloaded{
              [&](const events::execution_suspended&) {
                if (record.status == runtime_status::suspended) return false;
                record.status = runtime_status::suspended;
                return true;
              },
              [&](const events::execution_resumed&) {
                if (record.status != runtime_status::suspended) return false;
                record.status = runtime_status::running;
                return true;
              },
              [&](const auto&) { return true; },
          },
          ev.payload);
      if (!keep) {
        note_ignored(ev);
        continue;
      }
      commit_.appended.push_back(ev);
      if (auto* terminated = std::get_if<events::execution_terminated>(&ev.payload)) {
        terminate(*terminated);
        return;
      }
    }
  }

  void terminate(const events::execution_terminated& terminated) {
    release_entity_locks();
    auto& record = *slot_.record;
    record.status = runtime_status::terminated;
    record.output = nlohmann::json(terminated.reason).dump();
    record.failure.reset();
    slot_.executor.reset();
    notify_parent(events::sub_orchestration_failed{
        -1, failure_details{"Terminated", "the sub-orchestration was terminated: " + terminated.reason, {}, true}});
  }

  void apply(episode_result result) {
    wrote_ = wrote_ || !result.appended.empty() || result.custom_status.has_value();
    std::optional<events::continued_as_new> next;
    auto& record = *slot_.record;
    if (!result.appended.empty() && record.status == runtime_status::pending) record.status = runtime_status::running;
    for (auto& ev : result.appended) {
      derive_effects(ev, next);
      commit_.appended.push_back(std::move(ev));
    }
    // Results the episode brought after the one the execution failed on are kept, as later ones are.
    for (auto& ev : result.ignored) {
      release_late_grant(ev, record.execution_id);
      if (record.status != runtime_status::failed || !record_while_failed(ev)) note_ignored(ev);
    }
    if (result.custom_status) record.custom_status = std::move(*result.custom_status);
    if (next) {
      if (++executions_ > max_executions_per_episode) {
        fail_execution(failure_details{"ContinueAsNewLoop", "continued as new too often in one episode", {}, true});
        return;
      }
      events::execution_started started{record.name, slot_.instance_id, env_.new_execution_id(slot_.instance_id), next->input,
                                        record.parent,
                                        result.next_version.value_or(events::execution_started::any_version)};
      start_execution(std::move(started), std::move(result.carryover_events));
    }
  }

  // What an event the orchestration's execution recorded means: for the instance's record, and for
  // the queues and messages the commit carries.
  void derive_effects(const history_event& ev, std::optional<events::continued_as_new>& next) {
    auto& record = *slot_.record;
    std::visit(
        overloaded{
            [&](const events::task_scheduled& t) {
              commit_.scheduled_activities.push_back(storage::activity_task{
                  slot_.instance_id, record.execution_id, t.task_id, t.name, t.input, env_.now, t.attempt,
                  t.first_task_id, t.timeouts, t.heartbeat_details, false, record.trace_parent});
            },
            [&](const events::timer_created& t) {
              commit_.new_timers.push_back(
                  storage::timer_entry{t.fire_at, slot_.instance_id, record.execution_id, t.timer_id, env_.now});
            },
            [&](const events::sub_orchestration_created& sub) {
              // The child's instance span is a child of this instance's.
              events::execution_started start{
                  sub.name, sub.instance_id, env_.new_execution_id(sub.instance_id), sub.input,
                  parent_instance{record.name, slot_.instance_id, record.execution_id, sub.task_id}, sub.version,
                  record.trace_parent, record.trace_state};
              send(message{sub.instance_id, {}, history_event{env_.now, std::move(start)}});
            },
            [&](const events::event_sent& sent) {
              send(message{sent.instance_id, {},
                           history_event{env_.now, events::event_raised{sent.name, sent.input, sender_traceparent()}}});
            },
            [&](const events::entity_called& call) {
              send(message{call.entity, {},
                           history_event{env_.now, events::entity_operation{call.operation, call.input, slot_.instance_id,
                                                                            record.execution_id, call.task_id, {},
                                                                            sender_traceparent()}}});
            },
            [&](const events::entity_signaled& signal) {
              send(message{signal.entity, {},
                           history_event{env_.now, events::entity_operation{signal.operation, signal.input,
                                                                            slot_.instance_id, record.execution_id, -1,
                                                                            signal.deliver_at, sender_traceparent()}}});
            },
            [&](const events::execution_completed& done) {
              release_entity_locks();
              record.status = runtime_status::completed;
              record.output = done.output;
              record.failure.reset();
              notify_parent(events::sub_orchestration_completed{-1, done.output});
            },
            [&](const events::execution_failed& failed) {
              release_entity_locks();
              record.status = runtime_status::failed;
              record.failure = failed.failure;
              notify_parent(events::sub_orchestration_failed{-1, failed.failure});
            },
            [&](const events::execution_terminated& terminated) { terminate(terminated); },
            [&](const events::continued_as_new& can) {
              release_entity_locks();
              record.status = runtime_status::continued_as_new;
              next = can;
            },
            [&](const events::execution_suspended&) { record.status = runtime_status::suspended; },
            [&](const events::execution_resumed&) {
              if (record.status == runtime_status::suspended) record.status = runtime_status::running;
            },
            // Inputs, recorded as they were applied: their effects were taken when they arrived.
            [](const events::execution_started&) {},
            [](const events::episode_started&) {},
            [](const events::task_completed&) {},
            [](const events::task_failed&) {},
            [](const events::timer_fired&) {},
            [](const events::sub_orchestration_completed&) {},
            [](const events::sub_orchestration_failed&) {},
            [](const events::event_raised&) {},
            [](const events::entity_call_completed&) {},
            [](const events::entity_call_failed&) {},
            [](const events::entity_operation&) {},  // only ever sent to an entity
            [](const events::patch_marker&) {},      // read by replays only
            [](const events::execution_rewound&) {},   // taken when it arrived (rewind())
            [](const events::execution_restarted&) {}, // taken when it arrived (restart())
        },
        ev.payload);
  }

  void fail_execution(failure_details failure) {
    release_entity_locks();
    commit_.appended.push_back(history_event{env_.now, events::execution_failed{failure}});
    slot_.record->status = runtime_status::failed;
    slot_.record->failure = failure;
    slot_.executor.reset();
    notify_parent(events::sub_orchestration_failed{-1, std::move(failure)});
    wrote_ = true;
  }

  // An execution's end releases the critical section it holds (detail/entity_locks.hpp): what its
  // history says it was granted and did not release. An execution that never asked for one
  // needs no look at its history.
  void release_entity_locks() {
    if (slot_.executor && !slot_.executor->took_entity_locks()) return;
    for (auto& entity : detail::held_entity_locks(current_history())) unlock(std::move(entity), slot_.record->execution_id);
  }

  // A grant that reaches an execution that ended (or was replaced) while acquiring: the entities
  // it locked are released, or they would wait for it forever.
  void release_late_grant(const history_event& ev, const std::string& execution_id) {
    auto* grant = std::get_if<events::entity_call_completed>(&ev.payload);
    if (!grant) return;
    auto entities = detail::decode_lock_set(grant->output);
    if (!entities) return;
    for (auto& entity : *entities) unlock(std::move(entity), execution_id);
    wrote_ = true;
  }

  void unlock(std::string entity, const std::string& execution_id) {
    send(message{std::move(entity), {},
                 history_event{env_.now, events::entity_operation{std::string(detail::unlock_entity_operation), {},
                                                                  slot_.instance_id, execution_id, -1}}});
  }

  template <class Result>
  void notify_parent(Result result) {
    const auto& parent = slot_.record->parent;
    if (!parent) return;
    result.task_id = parent->task_id;
    send(message{parent->instance_id, parent->execution_id, history_event{env_.now, std::move(result)}});
  }

  void send(message msg) {
    const uint32_t target = env_.store.partition_of(msg.instance_id);
    commit_.outbox.push_back(storage::outbox_entry{0, target, std::move(msg)});
  }

  // The queue an input waited in, if any: an activity result leaves the activity queue, a fired
  // timer the timer queue, whether or not the input applies.
  struct queue_entry {
    enum { none, activity, timer } queue = none;
    int32_t id = -1;
    time_point fire_at{};
  };

  static queue_entry queue_entry_of(const event_payload& payload) {
    return std::visit(
        overloaded{
            [](const events::task_completed& done) { return queue_entry{queue_entry::activity, done.task_id, {}}; },
            [](const events::task_failed& failed) { return queue_entry{queue_entry::activity, failed.task_id, {}}; },
            [](const events::timer_fired& fired) { return queue_entry{queue_entry::timer, fired.timer_id, fired.fire_at}; },
            [](const events::execution_started&) { return queue_entry{}; },
            [](const events::execution_completed&) { return queue_entry{}; },
            [](const events::execution_failed&) { return queue_entry{}; },
            [](const events::continued_as_new&) { return queue_entry{}; },
            [](const events::execution_terminated&) { return queue_entry{}; },
            [](const events::execution_suspended&) { return queue_entry{}; },
            [](const events::execution_resumed&) { return queue_entry{}; },
            [](const events::episode_started&) { return queue_entry{}; },
            [](const events::task_scheduled&) { return queue_entry{}; },
            [](const events::timer_created&) { return queue_entry{}; },
            [](const events::sub_orchestration_created&) { return queue_entry{}; },
            [](const events::sub_orchestration_completed&) { return queue_entry{}; },
            [](const events::sub_orchestration_failed&) { return queue_entry{}; },
            [](const events::event_raised&) { return queue_entry{}; },
            [](const events::event_sent&) { return queue_entry{}; },
            [](const events::entity_called&) { return queue_entry{}; },
            [](const events::entity_signaled&) { return queue_entry{}; },
            [](const events::entity_call_completed&) { return queue_entry{}; },
            [](const events::entity_call_failed&) { return queue_entry{}; },
            [](const events::entity_operation&) { return queue_entry{}; },
            [](const events::patch_marker&) { return queue_entry{}; },
            [](const events::execution_rewound&) { return queue_entry{}; },
            [](const events::execution_restarted&) { return queue_entry{}; },
        },
        payload);
  }

  void release_queue_entry(const message& msg) {
    const auto entry = queue_entry_of(msg.event.payload);
    if (entry.queue == queue_entry::activity) commit_.finished_activities.push_back(entry.id);
    if (entry.queue == queue_entry::timer)
      commit_.fired_timers.push_back(
          storage::timer_entry{entry.fire_at, slot_.instance_id, slot_.record->execution_id, entry.id});
  }

  void drop(const message& msg, const std::string& why) {
    spdlog::debug("instance '{}': dropped {} because {}", slot_.instance_id, event_kind_name(msg.event.payload), why);
    release_late_grant(msg.event, msg.execution_id);
    const bool same_execution =
        slot_.record && (msg.execution_id.empty() || msg.execution_id == slot_.record->execution_id);
    if (same_execution) {
      release_queue_entry(msg);
      const bool queue_changed = !commit_.finished_activities.empty() || !commit_.fired_timers.empty();
      wrote_ = wrote_ || queue_changed;
      return;
    }
    // A timer of a purged instance or of an earlier execution: remove it, or it fires forever. An
    // activity result is only orphaned without a record: a new execution may reuse the task id.
    const auto entry = queue_entry_of(msg.event.payload);
    if (entry.queue == queue_entry::timer)
      orphans_.timers.push_back(storage::timer_entry{entry.fire_at, slot_.instance_id, msg.execution_id, entry.id});
    if (entry.queue == queue_entry::activity && !slot_.record) orphans_.activities.emplace_back(slot_.instance_id, entry.id);
  }

  void note_ignored(const history_event& ev) {
    spdlog::debug("instance '{}': ignored a duplicate or late {}", slot_.instance_id, event_kind_name(ev.payload));
  }

  instance_slot& slot_;
  const episode_env& env_;
  orphaned_entries& orphans_;
  detail::span_records& spans_;
  detail::log_scope& about_;
  const size_t spans_before_;
  std::string span_id_;                     // this episode's span; empty until needed
  std::vector<detail::span_link> links_;    // to the spans that sent the events it applied
  const bool ended_before_;  // the instance had ended when the episode began
  storage::episode_commit commit_;
  std::vector<history_event> pending_;
  bool wrote_ = false;
  int executions_ = 0;
  std::optional<std::set<int32_t>> unanswered_while_failed_;  // read once, when a result first arrives
  bool recorded_while_failed_ = false;
};

}  // namespace

void load_record(instance_slot& slot, const storage::hub_store& store) {
  if (slot.record_loaded) return;
  slot.record = store.instance(slot.instance_id);
  slot.record_loaded = true;
}

std::optional<storage::episode_commit> run_episode(instance_slot& slot, std::vector<message> inbox, bool revive,
                                                   const episode_env& env, orphaned_entries& orphans,
                                                   detail::span_records& spans) {
  load_record(slot, env.store);
  detail::log_scope about{slot.instance_id, slot.record ? trace_id_of(slot.record->trace_parent) : std::string{}};
  episode_runner runner{slot, env, orphans, spans, about};
  if (revive) runner.revive_unfinished();
  for (auto& msg : inbox) runner.take(msg);
  return runner.finish();
}

}  // namespace perdure::partition
