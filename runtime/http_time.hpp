// ISO 8601 timestamps (UTC) as the management API and the CLI write and read them.
#pragma once

#include <perdure/history.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace perdure {

/// "2024-05-01T12:34:56.123456Z": microseconds, so that durations between events stay readable.
std::string format_iso8601(time_point t);

/// "2024-05-01T12:34:56.123456789Z": every nanosecond of the time_point, for the history export,
/// which must give back exactly the times it was given (an episode's time is the orchestration's
/// clock, which replays must see unchanged).
std::string format_iso8601_exact(time_point t);

/// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fraction]]" with an optional "Z" or "+hh:mm" /
/// "-hh:mm" offset (no offset means UTC), years 1678 to 2261. nullopt when the text is not such a
/// timestamp.
std::optional<time_point> parse_iso8601(std::string_view text);

}  // namespace perdure
