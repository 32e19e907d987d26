// A list query over instance records, as clients ask it and the store answers it.
#pragma once

#include <perdure/history.hpp>
#include <perdure/instance.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace perdure {

/// Filters of a list query; every set filter must match (AND).
struct instance_query {
  std::vector<runtime_status> statuses;  // any of these; empty = all
  std::string name;                      // exact orchestration name; empty = all
  std::optional<time_point> created_from;  // inclusive
  std::optional<time_point> created_to;    // exclusive
  std::string instance_id_prefix;
  std::optional<int32_t> version = std::nullopt;  // the orchestration version the current execution runs
  bool waiting_for_version = false;      // only instances waiting for a version this node lacks
  size_t page_size = 100;
  std::string continuation_token;  // from the previous page; empty = first page
};

/// One page of records ordered by (created_at, instance_id). An empty token means the last page.
struct instance_page {
  std::vector<instance_record> records;
  std::string continuation_token;
};

}  // namespace perdure
