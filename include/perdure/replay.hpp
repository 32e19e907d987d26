// The replay checker users call in their own tests, to prove that new orchestration code still
// replays the histories of instances started by the old code (like Temporal's replayer).
//
//   perdure::history old = load_from_fixture("order-42.json");
//   CHECK_NOTHROW(perdure::replay(old, my_registry));
#pragma once

#include <perdure/errors.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/registry.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace perdure {

struct replay_result {
  /// Where the history (followed by new_events) leaves the execution.
  runtime_status status = runtime_status::running;
  std::string output;                      // when completed (JSON text)
  std::optional<failure_details> failure;  // when failed
  /// What the code did beyond the history: normally empty for a complete history.
  std::vector<history_event> new_events;
};

/// Replays one execution's history (it starts with ExecutionStarted) with the orchestration
/// `name`, or the one the history names when `name` is empty. Throws nondeterminism_error naming
/// the position, what the history holds and what the code did; unknown_orchestration_error.
replay_result replay(std::span<const history_event> events, const registry& functions,
                     std::string_view name = {});

/// The same, returning the non-determinism report instead of throwing it (nullopt: replays cleanly).
std::optional<nondeterminism_error> check_replay(std::span<const history_event> events,
                                                 const registry& functions,
                                                 std::string_view name = {});

}  // namespace perdure
