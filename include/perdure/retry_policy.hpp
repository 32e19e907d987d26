// Retry policies for activities and sub-orchestrations.
//
// Retries happen in the orchestration, not in the activity call: after a failed attempt the
// orchestration creates a durable timer (TimerCreated/TimerFired in the history) for the backoff
// delay, then schedules a new attempt (a new TaskScheduled with a new task id). Nothing sleeps, and a
// restart in the middle of a backoff resumes it from the history.
#pragma once

#include <perdure/history.hpp>

#include <chrono>
#include <functional>
#include <optional>

namespace perdure {

struct retry_policy {
  /// Attempts in total, the first included; 1 means no retry.
  int max_attempts = 3;
  /// Delay before the second attempt.
  std::chrono::nanoseconds first_interval = std::chrono::seconds(1);
  /// Each further delay is the previous one times this.
  double backoff_coefficient = 2.0;
  /// Cap on one delay; zero means no cap.
  std::chrono::nanoseconds max_interval = std::chrono::hours(1);
  /// No attempt starts later than this after the first one; zero means no limit.
  std::chrono::nanoseconds max_total_time{0};
  /// Retry only failures this accepts; empty means every failure not marked non_retriable.
  std::function<bool(const failure_details&)> retry_if;

  /// The delay before the next attempt after `attempts_made` attempts, the last failing with
  /// `failure`, `elapsed` after the first attempt started; nullopt when no retry is left.
  std::optional<std::chrono::nanoseconds> next_delay(int attempts_made, const failure_details& failure,
                                                     std::chrono::nanoseconds elapsed) const;
};

}  // namespace perdure
