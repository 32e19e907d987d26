#include "http_instance_counts.hpp"

#include "http_params.hpp"

#include <nlohmann/json.hpp>

#include <array>

namespace perdure {
namespace {

using nlohmann::json;

// Past this many instances the count stops and says so: the page asks again every few seconds,
// and a worker must not page through millions of records each time.
constexpr size_t max_counted = 100'000;
constexpr size_t page_size = 1000;

}  // namespace

http::response instance_counts_response(const http::request& req, client& hub) {
  // The list's filters but the status: the counts are what a status filter would show.
  instance_query q;
  read_instance_filters(req, q);
  q.statuses.clear();
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
