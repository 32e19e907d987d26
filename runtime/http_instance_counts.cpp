#include "http_instance_counts.hpp"

#include "http_errors.hpp"
#include "http_time.hpp"

#include <nlohmann/json.hpp>

#include <array>

namespace perdure {
namespace {

using nlohmann::json;

// Past this many instances the count stops and says so: the page asks again every few seconds,
// and a worker must not page through millions of records each time.
constexpr size_t max_counted = 100'000;
constexpr size_t page_size = 1000;

std::optional<time_point> time_param(const http::request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  const std::string value = req.param(name);
  auto t = parse_iso8601(value);
  if (!t) throw http_error(400, "InvalidArgument", std::string(name) + " is not an ISO 8601 time: '" + value + "'");
  return t;
}

}  // namespace

http::response instance_counts_response(const http::request& req, client& hub) {
  // The list's filters but the status: the counts are what a status filter would show.
  instance_query q;
  q.name = req.param("name");
  q.created_from = time_param(req, "createdTimeFrom");
  q.created_to = time_param(req, "createdTimeTo");
  q.instance_id_prefix = req.param("instanceIdPrefix");
  q.page_size = page_size;
  std::array<uint64_t, all_runtime_statuses.size()> counts{};
  size_t counted = 0;
  do {
    instance_page page = hub.list(q);
    for (const auto& record : page.records) ++counts[static_cast<size_t>(record.status)];
    counted += page.records.size();
    q.continuation_token = std::move(page.continuation_token);
  } while (!q.continuation_token.empty() && counted < max_counted);
  json by_status = json::object();
  for (runtime_status s : all_runtime_statuses) by_status[to_string(s)] = counts[static_cast<size_t>(s)];
  const json body{{"counts", std::move(by_status)}, {"total", counted}, {"complete", q.continuation_token.empty()}};
  return http::response{200, "application/json", {}, body.dump()};
}

}  // namespace perdure
