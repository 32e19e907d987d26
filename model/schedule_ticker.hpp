// The tick times of a schedule spec: its cron expression in its time zone, or its fixed interval,
// within its start and end times. Private to the model (the schedule orchestration and
// next_fire_times).
#pragma once

#include "cron.hpp"

#include <perdure/schedule.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace perdure::detail {

class schedule_ticker {
 public:
  /// Throws invalid_argument_error for a bad cron expression (an unknown time zone is found by
  /// next_after).
  explicit schedule_ticker(const schedule_spec& spec);

  /// The first tick strictly after `after`, or nullopt when none comes (past the end time).
  std::optional<time_point> next_after(time_point after) const;

 private:
  std::optional<cron::expression> cron_;
  std::string time_zone_;
  std::chrono::seconds interval_;
  std::optional<time_point> first_;  // start_at, up to the next whole second
  std::optional<time_point> last_;   // end_at, down to a whole second
};

}  // namespace perdure::detail
