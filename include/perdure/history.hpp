// The history of an orchestration execution: an append-only list of events.
//
// Pure value types shared by the storage layer (which encodes them with Cap'n Proto), the
// orchestration model (which replays them) and the runtime (which derives side effects from them).
//
// Payloads (inputs, outputs, event data) are JSON text. An empty string means "no payload"; valid
// JSON is never empty, so the two cannot be confused.
#pragma once

#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace perdure {

using clock = std::chrono::system_clock;
using time_point = std::chrono::time_point<clock, std::chrono::nanoseconds>;

/// Why a task, a sub-orchestration or an execution failed.
struct failure_details {
  std::string error_type;  // e.g. the exception's type name, "TimeoutError", "NonDeterminismError"
  std::string message;
  std::string details;  // free text: inner failure, where it happened
  bool non_retriable = false;
  friend bool operator==(const failure_details&, const failure_details&) = default;
};

/// The orchestration that started a sub-orchestration, so its result can be sent back.
struct parent_instance {
  std::string name;
  std::string instance_id;
  std::string execution_id;
  int32_t task_id = -1;  // the parent's sub_orchestration_created task id
  friend bool operator==(const parent_instance&, const parent_instance&) = default;
};

/// When an activity attempt times out (activity_options in orchestration_context.hpp). Deadlines
/// are absolute times taken from the orchestration's deterministic clock, so every attempt of one
/// call shares the call's deadline and a replay computes the same ones. Zero: no limit.
struct activity_timeouts {
  time_point attempt_deadline{};  // start-to-close: this attempt's result is due by then
  time_point call_deadline{};     // schedule-to-close: the call, all its attempts, is due by then
  std::chrono::nanoseconds heartbeat_timeout{0};  // the attempt is due a heartbeat this often
  bool any() const noexcept {
    return attempt_deadline != time_point{} || call_deadline != time_point{} || heartbeat_timeout.count() > 0;
  }
  friend bool operator==(const activity_timeouts&, const activity_timeouts&) = default;
};

namespace events {

// Lifecycle of an execution.
struct execution_started {
  std::string name;
  std::string instance_id;
  std::string execution_id;
  std::string input;
  std::optional<parent_instance> parent;
  // The registered version of the orchestration this execution runs (registry.hpp), for its whole
  // life: replays and restarts use it, only continue-as-new may change it. 0 = unversioned (every
  // history written before versions existed). In a start not yet run, any_version asks for the
  // latest registered one; a stored history never holds it.
  int32_t version = 0;
  static constexpr int32_t any_version = -1;
  // The W3C trace context the start came with (trace_context.hpp): a client's, or the parent's for
  // a sub-orchestration; empty: none given, the instance begins a trace of its own.
  std::string trace_parent{};
  std::string trace_state{};
  friend bool operator==(const execution_started&, const execution_started&) = default;
};
struct execution_completed {
  std::string output;
  friend bool operator==(const execution_completed&, const execution_completed&) = default;
};
struct execution_failed {
  failure_details failure;
  friend bool operator==(const execution_failed&, const execution_failed&) = default;
};
struct continued_as_new {
  std::string input;  // the input of the next execution
  friend bool operator==(const continued_as_new&, const continued_as_new&) = default;
};
struct execution_terminated {
  std::string reason;
  friend bool operator==(const execution_terminated&, const execution_terminated&) = default;
};
struct execution_suspended {
  std::string reason;
  friend bool operator==(const execution_suspended&, const execution_suspended&) = default;
};
struct execution_resumed {
  std::string reason;
  friend bool operator==(const execution_resumed&, const execution_resumed&) = default;
};

/// A client rewound the failed execution (client::rewind): the failure no longer counts for the
/// code (effective_history.hpp has the one rule) and the failed step runs again. The failure stays
/// in the stored history; this event records that, and why.
struct execution_rewound {
  std::string reason;
  friend bool operator==(const execution_rewound&, const execution_rewound&) = default;
};
/// This execution is a restart of an earlier one of the same instance (client::restart): its
/// history begins with the first `from_event` events of that one's (0: it started afresh), then
/// this event, and the code continues live from there.
struct execution_restarted {
  std::string previous_execution_id;
  int32_t from_event = 0;
  int32_t version = 0;  // the version this execution runs; as a message, any_version keeps the previous one's
  friend bool operator==(const execution_restarted&, const execution_restarted&) = default;
};

/// Marks the start of an episode. The event's timestamp is the orchestration's deterministic
/// current time for the whole episode.
struct episode_started {
  friend bool operator==(const episode_started&, const episode_started&) = default;
};

/// A patch of the orchestration's code took effect in this execution (orchestration_context::
/// is_patched / deprecate_patch): replays of this history take the patched path. Not an action: it
/// takes no task id, so adding a patch does not renumber the actions after it.
struct patch_marker {
  std::string patch_id;
  bool deprecated = false;  // recorded by deprecate_patch (display only: both replay the same way)
  friend bool operator==(const patch_marker&, const patch_marker&) = default;
};

// Activities.

struct task_scheduled {
  int32_t task_id = -1;
  std::string name;
  std::string input;
  // Which attempt of one activity call this is: a call with a retry_policy schedules each retry
  // as a new task, and its activity sees the same idempotency key on every attempt
  // (activity_context::idempotency_key()). Histories written before these fields read as attempt 1.
  int32_t attempt = 1;
  int32_t first_task_id = -1;  // the task id of the call's first attempt; -1 on the first attempt itself
  activity_timeouts timeouts{};  // histories written before it read as no limits
  std::string heartbeat_details{};  // the last heartbeat of the call's earlier attempts (JSON), if any
  friend bool operator==(const task_scheduled&, const task_scheduled&) = default;
};
struct task_completed {
  int32_t task_id = -1;  // the task_scheduled it answers
  std::string output;
  friend bool operator==(const task_completed&, const task_completed&) = default;
};
struct task_failed {
  int32_t task_id = -1;
  failure_details failure;
  std::string last_heartbeat_details{};  // the failed attempt's last heartbeat (JSON), for the next attempt
  friend bool operator==(const task_failed&, const task_failed&) = default;
};

// Durable timers.
struct timer_created {
  int32_t timer_id = -1;
  time_point fire_at{};
  friend bool operator==(const timer_created&, const timer_created&) = default;
};
struct timer_fired {
  int32_t timer_id = -1;
  time_point fire_at{};
  time_point created_at{};  // when the timer was created, for its trace span; {}: unknown
  friend bool operator==(const timer_fired&, const timer_fired&) = default;
};

// Sub-orchestrations.
struct sub_orchestration_created {
  int32_t task_id = -1;
  std::string name;
  std::string instance_id;
  std::string input;
  // The child's registered version the call asked for (sub_orchestration_options::version);
  // execution_started::any_version (histories written before it too): the latest registered
  // where the child starts.
  int32_t version = execution_started::any_version;
  friend bool operator==(const sub_orchestration_created&, const sub_orchestration_created&) = default;
};
struct sub_orchestration_completed {
  int32_t task_id = -1;
  std::string output;
  friend bool operator==(const sub_orchestration_completed&, const sub_orchestration_completed&) = default;
};
struct sub_orchestration_failed {
  int32_t task_id = -1;
  failure_details failure;
  friend bool operator==(const sub_orchestration_failed&, const sub_orchestration_failed&) = default;
};

// External events.
struct event_raised {
  std::string name;
  std::string input;
  // The W3C traceparent of the span that sent it (the sending episode's, or a client's): the
  // receiving episode's span links to it (docs/tracing.md). Empty: none.
  std::string trace_parent{};
  friend bool operator==(const event_raised&, const event_raised&) = default;
};
struct event_sent {
  int32_t task_id = -1;
  std::string instance_id;  // the receiver
  std::string name;
  std::string input;
  friend bool operator==(const event_sent&, const event_sent&) = default;
};

// Durable entities (perdure/entity.hpp). `entity` is the entity's id in instance-id form
// (entity_id::instance_id()), which is also where messages to it are routed.
struct entity_called {  // an orchestration's request; answered by entity_call_completed / _failed
  int32_t task_id = -1;
  std::string entity;
  std::string operation;
  std::string input;
  friend bool operator==(const entity_called&, const entity_called&) = default;
};
struct entity_signaled {  // an orchestration's one-way operation
  int32_t task_id = -1;
  std::string entity;
  std::string operation;
  std::string input;
  time_point deliver_at{};  // a scheduled signal: delivered then, not before; default: at once
  friend bool operator==(const entity_signaled&, const entity_signaled&) = default;
};
struct entity_call_completed {
  int32_t task_id = -1;
  std::string output;
  friend bool operator==(const entity_call_completed&, const entity_call_completed&) = default;
};
struct entity_call_failed {
  int32_t task_id = -1;
  failure_details failure;
  friend bool operator==(const entity_call_failed&, const entity_call_failed&) = default;
};
// Only in a message to an entity, never in a history: one operation for it to run. A caller task
// id of -1 is a signal (nobody waits for the result).
struct entity_operation {
  std::string operation;
  std::string input;
  std::string caller_instance_id;
  std::string caller_execution_id;
  int32_t caller_task_id = -1;
  time_point deliver_at{};  // a scheduled signal: the entity runs it then, not before
  // The W3C traceparent of the span that sent it (an orchestration's episode, an entity
  // operation, a client): the operation's span is its child (docs/tracing.md). Empty: none.
  std::string trace_parent{};
  friend bool operator==(const entity_operation&, const entity_operation&) = default;
};

}  // namespace events

using event_payload =
    std::variant<events::execution_started, events::execution_completed, events::execution_failed,
                 events::continued_as_new, events::execution_terminated,
                 events::execution_suspended, events::execution_resumed, events::episode_started,
                 events::task_scheduled, events::task_completed, events::task_failed,
                 events::timer_created, events::timer_fired, events::sub_orchestration_created,
                 events::sub_orchestration_completed, events::sub_orchestration_failed,
                 events::event_raised, events::event_sent, events::entity_called,
                 events::entity_signaled, events::entity_call_completed, events::entity_call_failed,
                 events::entity_operation, events::patch_marker, events::execution_rewound,
                 events::execution_restarted>;

/// One entry of a history. Its position in the history is its index in the stored list.
struct history_event {
  time_point timestamp{};  // wall-clock time the event was recorded (display only, except episode_started)
  event_payload payload;
  friend bool operator==(const history_event&, const history_event&) = default;
};

using history = std::vector<history_event>;

/// A stable, human-readable name of an event's kind ("TaskScheduled", "TimerFired", ...), in the
/// order of event_payload's alternatives.
inline const char* event_kind_name(const event_payload& payload) noexcept {
  static constexpr const char* names[] = {
      "ExecutionStarted",  "ExecutionCompleted", "ExecutionFailed",
      "ContinuedAsNew",    "ExecutionTerminated", "ExecutionSuspended",
      "ExecutionResumed",  "EpisodeStarted",     "TaskScheduled",
      "TaskCompleted",     "TaskFailed",         "TimerCreated",
      "TimerFired",        "SubOrchestrationCreated", "SubOrchestrationCompleted",
      "SubOrchestrationFailed", "EventRaised",   "EventSent",
      "EntityCalled",      "EntitySignaled",     "EntityCallCompleted",
      "EntityCallFailed",  "EntityOperation",    "PatchMarker",
      "ExecutionRewound",  "ExecutionRestarted"};
  static_assert(std::size(names) == std::variant_size_v<event_payload>);
  return names[payload.index()];
}

}  // namespace perdure
