#include "cron.hpp"

#include <perdure/errors.hpp>

#include <date/tz.h>

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace perdure::cron {

namespace {

using std::chrono::hours;
using std::chrono::seconds;

// How far the search looks ahead before deciding an expression never fires again: long enough for
// the rarest day an expression can name (February 29 on a given weekday recurs within 40 years).
constexpr int search_years = 50;

struct field_spec {
  const char* name;
  int min;
  int max;
  const std::array<const char*, 13>* names;  // names[i] is value i (nullptr where none)
};

constexpr std::array<const char*, 13> month_names{nullptr, "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                  "JUL",   "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<const char*, 13> weekday_names{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr field_spec second_field{"second", 0, 59, nullptr};
constexpr field_spec minute_field{"minute", 0, 59, nullptr};
constexpr field_spec hour_field{"hour", 0, 23, nullptr};
constexpr field_spec day_of_month_field{"day-of-month", 1, 31, nullptr};
constexpr field_spec month_field{"month", 1, 12, &month_names};
// 7 is Sunday as well as 0 (both are common); folded onto 0 after parsing.
constexpr field_spec day_of_week_field{"day-of-week", 0, 7, &weekday_names};

struct parsed_field {
  std::bitset<64> values;
  bool star = false;  // the field starts with '*': unrestricted for the day-of-month/day-of-week rule
};

class field_parser {
 public:
  field_parser(std::string_view expression, const field_spec& spec, std::string_view text)
      : expression_(expression), spec_(spec), text_(text) {}

  parsed_field parse() {
    parsed_field out;
    out.star = !text_.empty() && text_.front() == '*';
    size_t start = 0;
    while (start <= text_.size()) {
      size_t end = text_.find(',', start);
      if (end == std::string_view::npos) end = text_.size();
      add_element(text_.substr(start, end - start), out.values);
      start = end + 1;
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw invalid_argument_error("cron expression '" + std::string(expression_) + "': " + spec_.name + " field '" +
                                 std::string(text_) + "': " + reason);
  }

  int value(std::string_view token) const {
    if (token.empty()) fail("a value is missing");
    int parsed = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), parsed);
    if (ec == std::errc{} && end == token.data() + token.size()) {
      if (parsed < spec_.min || parsed > spec_.max)
        fail(std::string(token) + " is out of range " + std::to_string(spec_.min) + "-" + std::to_string(spec_.max));
      return parsed;
    }
    if (spec_.names) {
      std::string upper(token);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (size_t i = 0; i < spec_.names->size(); ++i)
        if ((*spec_.names)[i] && upper == (*spec_.names)[i]) return static_cast<int>(i);
      fail("'" + std::string(token) + "' is neither a number nor a name (" +
           (spec_.names == &month_names ? "JAN..DEC" : "SUN..SAT") + ")");
    }
    fail("'" + std::string(token) + "' is not a number");
  }

  void add_element(std::string_view element, std::bitset<64>& values) const {
    if (element.empty()) fail("an element of the list is empty");
    int step = 1;
    if (auto slash = element.find('/'); slash != std::string_view::npos) {
      const std::string_view step_text = element.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc{} || end != step_text.data() + step_text.size() || step_text.empty())
        fail("the step '" + std::string(step_text) + "' is not a number");
      if (step < 1) fail("the step must be at least 1");
      element = element.substr(0, slash);
    }
    int low = spec_.min;
    int high = spec_.max;
    if (element == "*") {
      // every value, with its step
    } else if (auto dash = element.find('-'); dash != std::string_view::npos) {
      low = value(element.substr(0, dash));
      high = value(element.substr(dash + 1));
      if (low > high)
        fail("the range " + std::string(element) + " goes backwards (ranges do not wrap around; use a list)");
    } else {
      low = value(element);
      // "a/n" runs from a to the field's end; a bare value is just itself.
      if (step == 1) high = low;
    }
    for (int v = low; v <= high; v += step) values.set(static_cast<size_t>(v));
  }

  std::string_view expression_;
  const field_spec& spec_;
  std::string_view text_;
};

template <size_t N>
std::bitset<N> narrow(const std::bitset<64>& wide) {
  std::bitset<N> out;
  for (size_t i = 0; i < N; ++i) out[i] = wide[i];
  return out;
}

std::string_view macro(std::string_view text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return {};
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

const date::time_zone* zone_named(std::string_view name) {
  if (name.empty()) throw invalid_argument_error("the time zone is empty (use an IANA name such as UTC or Europe/Berlin)");
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw invalid_argument_error("unknown time zone '" + std::string(name) +
                                 "' (use an IANA name from the tz database, such as UTC or America/New_York)");
  }
}

unsigned days_in_month(int year, unsigned month) {
  return static_cast<unsigned>((date::year{year} / date::month{month} / date::last).day());
}

}  // namespace

struct expression::local_time {
  int year;
  unsigned month, day, hour, minute, second;

  date::local_seconds to_local() const {
    return date::local_days{date::year{year} / date::month{month} / date::day{day}} + hours{hour} +
           std::chrono::minutes{minute} + seconds{second};
  }
  static local_time from(date::local_seconds t) {
    const auto day_start = date::floor<date::days>(t);
    const date::year_month_day ymd{day_start};
    const date::hh_mm_ss<seconds> hms{t - day_start};
    return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
            static_cast<unsigned>(hms.hours().count()), static_cast<unsigned>(hms.minutes().count()),
            static_cast<unsigned>(hms.seconds().count())};
  }

  // Each moves to the start of the next unit, carrying into the larger ones.
  void next_month() {
    day = 1;
    hour = minute = second = 0;
    if (++month > 12) {
      month = 1;
      ++year;
    }
  }
  void next_day() {
    hour = minute = second = 0;
    if (++day > days_in_month(year, month)) next_month();
  }
  void next_hour() {
    minute = second = 0;
    if (++hour == 24) next_day();
  }
  void next_minute() {
    second = 0;
    if (++minute == 60) next_hour();
  }
  void next_second() {
    if (++second == 60) next_minute();
  }
};

expression expression::parse(std::string_view text) {
  expression out;
  out.text_ = std::string(text);
  std::string_view fields_text = text;
  if (auto expanded = macro(text); !expanded.empty()) {
    fields_text = expanded;
  } else if (!text.empty() && text.front() == '@') {
    throw invalid_argument_error("cron expression '" + std::string(text) +
                                 "': unknown macro (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)");
  }
  auto fields = split_fields(fields_text);
  if (fields.size() != 5 && fields.size() != 6)
    throw invalid_argument_error("cron expression '" + std::string(text) + "': expected 5 fields (minute hour " +
                                 "day-of-month month day-of-week) or 6 (second first), got " +
                                 std::to_string(fields.size()));
  if (fields.size() == 5) {
    out.seconds_.set(0);
  } else {
    out.seconds_ = narrow<60>(field_parser(text, second_field, fields.front()).parse().values);
    fields.erase(fields.begin());
  }
  out.minutes_ = narrow<60>(field_parser(text, minute_field, fields[0]).parse().values);
  out.hours_ = narrow<24>(field_parser(text, hour_field, fields[1]).parse().values);
  const parsed_field dom = field_parser(text, day_of_month_field, fields[2]).parse();
  out.days_of_month_ = narrow<32>(dom.values);
  out.day_of_month_star_ = dom.star;
  out.months_ = narrow<13>(field_parser(text, month_field, fields[3]).parse().values);
  parsed_field dow = field_parser(text, day_of_week_field, fields[4]).parse();
  if (dow.values[7]) dow.values.set(0);
  out.days_of_week_ = narrow<7>(dow.values);
  out.day_of_week_star_ = dow.star;
  return out;
}

bool expression::day_matches(int year, unsigned month, unsigned day) const {
  const bool dom = days_of_month_[day];
  const auto weekday = date::weekday{date::local_days{date::year{year} / date::month{month} / date::day{day}}};
  const bool dow = days_of_week_[weekday.c_encoding()];
  // Vixie cron: both restricted means either; otherwise the restricted one (or both '*') decides.
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

std::optional<expression::local_time> expression::next_local_match(local_time t) const {
  const int last_year = t.year + search_years;
  while (t.year <= last_year) {
    if (!months_[t.month]) {
      t.next_month();
    } else if (!day_matches(t.year, t.month, t.day)) {
      t.next_day();
    } else if (!hours_[t.hour]) {
      t.next_hour();
    } else if (!minutes_[t.minute]) {
      t.next_minute();
    } else if (!seconds_[t.second]) {
      t.next_second();
    } else {
      return t;
    }
  }
  return std::nullopt;
}

std::optional<time_point> expression::next_after(time_point after, std::string_view time_zone) const {
  const date::time_zone* zone = zone_named(time_zone);
  const auto after_s = date::floor<seconds>(after);
  const date::sys_info now_info = zone->get_info(after_s);
  date::local_seconds start = zone->to_local(after_s);
  // Just before the clock goes back, a local time earlier than now's can still come after `after`
  // (its second occurrence): start that much earlier.
  if (now_info.end - after_s <= hours{3}) {
    const auto backwards = now_info.offset - zone->get_info(now_info.end).offset;
    if (backwards > seconds{0}) start -= backwards;
  }
  const bool every_hour = hours_.all();

  std::optional<time_point> best;
  bool best_is_second_occurrence = false;
  // The instant of a local time at a UTC offset.
  auto at_offset = [](date::local_seconds local, seconds offset) {
    return date::sys_seconds{(local - offset).time_since_epoch()};
  };
  auto consider = [&](date::sys_seconds instant, bool second_occurrence) {
    const time_point at{instant.time_since_epoch()};
    if (at <= after || (best && *best <= at)) return;
    best = at;
    best_is_second_occurrence = second_occurrence;
  };

  std::optional<local_time> match = local_time::from(start);
  while ((match = next_local_match(*match))) {
    const date::local_seconds local = match->to_local();
    const date::local_info info = zone->get_info(local);
    switch (info.result) {
      case date::local_info::unique:
        // Past an overlap nothing later in local time can map earlier: the best so far stands.
        if (best) return best;
        consider(at_offset(local, info.first.offset), false);
        break;
      case date::local_info::nonexistent:
        if (best) return best;
        if (!every_hour) consider(info.first.end, false);  // the instant the gap ends
        break;
      case date::local_info::ambiguous:
        consider(at_offset(local, info.first.offset), false);
        if (every_hour) consider(at_offset(local, info.second.offset), true);
        break;
    }
    // A second occurrence may be beaten by the first occurrence of a later local time in the same
    // overlap; anything else is the earliest.
    if (best && !best_is_second_occurrence) return best;
    match->next_second();
  }
  return best;
}

void require_known_time_zone(std::string_view time_zone) { zone_named(time_zone); }

}  // namespace perdure::cron
