// How the engine names history events in non-determinism reports, and which events are actions.
#pragma once

#include <perdure/history.hpp>

#include <cstdint>
#include <string>

namespace perdure::detail {

/// The task id of an action event (TaskScheduled, TimerCreated, SubOrchestrationCreated,
/// EventSent), or -1 for any other event.
int32_t action_id(const event_payload& payload) noexcept;

/// ExecutionCompleted, ExecutionFailed or ContinuedAsNew: the ends the code itself produces.
bool is_code_terminal(const event_payload& payload) noexcept;

/// Whether the code's action matches the recorded one: same kind and name (and, for
/// sub-orchestrations and sent events, the same target instance). Inputs are not compared, nor an
/// activity's attempt fields: the activity was dispatched with the recorded ones, and a retry
/// policy that differs shows as a different action (its backoff timer) anyway.
bool same_action(const event_payload& recorded, const event_payload& taken) noexcept;

/// "TaskScheduled 'ChargeCard' (task 3)", "TaskScheduled 'ChargeCard' (task 5, attempt 2)",
/// "TimerCreated (timer 4)", "ExecutionCompleted", ...
std::string describe(const event_payload& payload);

}  // namespace perdure::detail
