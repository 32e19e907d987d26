// replay_check over any source of instances and histories: a client (replay_check.hpp), or a
// node's own store before it serves (host::start with check_before_serving).
#pragma once

#include <perdure/replay_check.hpp>

#include <functional>
#include <string_view>

namespace perdure {

struct instance_source {
  std::function<instance_page(const instance_query&)> list;
  /// Throws instance_not_found, or returns no events, for an instance purged since it was listed.
  std::function<history(std::string_view instance_id)> history_of;
};

replay_check_report replay_check(const instance_source& source, const registry& functions, instance_query filter);

/// The report as a refusal to serve: the first mismatches (instance, position, both sides) and how
/// to see them all.
std::string replay_check_refusal(const replay_check_report& report);

}  // namespace perdure
