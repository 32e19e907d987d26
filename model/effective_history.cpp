#include <perdure/effective_history.hpp>

#include "describe.hpp"

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

// An event only the code writes: a step it took, a patch it decided, how it ended.
bool written_by_code(const event_payload& payload) {
  return detail::action_id(payload) >= 0 || detail::is_code_terminal(payload) ||
         std::holds_alternative<events::patch_marker>(payload);
}

// Marks what the rewind at `rewind` undoes (see the header); nothing when no failure is before it.
void supersede_failure(std::span<const history_event> events, size_t rewind, std::vector<bool>& superseded) {
  size_t failed = rewind;
  while (failed-- > 0)
    if (!superseded[failed] && std::holds_alternative<events::execution_failed>(events[failed].payload)) break;
  if (failed >= rewind) return;
  superseded[failed] = true;
  for (size_t p = failed + 1; p < rewind; ++p)  // arrived while the instance was Failed
    if (is_failure_result(events[p].payload)) superseded[p] = true;

  bool in_failing_episode = true;
  bool code_wrote_in_failing_episode = false;
  bool last_input_seen = false;
  for (size_t p = failed; p-- > 0;) {
    if (superseded[p]) continue;
    const auto& payload = events[p].payload;
    if (std::holds_alternative<events::execution_started>(payload)) return;
    if (std::holds_alternative<events::episode_started>(payload)) {
      if (code_wrote_in_failing_episode) return;
      in_failing_episode = false;
    } else if (written_by_code(payload)) {
      if (!in_failing_episode) return;
      code_wrote_in_failing_episode = true;  // an episode's steps are recorded after all its inputs
    } else if (is_episode_input(payload)) {
      // Where the code took steps in the failing episode, they may answer any of its inputs but the
      // last, on which the execution ended; elsewhere nothing the code recorded follows the input.
      const bool undone = !code_wrote_in_failing_episode || !last_input_seen;
      if (undone && is_failure_result(payload)) superseded[p] = true;
      last_input_seen = true;
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
