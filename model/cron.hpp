// Cron expressions and their fire times in a time zone, for schedules (include/perdure/schedule.hpp).
//
// Syntax: 5 fields "minute hour day-of-month month day-of-week", or 6 with seconds first
// "second minute hour day-of-month month day-of-week". Each field is `*`, a value, a range `a-b`,
// a step `*/n`, `a-b/n` or `a/n` (from a to the field's end), or a comma-separated list of those.
// Months take JAN..DEC, days of the week SUN..SAT (0 or 7 is Sunday), case-insensitive. The macros
// @yearly (@annually), @monthly, @weekly, @daily (@midnight) and @hourly stand for their 5 fields.
// Day of month and day of week follow cron's rule: when both are restricted (neither starts with
// `*`), a day matches if EITHER matches ("0 0 13 * FRI": every 13th and every Friday); otherwise
// both must.
//
// Daylight-saving changes, as Vixie cron (the cron of most Linux systems) handles them:
// - an expression whose hour field is every hour (`*`, `*/1`, `0-23`) runs by the clock: a local
//   time the clock skips does not fire, a local time that occurs twice fires twice;
// - an expression for particular hours fires once per matching local time: one the clock skips
//   fires at the instant the gap ends (America/New_York 2024-03-10 02:30 fires at 03:00 EDT), one
//   that occurs twice fires at its first occurrence only.
#pragma once

#include <perdure/history.hpp>

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

namespace perdure::cron {

class expression {
 public:
  /// Throws invalid_argument_error naming the field and what is wrong with it.
  static expression parse(std::string_view text);

  /// The first fire time strictly after `after`, with local times in `time_zone` (an IANA name
  /// from the system's tz database, e.g. "Europe/Berlin"); nullopt if the expression never fires
  /// again (e.g. "0 0 30 2 *"). Throws invalid_argument_error for an unknown time zone.
  std::optional<time_point> next_after(time_point after, std::string_view time_zone) const;

  /// The text it was parsed from.
  const std::string& text() const noexcept { return text_; }

 private:
  struct local_time;
  std::optional<local_time> next_local_match(local_time from) const;
  bool day_matches(int year, unsigned month, unsigned day) const;

  std::string text_;
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0..6, Sunday = 0
  bool day_of_month_star_ = false;
  bool day_of_week_star_ = false;
};

/// Throws invalid_argument_error unless the system's tz database knows `time_zone`.
void require_known_time_zone(std::string_view time_zone);

}  // namespace perdure::cron
