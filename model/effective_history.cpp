#include <perdure/effective_history.hpp>

namespace perdure {
namespace {

bool is_failure_result(const event_payload& payload) {
  return std::holds_alternative<events::task_failed>(payload) ||
         std::holds_alternative<events::sub_orchestration_failed>(payload) ||
         std::holds_alternative<events::entity_call_failed>(payload);
}

// The inputs an episode applied, before the events the code recorded in answer to them.
bool is_episode_input(const event_payload& payload) {
  return is_failure_result(payload) || std::holds_alternative<events::task_completed>(payload) ||
         std::holds_alternative<events::timer_fired>(payload) ||
         std::holds_alternative<events::sub_orchestration_completed>(payload) ||
         std::holds_alternative<events::entity_call_completed>(payload) ||
         std::holds_alternative<events::event_raised>(payload) ||
         std::holds_alternative<events::execution_resumed>(payload);
}

// Marks the failure the rewind at `rewind` undoes; nothing when there is none before it.
void supersede_failure(std::span<const history_event> events, size_t rewind, std::vector<bool>& superseded) {
  size_t failed = rewind;
  while (failed-- > 0)
    if (!superseded[failed] && std::holds_alternative<events::execution_failed>(events[failed].payload)) break;
  if (failed >= rewind) return;
  superseded[failed] = true;
  for (size_t p = failed; p-- > 0;) {
    const auto& payload = events[p].payload;
    if (std::holds_alternative<events::episode_started>(payload)) return;
    if (!superseded[p] && is_episode_input(payload)) {
      if (is_failure_result(payload)) superseded[p] = true;
      return;
    }
  }
}

}  // namespace

std::vector<bool> superseded_events(std::span<const history_event> events) {
  std::vector<bool> superseded(events.size(), false);
  for (size_t p = 0; p < events.size(); ++p)
    if (std::holds_alternative<events::execution_rewound>(events[p].payload)) supersede_failure(events, p, superseded);
  return superseded;
}

}  // namespace perdure
