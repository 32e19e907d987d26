#include "activity_deadlines.hpp"

#include <chrono>

namespace perdure::partition {

namespace {

bool set(time_point t) { return t != time_point{}; }

std::string millis(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

// An attempt with only a heartbeat timeout has no deadline until its first heartbeat.
void activity_deadlines::index(const attempt_ref& attempt, kept& entry) {
  by_due_.erase({entry.due, attempt});
  time_point due = time_point::max();
  for (time_point deadline : {entry.timeouts.attempt_deadline, entry.timeouts.call_deadline, entry.heartbeat_deadline})
    if (set(deadline) && deadline < due) due = deadline;
  entry.due = due;
  if (due != time_point::max()) by_due_.emplace(due, attempt);
}

void activity_deadlines::dispatched(const storage::activity_task& task) {
  if (!task.timeouts.any()) return;
  attempt_ref attempt{task.instance_id, task.execution_id, task.task_id};
  auto& entry = attempts_[attempt];
  entry.activity_name = task.name;
  entry.attempt = task.attempt;
  entry.timeouts = task.timeouts;
  entry.last_heartbeat_details = task.heartbeat_details;
  index(attempt, entry);
}

std::optional<time_point> activity_deadlines::heartbeat(const attempt_ref& attempt, std::string details,
                                                        time_point now) {
  auto it = attempts_.find(attempt);
  if (it == attempts_.end()) return std::nullopt;
  auto& entry = it->second;
  if (!details.empty()) entry.last_heartbeat_details = std::move(details);
  if (entry.timeouts.heartbeat_timeout.count() <= 0) return std::nullopt;
  entry.heartbeat_deadline = now + entry.timeouts.heartbeat_timeout;
  index(attempt, entry);
  return entry.heartbeat_deadline;
}

void activity_deadlines::finished(const attempt_ref& attempt) {
  auto it = attempts_.find(attempt);
  if (it == attempts_.end()) return;
  by_due_.erase({it->second.due, attempt});
  attempts_.erase(it);
}

void activity_deadlines::ended(const std::string& instance_id) {
  auto it = attempts_.lower_bound(attempt_ref{instance_id, {}, -1});
  while (it != attempts_.end() && it->first.instance_id == instance_id) {
    by_due_.erase({it->second.due, it->first});
    it = attempts_.erase(it);
  }
}

std::vector<std::pair<attempt_ref, message>> activity_deadlines::take_expired(time_point now) {
  std::vector<std::pair<attempt_ref, message>> expired;
  while (!by_due_.empty() && by_due_.begin()->first <= now) {
    auto attempt = by_due_.begin()->second;
    by_due_.erase(by_due_.begin());
    auto node = attempts_.extract(attempt);
    auto& entry = node.mapped();
    const auto& t = entry.timeouts;
    // The deadline that passed first names the timeout.
    std::string kind;
    std::string why;
    if (entry.due == t.call_deadline) {
      kind = "ScheduleToClose";
      why = "the call did not finish by its schedule-to-close deadline";
    } else if (entry.due == t.attempt_deadline) {
      kind = "StartToClose";
      why = "the attempt did not finish within its start-to-close timeout";
    } else {
      kind = "Heartbeat";
      why = "the attempt sent no heartbeat for its heartbeat timeout of " + millis(t.heartbeat_timeout);
    }
    failure_details failure{timeout_error_type,
                            "activity '" + entry.activity_name + "' (attempt " + std::to_string(entry.attempt) +
                                ") timed out: " + why,
                            std::move(kind), false};
    message msg{attempt.instance_id, attempt.execution_id,
                history_event{now, events::task_failed{attempt.task_id, std::move(failure),
                                                       std::move(entry.last_heartbeat_details)}}};
    expired.emplace_back(std::move(attempt), std::move(msg));
  }
  return expired;
}

std::optional<time_point> activity_deadlines::next_deadline() const {
  if (by_due_.empty()) return std::nullopt;
  return by_due_.begin()->first;
}

}  // namespace perdure::partition
