#include "activities.hpp"

#include "activity_token.hpp"

#include <perdure/activity_context.hpp>
#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>
#include <perdure/failure.hpp>

#include <algorithm>

namespace perdure::partition {

namespace {

failure_details payload_failure(const std::string& why) {
  return to_failure_details(std::make_exception_ptr(payload_error(why)));
}

std::string over_limit(const char* what, size_t size, size_t limit) {
  return std::string(what) + " is " + std::to_string(size) + " bytes, more than max_payload_bytes (" +
         std::to_string(limit) + ")";
}

}  // namespace

std::optional<event_payload> run_activity(const registry& functions, const storage::activity_task& task,
                                          attempt_connection connection) {
  activity_context ctx{task.instance_id, task.task_id, task.name, task.execution_id, task.attempt, task.first_task_id};
  ctx.connect(std::move(connection.heartbeat), std::move(connection.stop), task.heartbeat_details,
              activity_task_token(task), std::move(connection.traceparent));
  try {
    auto output = functions.invoke_activity(task.name, ctx, task.input);
    if (ctx.completes_asynchronously()) return std::nullopt;
    return events::task_completed{task.task_id, std::move(output)};
  } catch (...) {
    return events::task_failed{task.task_id, to_failure_details(std::current_exception()), ctx.heartbeat_details_json()};
  }
}

void bound_activity_result(message& result, size_t max_payload_bytes) {
  auto& event = result.event.payload;
  if (auto* done = std::get_if<events::task_completed>(&event)) {
    std::string refusal;
    if (done->output.size() > max_payload_bytes) {
      refusal = over_limit("the activity's output", done->output.size(), max_payload_bytes);
    } else {
      try {
        detail::check_json_payload("the activity's output", done->output);
      } catch (const payload_error& e) {
        refusal = e.what();
      }
    }
    if (!refusal.empty()) event = events::task_failed{done->task_id, payload_failure(refusal)};
  } else if (auto* failed = std::get_if<events::task_failed>(&event)) {
    const auto& f = failed->failure;
    const size_t largest = std::max({f.message.size(), f.details.size(), f.error_type.size()});
    if (largest > max_payload_bytes)
      failed->failure = payload_failure(over_limit("the activity's failure message", largest, max_payload_bytes) +
                                        "; the activity failed with " + f.error_type);
  }
}

}  // namespace perdure::partition
