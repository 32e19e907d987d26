#include "http_params.hpp"

#include "http_errors.hpp"
#include "http_time.hpp"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace perdure {
namespace {

[[noreturn]] void bad_request(const std::string& message) { throw http_error(400, "InvalidArgument", message); }

std::optional<time_point> time_param(const http::request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  const std::string value = req.param(name);
  auto t = parse_iso8601(value);
  if (!t) bad_request(std::string(name) + " is not an ISO 8601 time: '" + value + "'");
  return t;
}

std::vector<runtime_status> status_param(const http::request& req) {
  std::vector<runtime_status> statuses;
  if (!req.has_param("runtimeStatus")) return statuses;
  const std::string value = req.param("runtimeStatus");
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    const std::string_view name = std::string_view(value).substr(start, end - start);
    auto s = parse_runtime_status(name);
    if (!s) bad_request("unknown runtimeStatus '" + std::string(name) + "'");
    statuses.push_back(*s);
    start = end + 1;
  }
  return statuses;
}

}  // namespace

bool flag_param(const http::request& req, const char* name, bool fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string value = req.param(name);
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  bad_request(std::string(name) + " must be true or false, not '" + value + "'");
}

std::optional<int32_t> whole_number_param(const http::request& req, const char* name, const char* meaning) {
  if (!req.has_param(name)) return std::nullopt;
  const std::string value = req.param(name);
  int32_t number = -1;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc{} || end != value.data() + value.size() || number < 0)
    bad_request(std::string(name) + " must be " + meaning + ", not '" + value + "'");
  return number;
}

std::optional<int32_t> version_param(const http::request& req) {
  return whole_number_param(req, "version", "a whole number from 0 (0 = unversioned)");
}

bool read_instance_filters(const http::request& req, instance_query& q) {
  q.statuses = status_param(req);
  q.name = req.param("name");
  q.created_from = time_param(req, "createdTimeFrom");
  q.created_to = time_param(req, "createdTimeTo");
  q.instance_id_prefix = req.param("instanceIdPrefix");
  q.version = version_param(req);
  q.waiting_for_version = flag_param(req, "waitingForVersion", false);
  return !q.statuses.empty() || !q.name.empty() || q.created_from || q.created_to || !q.instance_id_prefix.empty() ||
         q.version || q.waiting_for_version;
}

}  // namespace perdure
