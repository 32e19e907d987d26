// Cron expressions: next fire times checked against a table of known answers (month ends, leap
// years, names, steps, the day-of-month/day-of-week rule, daylight-saving changes in named zones),
// and the errors bad expressions get.
#include <doctest/doctest.h>

#include "model/cron.hpp"

#include <perdure/errors.hpp>

#include <date/date.h>

#include <cstdio>

namespace {

using perdure::time_point;

// "YYYY-MM-DDTHH:MM:SSZ"
time_point utc(const std::string& text) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  REQUIRE_MESSAGE(std::sscanf(text.c_str(), "%d-%u-%uT%u:%u:%uZ", &y, &mo, &d, &h, &mi, &s) == 6, "bad test time " << text);
  const date::sys_seconds t = date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + std::chrono::hours{h} +
                              std::chrono::minutes{mi} + std::chrono::seconds{s};
  return time_point(t.time_since_epoch());
}

std::string iso(std::optional<time_point> t) {
  if (!t) return "never";
  return date::format("%FT%TZ", date::floor<std::chrono::seconds>(*t));
}

struct row {
  const char* expression;
  const char* zone;
  const char* after;
  const char* expected;  // "never" when it does not fire again
  const char* why;
};

const row table[] = {
    // Month ends and leap years.
    {"0 0 1 * *", "UTC", "2024-01-31T12:00:00Z", "2024-02-01T00:00:00Z", "first of the next month"},
    {"0 0 31 * *", "UTC", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z", "April has no 31st"},
    {"0 0 29 2 *", "UTC", "2023-03-01T00:00:00Z", "2024-02-29T00:00:00Z", "Feb 29 in the next leap year"},
    {"0 0 29 2 *", "UTC", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z", "four years later"},
    {"0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z", "2100 is not a leap year"},
    {"0 0 30 2 *", "UTC", "2024-01-01T00:00:00Z", "never", "Feb 30 does not exist"},
    {"0 0 1 1 *", "UTC", "2024-12-31T23:59:59Z", "2025-01-01T00:00:00Z", "new year"},
    {"59 23 31 12 *", "UTC", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z", "strictly after"},
    // Steps, ranges, lists, names, seconds.
    {"*/15 * * * *", "UTC", "2024-01-01T00:07:00Z", "2024-01-01T00:15:00Z", "every quarter hour"},
    {"0 8-18/5 * * *", "UTC", "2024-01-01T13:00:00Z", "2024-01-01T18:00:00Z", "range with a step: 8, 13, 18"},
    {"0 8-18/5 * * *", "UTC", "2024-01-01T18:00:00Z", "2024-01-02T08:00:00Z", "next day"},
    {"0 10/6 * * *", "UTC", "2024-01-01T17:00:00Z", "2024-01-01T22:00:00Z", "a/n runs to the field's end"},
    {"5,35 1,2 * * *", "UTC", "2024-01-01T01:35:00Z", "2024-01-01T02:05:00Z", "lists"},
    {"0 12 * * MON-FRI", "UTC", "2024-06-07T13:00:00Z", "2024-06-10T12:00:00Z", "Friday afternoon to Monday"},
    {"30 6 * JAN,jul sun", "UTC", "2024-01-08T00:00:00Z", "2024-01-14T06:30:00Z", "names, any case"},
    {"30 6 * JAN,jul sun", "UTC", "2024-01-28T07:00:00Z", "2024-07-07T06:30:00Z", "February to June skipped"},
    {"0 0 * * 7", "UTC", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z", "7 is Sunday"},
    {"*/10 * * * * *", "UTC", "2024-01-01T00:00:05Z", "2024-01-01T00:00:10Z", "six fields: seconds"},
    {"30 0 0 1 1 *", "UTC", "2024-01-01T00:00:31Z", "2025-01-01T00:00:30Z", "six fields, yearly"},
    {"@daily", "UTC", "2024-01-01T10:00:00Z", "2024-01-02T00:00:00Z", "macro"},
    {"@weekly", "UTC", "2024-01-01T10:00:00Z", "2024-01-07T00:00:00Z", "macro: Sundays"},
    // Day of month OR day of week when both are restricted; AND when one starts with '*'.
    {"0 0 13 * FRI", "UTC", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z", "a Friday before the 13th"},
    {"0 0 13 * FRI", "UTC", "2024-02-10T00:00:00Z", "2024-02-13T00:00:00Z", "the 13th (a Tuesday)"},
    {"0 0 */2 * MON", "UTC", "2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z", "odd days that are Mondays"},
    {"0 0 * 2 MON", "UTC", "2024-01-20T00:00:00Z", "2024-02-05T00:00:00Z", "Mondays in February"},
    // America/New_York: 2024-03-10 02:00 EST jumps to 03:00 EDT (07:00Z); 2024-11-03 02:00 EDT
    // goes back to 01:00 EST (06:00Z).
    {"30 2 * * *", "America/New_York", "2024-03-09T12:00:00Z", "2024-03-10T07:00:00Z",
     "02:30 does not exist: fires when the gap ends (03:00 EDT)"},
    {"30 2 * * *", "America/New_York", "2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z", "then 02:30 EDT"},
    {"0 * * * *", "America/New_York", "2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z",
     "hourly follows the clock: 02:00 is skipped"},
    {"30 1 * * *", "America/New_York", "2024-11-03T04:00:00Z", "2024-11-03T05:30:00Z", "01:30 EDT, the first one"},
    {"30 1 * * *", "America/New_York", "2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z",
     "a daily job runs once: not at 01:30 EST"},
    {"30 * * * *", "America/New_York", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z",
     "hourly follows the clock: 01:30 EST too"},
    {"*/30 * * * *", "America/New_York", "2024-11-03T05:45:00Z", "2024-11-03T06:00:00Z",
     "01:00 EST comes after 01:45 EDT"},
    {"0 12 * * *", "America/New_York", "2024-11-02T17:00:00Z", "2024-11-03T17:00:00Z", "noon EST after noon EDT"},
    // Europe/Berlin: 2024-03-31 02:00 CET jumps to 03:00 CEST (01:00Z); 2024-10-27 03:00 CEST goes
    // back to 02:00 CET (01:00Z).
    {"30 2 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", "2024-03-31T01:00:00Z", "gap: fires at 03:00 CEST"},
    {"0 9 * * *", "Europe/Berlin", "2024-03-30T09:00:00Z", "2024-03-31T07:00:00Z", "09:00 CEST"},
    {"0 2 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", "2024-10-27T00:00:00Z", "02:00 CEST, first occurrence"},
    {"0 2 * * *", "Europe/Berlin", "2024-10-27T00:00:00Z", "2024-10-28T01:00:00Z", "not again at 02:00 CET"},
    {"0 * * * *", "Europe/Berlin", "2024-10-27T00:00:00Z", "2024-10-27T01:00:00Z", "hourly: 02:00 CET as well"},
};

}  // namespace

TEST_CASE("next fire times match the table of known answers") {
  for (const row& r : table) {
    CAPTURE(r.expression);
    CAPTURE(r.zone);
    CAPTURE(r.after);
    CAPTURE(r.why);
    const auto e = perdure::cron::expression::parse(r.expression);
    CHECK(iso(e.next_after(utc(r.after), r.zone)) == r.expected);
  }
}

TEST_CASE("a fire time is strictly after the given time, to the nanosecond") {
  const auto e = perdure::cron::expression::parse("* * * * * *");
  const time_point t = utc("2024-01-01T00:00:00Z");
  CHECK(*e.next_after(t, "UTC") == t + std::chrono::seconds(1));
  CHECK(*e.next_after(t - std::chrono::nanoseconds(1), "UTC") == t);
}

TEST_CASE("successive fire times through a day of every kind of DST change stay ordered and distinct") {
  for (const char* zone : {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC"}) {
    CAPTURE(zone);
    const auto e = perdure::cron::expression::parse("*/10 * * * *");
    time_point t = utc("2024-01-01T00:00:00Z");
    size_t fires = 0;
    while (t < utc("2025-01-01T00:00:00Z")) {
      const auto next = e.next_after(t, zone);
      REQUIRE(next);
      REQUIRE(*next > t);
      REQUIRE(*next - t <= std::chrono::minutes(10));  // the clock's every-10-minutes never leaves a longer gap
      t = *next;
      ++fires;
    }
    CHECK(fires == 366 * 24 * 6);  // a leap year; every-hour expressions follow real time
  }
}

TEST_CASE("bad expressions are refused naming the field and the reason") {
  const std::pair<const char*, const char*> bad[] = {
      {"61 * * * *", "minute field '61': 61 is out of range 0-59"},
      {"* 24 * * *", "hour field '24': 24 is out of range 0-23"},
      {"* * 0 * *", "day-of-month field '0': 0 is out of range 1-31"},
      {"* * * 13 *", "month field '13': 13 is out of range 1-12"},
      {"* * * * 8", "day-of-week field '8': 8 is out of range 0-7"},
      {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got 4"},
      {"* * * * * * *", "got 7"},
      {"", "got 0"},
      {"* 5-3 * * *", "hour field '5-3': the range 5-3 goes backwards"},
      {"*/0 * * * *", "minute field '*/0': the step must be at least 1"},
      {"*/x * * * *", "minute field '*/x': the step 'x' is not a number"},
      {"* * * FOO *", "month field 'FOO': 'FOO' is neither a number nor a name (JAN..DEC)"},
      {"* * * * MO", "day-of-week field 'MO': 'MO' is neither a number nor a name (SUN..SAT)"},
      {"1,,2 * * * *", "minute field '1,,2': an element of the list is empty"},
      {"a * * * *", "minute field 'a': 'a' is not a number"},
      {"60 * * * * *", "second field '60': 60 is out of range 0-59"},
      {"@every", "unknown macro"},
      {"1- * * * *", "minute field '1-': a value is missing"},
  };
  for (const auto& [expression, reason] : bad) {
    CAPTURE(expression);
    try {
      (void)perdure::cron::expression::parse(expression);
      FAIL("accepted");
    } catch (const perdure::invalid_argument_error& e) {
      const std::string message = e.what();
      CHECK_MESSAGE(message.find(reason) != std::string::npos, message);
      CHECK(message.find(std::string("cron expression '") + expression + "'") != std::string::npos);
    }
  }
}

TEST_CASE("an unknown time zone is refused") {
  const auto e = perdure::cron::expression::parse("0 * * * *");
  CHECK_THROWS_WITH_AS((void)e.next_after(utc("2024-01-01T00:00:00Z"), "Mars/Olympus_Mons"),
                       doctest::Contains("unknown time zone 'Mars/Olympus_Mons'"), perdure::invalid_argument_error);
  CHECK_THROWS_AS(perdure::cron::require_known_time_zone(""), perdure::invalid_argument_error);
  CHECK_NOTHROW(perdure::cron::require_known_time_zone("Europe/Berlin"));
}
