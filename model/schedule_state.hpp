// What a schedule's orchestration carries from one execution to the next (its input) and shows as
// its custom status, and the management commands it takes as events. Private to Perdure: the
// schedule orchestration (model/schedule.cpp) writes it, schedule_client (runtime) reads it. Times
// are nanoseconds since the Unix epoch, so the encoding is exact and deterministic.
#pragma once

#include <perdure/schedule.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perdure::detail {

inline constexpr const char* schedule_command_event = "perdure.schedule.command";
inline constexpr size_t schedule_recent_runs = 10;

struct schedule_state {
  schedule_spec spec;
  std::optional<time_point> after;  // ticks after it are still to come; unset until the schedule first runs
  std::vector<schedule_run> recent_runs;  // oldest first, at most schedule_recent_runs
  std::string waiting_on;                 // the run the overlap policy waits for
  std::optional<schedule_run> buffered;
  uint64_t skipped = 0;
  uint64_t missed = 0;
  uint64_t triggers = 0;  // numbers the triggered runs' ids
};

enum class schedule_command_kind { pause, resume, trigger, update };

struct schedule_command {
  schedule_command_kind kind = schedule_command_kind::trigger;
  std::optional<schedule_spec> spec;  // update only
};

/// Both throw payload_error for text that is not what they expect.
std::string encode_schedule_state(const schedule_state& state);
schedule_state decode_schedule_state(std::string_view json);
std::string encode_schedule_command(const schedule_command& command);
schedule_command decode_schedule_command(std::string_view json);

}  // namespace perdure::detail
