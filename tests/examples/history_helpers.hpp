// Reading histories in the example tests.
#pragma once

#include <perdure/history.hpp>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

namespace examples_test {

/// The names of the activities scheduled, in order (retries included).
inline std::vector<std::string> scheduled(const perdure::history& events) {
  std::vector<std::string> names;
  for (const auto& e : events)
    if (auto* s = std::get_if<perdure::events::task_scheduled>(&e.payload)) names.push_back(s->name);
  return names;
}

inline int count(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<int>(std::count(names.begin(), names.end(), name));
}

inline int count_kind(const perdure::history& events, const std::string& kind) {
  return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const auto& e) {
    return perdure::event_kind_name(e.payload) == kind;
  }));
}

}  // namespace examples_test
