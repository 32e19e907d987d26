#include "restart.hpp"

#include <perdure/effective_history.hpp>

namespace perdure::partition {
namespace {

bool ends_execution(const event_payload& payload) {
  return std::holds_alternative<events::execution_completed>(payload) ||
         std::holds_alternative<events::execution_failed>(payload) ||
         std::holds_alternative<events::continued_as_new>(payload) ||
         std::holds_alternative<events::execution_terminated>(payload);
}

}  // namespace

std::optional<std::string> invalid_restart_prefix(std::span<const history_event> previous, int32_t from_event) {
  if (from_event == 0) return std::nullopt;
  const auto size = previous.size();
  if (from_event < 0 || static_cast<size_t>(from_event) >= size)
    return "restart from event " + std::to_string(from_event) + ": the history has events 0 to " +
           std::to_string(size - 1) + ", and the prefix must leave the last episode out";
  const auto n = static_cast<size_t>(from_event);
  if (!std::holds_alternative<events::episode_started>(previous[n].payload) || n < 2)
    return "restart from event " + std::to_string(from_event) + ": event " + std::to_string(from_event) + " is " +
           event_kind_name(previous[n].payload) +
           "; a prefix must be whole episodes, so N must be the position of an EpisodeStarted after the first one";
  const auto prefix = previous.first(n);
  const auto superseded = superseded_events(prefix);
  for (size_t p = 0; p < n; ++p)
    if (!superseded[p] && ends_execution(prefix[p].payload))
      return "restart from event " + std::to_string(from_event) + ": the prefix already ends the execution (" +
             event_kind_name(prefix[p].payload) + " at " + std::to_string(p) + ")";
  return std::nullopt;
}

history restart_history(std::span<const history_event> previous, const events::execution_restarted& restart,
                        const std::string& execution_id, time_point now) {
  history result;
  const auto adopt = [&](events::execution_started started) {
    started.execution_id = execution_id;
    started.version = restart.version;
    started.parent.reset();
    return started;
  };
  if (restart.from_event == 0) {
    for (const auto& ev : previous)
      if (auto* started = std::get_if<events::execution_started>(&ev.payload)) {
        result.push_back(history_event{now, events::episode_started{}});
        result.push_back(history_event{now, adopt(*started)});
        break;
      }
  } else {
    result.assign(previous.begin(), previous.begin() + restart.from_event);
    for (auto& ev : result)
      if (auto* started = std::get_if<events::execution_started>(&ev.payload)) ev.payload = adopt(*started);
    result.push_back(history_event{now, events::episode_started{}});
  }
  result.push_back(history_event{now, restart});
  return result;
}

}  // namespace perdure::partition
