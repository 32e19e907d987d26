// The partition's rules for activities that do not depend on where they run: how one is invoked,
// and what an activity's result may be before it enters the partition.
#pragma once

#include <perdure/history.hpp>
#include <perdure/message.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

namespace perdure::partition {

/// How a running attempt reaches its partition (activity_context::connect). Empty: heartbeats go
/// nowhere and the attempt is never cancelled.
struct attempt_connection {
  std::function<void(const std::string& details)> heartbeat;
  std::stop_token stop;
  std::string traceparent;  // of the attempt's span (activity_context::traceparent); empty: none
};

/// Runs the activity a task names; its result as the event its instance takes: task_completed, or
/// task_failed with the exception's details and the call's last heartbeat details. nullopt when
/// the activity returned after activity_context::complete_asynchronously(): the attempt awaits
/// completion by its task token (state_machine::awaiting_completion).
std::optional<event_payload> run_activity(const registry& functions, const storage::activity_task& task,
                                          attempt_connection connection = {});

/// Makes an activity result fit the store. It is applied where a result enters its partition,
/// which every result passes whichever node's worker produced it (so each output is parsed once):
/// an output over `max_payload_bytes` or not a valid JSON payload (perdure/detail/json_payload.hpp)
/// becomes a non-retriable task_failed with a payload error that the orchestration sees, and a
/// failure message over the limit is replaced by one that says so; a commit refusing it would
/// otherwise stop the partition, and a restart would run the activity again.
void bound_activity_result(message& result, size_t max_payload_bytes);

}  // namespace perdure::partition
