#include "http_wait_param.hpp"

#include "http_errors.hpp"

#include <cctype>
#include <cmath>
#include <string>

namespace perdure {
namespace {

bool digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

[[noreturn]] void bad_wait(const std::string& source, std::string_view value, const std::string& why) {
  throw http_error(400, "InvalidArgument", source + " '" + std::string(value) + "' " + why);
}

std::chrono::milliseconds checked(const std::string& source, std::string_view value,
                                  std::optional<std::chrono::milliseconds> wait) {
  if (!value.empty() && value.front() == '-') bad_wait(source, value, "is negative; give a wait of 0s or more");
  if (!wait) bad_wait(source, value, "is not a duration: give e.g. 30s, 1500ms or 2m");
  if (*wait > max_request_wait)
    bad_wait(source, value, "is above the maximum of " + std::to_string(max_request_wait.count()) +
                                "s; ask again after it to wait longer");
  return *wait;
}

// The `wait` preference of a Prefer header ("respond-async, wait=10"), or "" when it has none.
std::string_view wait_preference(std::string_view header) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view preference = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!preference.empty() && preference.front() == ' ') preference.remove_prefix(1);
    while (!preference.empty() && preference.back() == ' ') preference.remove_suffix(1);
    if (preference.size() >= 5 && (preference.substr(0, 5) == "wait=" || preference.substr(0, 5) == "WAIT="))
      return preference.substr(5);
  }
  return {};
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_wait_duration(std::string_view text) {
  size_t number_end = 0;
  while (number_end < text.size() && (std::isdigit(static_cast<unsigned char>(text[number_end])) || text[number_end] == '.'))
    ++number_end;
  const std::string_view number = text.substr(0, number_end);
  const std::string_view unit = text.substr(number_end);
  const size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  if (!digits(whole) || (dot != std::string_view::npos && !digits(fraction)) || whole.size() > 9) return std::nullopt;
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60'000;
  } else {
    return std::nullopt;
  }
  const double millis = std::stod(std::string(number)) * scale;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(millis)));
}

std::optional<std::chrono::milliseconds> requested_wait(const http::request& req) {
  std::chrono::milliseconds wait{0};
  if (req.has_param("waitForCompletion")) {
    const std::string value = req.param("waitForCompletion");
    wait = checked("waitForCompletion", value, parse_wait_duration(value));
  } else if (const std::string prefer = req.header("Prefer"), value{wait_preference(prefer)}; !value.empty()) {
    // RFC 7240: delta-seconds, a whole number.
    wait = checked("the Prefer header's wait", value,
                   digits(value) && value.size() <= 9 ? std::optional(std::chrono::milliseconds(std::stoll(std::string(value)) * 1000))
                                                      : std::nullopt);
  }
  if (wait.count() == 0) return std::nullopt;
  return wait;
}

}  // namespace perdure
