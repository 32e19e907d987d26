#include "entity_episode.hpp"

#include "spans.hpp"

#include <perdure/detail/entity_locks.hpp>
#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>
#include <perdure/failure.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace perdure::partition {
namespace {

class entity_runner {
 public:
  entity_runner(instance_slot& slot, const episode_env& env, detail::span_records& spans)
      : slot_(slot), env_(env), spans_(spans) {
    commit_.instance_id = slot.instance_id;
    if (auto id = entity_id::from_instance_id(slot.instance_id)) id_ = std::move(*id);
  }

  void take(message& msg) {
    if (auto* op = std::get_if<events::entity_operation>(&msg.event.payload)) {
      take(std::move(*op));
    } else if (auto* fired = std::get_if<events::timer_fired>(&msg.event.payload)) {
      deliver_due(*fired);
    } else if (auto* started = std::get_if<events::execution_started>(&msg.event.payload); started && started->parent) {
      refuse_start(*started->parent);
    } else {
      spdlog::warn("entity '{}': dropped {}: entities take operations only", slot_.instance_id,
                   event_kind_name(msg.event.payload));
    }
  }

  std::optional<storage::entity_commit> finish() {
    if (!state_changed_ && !lock_changed_ && !scheduled_changed_ && commit_.outbox.empty()) return std::nullopt;
    commit_.record = slot_.entity;  // rewritten as it is when only messages left: the same bytes
    commit_.lock = slot_.entity_lock;
    commit_.scheduled = slot_.entity_scheduled;
    return std::move(commit_);
  }

 private:
  // While a critical section holds the entity, only its holder's operations run; everyone else's
  // wait in the lock, durably, in arrival order.
  void take(events::entity_operation op) {
    if (op.deliver_at > env_.now) {
      schedule(std::move(op));
      return;
    }
    auto& lock = slot_.entity_lock;
    if (lock && (op.caller_instance_id != lock->instance_id || op.caller_execution_id != lock->execution_id)) {
      lock->held.push_back(std::move(op));
      lock_changed_ = true;
      return;
    }
    if (op.operation == detail::lock_entities_operation)
      acquire(op);
    else if (op.operation == detail::unlock_entity_operation)
      release();
    else
      run(op);
  }

  // The entity is free: the caller's section takes it, and its request goes on to the next entity
  // of the section; the last one grants it.
  void acquire(const events::entity_operation& op) {
    const auto entities = detail::decode_lock_set(op.input).value_or(std::vector<std::string>{});
    const auto at = std::find(entities.begin(), entities.end(), slot_.instance_id);
    if (at == entities.end()) {
      auto failure = to_failure_details(std::make_exception_ptr(
          invalid_argument_error("entity '" + slot_.instance_id + "' got a malformed lock request: " + op.input)));
      failure.non_retriable = true;
      answer(op, {}, std::move(failure));
      return;
    }
    slot_.entity_lock = storage::entity_lock{op.caller_instance_id, op.caller_execution_id, {}};
    lock_changed_ = true;
    if (std::next(at) == entities.end()) {
      answer(op, op.input, std::nullopt);
      return;
    }
    send(message{*std::next(at), {}, history_event{env_.now, op}});
  }

  // A scheduled signal waits in the entity's row, with a timer to wake the entity at its time
  // (signals due at one instant share it).
  void schedule(events::entity_operation op) {
    commit_.new_timers.push_back(storage::timer_entry{op.deliver_at, slot_.instance_id, {}, 0});
    slot_.entity_scheduled.push_back(std::move(op));
    scheduled_changed_ = true;
  }

  // A wake-up: the signals due run in the order of their times (then of their arrival), as if they
  // arrived now; a lock holds them like any other.
  void deliver_due(const events::timer_fired& fired) {
    commit_.fired_timers.push_back(storage::timer_entry{fired.fire_at, slot_.instance_id, {}, fired.timer_id});
    auto& scheduled = slot_.entity_scheduled;
    const auto not_due = std::stable_partition(scheduled.begin(), scheduled.end(),
                                               [&](const auto& op) { return op.deliver_at > env_.now; });
    std::vector<events::entity_operation> due(std::make_move_iterator(not_due), std::make_move_iterator(scheduled.end()));
    scheduled.erase(not_due, scheduled.end());
    scheduled_changed_ = true;
    std::stable_sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.deliver_at < b.deliver_at; });
    for (auto& op : due) {
      op.deliver_at = {};
      take(std::move(op));
    }
  }

  // The holder released the entity: what waited runs in arrival order, until a waiting section
  // takes the entity again.
  void release() {
    if (!slot_.entity_lock) return;  // a release the end of the execution repeated
    auto waited = std::move(slot_.entity_lock->held);
    slot_.entity_lock.reset();
    lock_changed_ = true;
    for (auto& op : waited) take(std::move(op));
  }

  void run(const events::entity_operation& op) {
    if (op.operation == detail::delete_entity_operation) {
      if (slot_.entity) state_changed_ = true;
      slot_.entity.reset();
      answer(op, {}, std::nullopt);
      return;
    }
    auto span = entity_operation_span(id_, op, env_.now);
    const auto sent_by_it = traceparent_of(span);
    detail::entity_effects effects;
    if (slot_.entity) effects.state = slot_.entity->state;
    std::optional<failure_details> failure;
    try {
      entity_context ctx{id_, op.operation, op.input, env_.now, effects};
      env_.functions.invoke_entity(ctx);
      check_sizes(effects);
    } catch (const std::exception&) {
      failure = to_failure_details(std::current_exception());
    }
    if (failure) fail_with(span, *failure);
    spans_.push_back(std::move(span));  // released with the commit (state_machine::committed)
    if (failure) {
      if (op.caller_task_id < 0)
        spdlog::warn("entity '{}': signal '{}' failed: {}: {}", slot_.instance_id, op.operation, failure->error_type,
                     failure->message);
      answer(op, {}, std::move(failure));
      return;
    }
    apply_state(std::move(effects.state));
    for (auto& signal : effects.signals)
      send(message{signal.target.instance_id(), {},
                   history_event{env_.now, events::entity_operation{std::move(signal.operation), std::move(signal.input),
                                                                    slot_.instance_id, {}, -1, {}, sent_by_it}}});
    for (auto& start : effects.starts) {
      events::execution_started started{std::move(start.name), start.instance_id,
                                        env_.new_execution_id(start.instance_id), std::move(start.input), std::nullopt,
                                        events::execution_started::any_version};  // as a client's start
      started.trace_parent = sent_by_it;  // the instance's span is a child of the operation's
      send(message{start.instance_id, {}, history_event{env_.now, std::move(started)}});
    }
    answer(op, std::move(effects.output), std::nullopt);
  }

  // What the store would refuse fails the operation alone, before anything of it is kept.
  void check_sizes(const detail::entity_effects& effects) const {
    if (effects.state) detail::check_json_payload("the entity's state", *effects.state, env_.max_payload_bytes);
    detail::check_json_payload("the operation's result", effects.output, env_.max_payload_bytes);
    for (const auto& signal : effects.signals)
      detail::check_json_payload("the input of signal '" + signal.operation + "'", signal.input, env_.max_payload_bytes);
    for (const auto& start : effects.starts)
      detail::check_json_payload("the input of orchestration '" + start.name + "'", start.input, env_.max_payload_bytes);
  }

  void apply_state(std::optional<std::string> state) {
    if (!state) {
      if (slot_.entity) state_changed_ = true;
      slot_.entity.reset();
      return;
    }
    if (slot_.entity && slot_.entity->state == *state) return;
    if (!slot_.entity) slot_.entity = entity_record{id_, {}, env_.now, env_.now};
    slot_.entity->state = std::move(*state);
    slot_.entity->last_modified_at = env_.now;
    state_changed_ = true;
  }

  void answer(const events::entity_operation& op, std::string output, std::optional<failure_details> failure) {
    if (op.caller_task_id < 0) return;
    event_payload result;
    if (failure)
      result = events::entity_call_failed{op.caller_task_id, std::move(*failure)};
    else
      result = events::entity_call_completed{op.caller_task_id, std::move(output)};
    send(message{op.caller_instance_id, op.caller_execution_id, history_event{env_.now, std::move(result)}});
  }

  void refuse_start(const parent_instance& parent) {
    auto failure = to_failure_details(std::make_exception_ptr(invalid_argument_error(
        "instance id '" + slot_.instance_id + "' names an entity: orchestration instance ids may not start with '@'")));
    failure.non_retriable = true;
    send(message{parent.instance_id, parent.execution_id,
                 history_event{env_.now, events::sub_orchestration_failed{parent.task_id, std::move(failure)}}});
  }

  void send(message msg) {
    const uint32_t target = env_.store.partition_of(msg.instance_id);
    commit_.outbox.push_back(storage::outbox_entry{0, target, std::move(msg)});
  }

  instance_slot& slot_;
  const episode_env& env_;
  detail::span_records& spans_;
  entity_id id_;
  storage::entity_commit commit_;
  bool state_changed_ = false;
  bool lock_changed_ = false;
  bool scheduled_changed_ = false;
};

}  // namespace

void load_entity(instance_slot& slot, const storage::hub_store& store) {
  if (slot.record_loaded) return;
  auto stored = store.stored_entity_of(slot.instance_id);
  slot.entity = std::move(stored.record);
  slot.entity_lock = std::move(stored.lock);
  slot.entity_scheduled = std::move(stored.scheduled);
  slot.record_loaded = true;
}

std::optional<storage::entity_commit> run_entity_episode(instance_slot& slot, std::vector<message> inbox,
                                                         const episode_env& env, detail::span_records& spans) {
  load_entity(slot, env.store);
  entity_runner runner{slot, env, spans};
  for (auto& msg : inbox) runner.take(msg);
  return runner.finish();
}

}  // namespace perdure::partition
