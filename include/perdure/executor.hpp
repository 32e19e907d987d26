// The replay engine's contract with the runtime: runs one orchestration instance, episode by
// episode, against its history. Pure C++: no actors, no disk.
//
// Operation: an executor owns the suspended coroutine of one execution. replay() rebuilds it from a
// stored history (a fresh executor after a restart, a move or an eviction); execute() feeds the
// new events of one episode to a live coroutine, costing O(new events). Both paths produce the same
// history for the same inputs.
//
// Determinism: while replaying, each action the code takes is matched against the history at the
// same position. A different kind or name is a non-determinism error, thrown as
// perdure::nondeterminism_error naming the position, what the history holds and what the code did.
// The executor is unusable afterwards; the runtime decides the instance's fate.
#pragma once

#include <perdure/history.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace perdure {

class registry;

/// What one episode produced.
struct episode_result {
  // To append to the history, in order: the new events as applied (duplicates and late results
  // dropped, see `ignored`), then the events recording what the orchestration did:
  // task_scheduled, timer_created, sub_orchestration_created, event_sent, and at most one terminal
  // event (execution_completed, execution_failed, continued_as_new, execution_terminated). The
  // runtime derives every side effect (activity to run, timer to arm, message to send) from these.
  std::vector<history_event> appended;
  // New events that were not applied: a second result for the same task, a result for a task never
  // scheduled, anything for a finished execution. Never in `appended`.
  std::vector<history_event> ignored;
  std::optional<std::string> custom_status;  // set when the orchestration changed it (JSON text)
  // With continue_as_new(keep_unprocessed_events=true): the event_raised events not yet consumed,
  // to be delivered to the next execution.
  std::vector<history_event> carryover_events;
  // With continue_as_new and a version: the version the next execution runs. Unset: the latest
  // registered one. Not in the history: the next execution's ExecutionStarted records what it runs.
  std::optional<int32_t> next_version;
};

/// Bounds on what one episode of an orchestration may do, so one request cannot take a node's
/// memory. Exceeding one fails the execution (the node stays up).
struct episode_limits {
  // Actions (activities, timers, sub-orchestrations, events sent) the code may take in one episode:
  // each becomes a history event, a queue entry and a coroutine state.
  size_t max_actions = 100'000;
};

class orchestration_executor {
 public:
  /// Runs `name` in `version` (the one its ExecutionStarted records). Throws
  /// perdure::unknown_orchestration_error if `name` is not registered,
  /// perdure::orchestration_version_unavailable if it is, but not in that version.
  orchestration_executor(const registry& functions, std::string name, int32_t version, std::string instance_id,
                         episode_limits limits = {});
  /// The executor keeps a reference to `functions`: a temporary registry would be gone at its
  /// first replay (ASan found a test doing that).
  orchestration_executor(const registry&& functions, std::string name, int32_t version, std::string instance_id,
                         episode_limits limits = {}) = delete;
  ~orchestration_executor();
  orchestration_executor(const orchestration_executor&) = delete;
  orchestration_executor& operator=(const orchestration_executor&) = delete;

  /// Rebuilds the coroutine from a stored history (it starts with execution_started). Returns what
  /// the code does beyond the history: normally nothing new, but when the last episode's actions
  /// were not stored (the code was fixed after a non-determinism stall) they appear here.
  episode_result replay(std::span<const history_event> stored);

  /// Runs one episode. `new_events` starts with an episode_started marker whose timestamp is the
  /// deterministic current time; the first episode of an execution also carries execution_started.
  episode_result execute(std::span<const history_event> new_events);

  /// True once the execution ended (completed, failed, continued as new, terminated).
  bool is_complete() const noexcept;
  /// True while suspended: events are recorded but not delivered to the code until resumed.
  bool is_suspended() const noexcept;
  /// True once the execution asked for a critical section (lock_entities): its end must release
  /// what it holds.
  bool took_entity_locks() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace perdure
