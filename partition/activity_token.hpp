// Task tokens: how an activity attempt that completes asynchronously
// (activity_context::complete_asynchronously) is named to the outside world, and the command a
// completion by token becomes.
//
// A token holds what routing and the owning partition's checks need: the instance id (which gives
// the partition, on any node of a cluster), the execution id and the task id (which names one
// attempt: each retry of a call is a new task). It is in the one token format
// (storage/page_token.hpp) and opaque to users; it is not a secret (completing needs the admin role).
#pragma once

#include "activity_deadlines.hpp"

#include <perdure/history.hpp>
#include <perdure/message.hpp>
#include <perdure/storage/store.hpp>

#include <string>
#include <string_view>

namespace perdure::partition {

std::string activity_task_token(const storage::activity_task& task);
/// The attempt a token names; throws invalid_argument_error for a malformed token.
attempt_ref attempt_of_task_token(std::string_view token);

/// The command that completes (task_completed with `result_json`) or fails the attempt a token
/// names; the owning partition checks it is still open (state_machine::command). Throws
/// invalid_argument_error for a malformed token.
message activity_completion(std::string_view token, std::string result_json, time_point now);
message activity_failure(std::string_view token, failure_details failure, time_point now);

}  // namespace perdure::partition
