#include "http_time.hpp"

#include <cstdio>

namespace perdure {
namespace {

using namespace std::chrono;

// Reads exactly `digits` decimal digits at `pos`; advances pos.
std::optional<int> read_digits(std::string_view text, size_t& pos, size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return value;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// The time with `Precision`'s fraction of a second (6 or 9 digits).
template <class Precision>
std::string format_iso8601_with(time_point t, int fraction_digits) {
  const auto day = floor<days>(t);
  const year_month_day ymd{sys_days{day}};
  const hh_mm_ss<Precision> tod{floor<Precision>(t - day)};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%0*lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()), fraction_digits,
                static_cast<long long>(tod.subseconds().count()));
  return buf;
}

}  // namespace

std::string format_iso8601(time_point t) { return format_iso8601_with<microseconds>(t, 6); }

std::string format_iso8601_exact(time_point t) { return format_iso8601_with<nanoseconds>(t, 9); }

std::optional<time_point> parse_iso8601(std::string_view text) {
  size_t pos = 0;
  auto y = read_digits(text, pos, 4);
  // time_point counts nanoseconds in 64 bits: it spans the years 1678 to 2262.
  if (!y || *y < 1678 || *y > 2261 || !expect(text, pos, '-')) return std::nullopt;
  auto mo = read_digits(text, pos, 2);
  if (!mo || !expect(text, pos, '-')) return std::nullopt;
  auto d = read_digits(text, pos, 2);
  if (!d) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  time_point result = time_point{sys_days{ymd}.time_since_epoch()};
  if (pos == text.size()) return result;

  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
  ++pos;
  auto h = read_digits(text, pos, 2);
  if (!h || *h > 23 || !expect(text, pos, ':')) return std::nullopt;
  auto mi = read_digits(text, pos, 2);
  if (!mi || *mi > 59) return std::nullopt;
  result += hours{*h} + minutes{*mi};
  if (expect(text, pos, ':')) {
    auto s = read_digits(text, pos, 2);
    if (!s || *s > 60) return std::nullopt;
    result += seconds{*s};
    if (expect(text, pos, '.')) {
      int64_t scale = 100'000'000;  // nanoseconds of the first fraction digit
      size_t start = pos;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        result += nanoseconds{(text[pos] - '0') * scale};
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
  }
  if (pos == text.size()) return result;
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) return result;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  const bool east = text[pos] == '+';
  ++pos;
  auto oh = read_digits(text, pos, 2);
  if (!oh || *oh > 23 || !expect(text, pos, ':')) return std::nullopt;
  auto om = read_digits(text, pos, 2);
  if (!om || *om > 59 || pos != text.size()) return std::nullopt;
  const auto offset = hours{*oh} + minutes{*om};
  return east ? result - offset : result + offset;
}

}  // namespace perdure
