// The deadlines of a partition's running activity attempts (activity_timeouts, history.hpp): when
// each attempt is due, the heartbeats that push its heartbeat deadline on, and the attempts whose
// time ran out.
//
// Durability: an attempt's start-to-close and schedule-to-close deadlines are absolute times
// stored with it in the partition's activity queue, so they hold across a restart; this is their
// in-memory index, rebuilt from the queue at recovery. Heartbeats are kept in memory only. A
// heartbeat timeout counts from the attempt's first heartbeat, which its worker sends when the
// attempt starts (time waiting for a free worker is not the attempt's silence); a recovered
// attempt is dispatched again and starts over, with the details its task carries (the earlier
// attempts'); a recovered attempt awaiting completion by its token has its heartbeat timeout
// start again at the recovery.
#pragma once

#include <perdure/history.hpp>
#include <perdure/message.hpp>
#include <perdure/storage/store.hpp>

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace perdure::partition {

/// One attempt of one activity call: a task of one execution of one instance.
struct attempt_ref {
  std::string instance_id;
  std::string execution_id;
  int32_t task_id = -1;
  friend auto operator<=>(const attempt_ref&, const attempt_ref&) = default;
};

/// The error type of the failure a timed-out attempt ends with; its failure's `details` names the
/// timeout: "StartToClose", "ScheduleToClose" or "Heartbeat" (Temporal's timeout types).
inline constexpr const char* timeout_error_type = "TimeoutError";

class activity_deadlines {
 public:
  /// The attempt was dispatched (its scheduling committed, or the partition recovered it). Attempts
  /// without timeouts are not kept.
  void dispatched(const storage::activity_task& task);
  /// A heartbeat from a running attempt: its heartbeat deadline starts again from `now` and
  /// `details` (when not empty) become its last. Returns the new heartbeat deadline; nullopt for an
  /// attempt not kept or without a heartbeat timeout.
  std::optional<time_point> heartbeat(const attempt_ref& attempt, std::string details, time_point now);
  /// The attempt's result arrived: it no longer times out.
  void finished(const attempt_ref& attempt);
  /// The instance ended: none of its attempts times out any more.
  void ended(const std::string& instance_id);
  /// The attempts due by `now`, each as the task_failed (TimeoutError) that ends it, addressed to
  /// its instance and execution; they are no longer kept.
  std::vector<std::pair<attempt_ref, message>> take_expired(time_point now);
  /// The earliest deadline of a kept attempt.
  std::optional<time_point> next_deadline() const;

 private:
  struct kept {
    std::string activity_name;
    int32_t attempt = 1;
    activity_timeouts timeouts;
    time_point heartbeat_deadline{};
    std::string last_heartbeat_details;
    time_point due{};
  };
  void index(const attempt_ref& attempt, kept& entry);

  std::map<attempt_ref, kept> attempts_;
  std::set<std::pair<time_point, attempt_ref>> by_due_;
};

}  // namespace perdure::partition
