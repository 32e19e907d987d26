// One episode of one instance: apply the instance's new messages to its orchestration, and turn
// what the orchestration did into the storage::episode_commit that records it durably. The state
// machine commits the result and only then releases its effects (activities in
// scheduled_activities, timers in new_timers, messages in outbox).
#pragma once

#include <perdure/detail/span_record.hpp>
#include <perdure/executor.hpp>
#include <perdure/instance.hpp>
#include <perdure/message.hpp>
#include <perdure/registry.hpp>
#include <perdure/storage/store.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace perdure::partition {

/// What a partition keeps in memory for one instance or entity.
struct instance_slot {
  std::string instance_id;
  bool record_loaded = false;
  std::optional<instance_record> record;  // the durable record, as of the last commit
  std::unique_ptr<orchestration_executor> executor;  // the live coroutine; null = replay on demand
  std::optional<entity_record> entity;  // an entity's record (its id is in entity form); none: no state
  std::optional<storage::entity_lock> entity_lock;  // the critical section holding the entity; none: free
  std::vector<events::entity_operation> entity_scheduled;  // the entity's scheduled signals not yet due
};

struct episode_env {
  const registry& functions;
  const storage::hub_store& store;
  time_point now;
  const std::function<std::string(std::string_view instance_id)>& new_execution_id;
  episode_limits limits;
  size_t max_payload_bytes;  // the store's; an episode it would refuse fails its instance instead
};

/// Queue entries whose instance or execution is gone, to remove without an episode.
struct orphaned_entries {
  std::vector<storage::timer_entry> timers;
  std::vector<std::pair<std::string, int32_t>> activities;
};

/// Loads the instance's record from the store on first use.
void load_record(instance_slot& slot, const storage::hub_store& store);

/// Runs one episode over `inbox` (in arrival order). Returns nullopt when nothing needs writing
/// (every message was a duplicate or arrived too late).
///
/// - An episode the store would refuse (storage::validate, e.g. an output over max_payload_bytes)
///   is not returned: the instance's execution fails with a payload error instead, so one instance
///   never fails a partition's batch.
/// - When the code cannot run (a non-determinism error, or its orchestration is no longer
///   registered) the instance stalls: the inputs are recorded (those the engine would drop, such as
///   a resume that is not after a suspend, are not), the instance stays Running with the error in
///   its record, and its coroutine is dropped: fixed code replays it when the next message (or a
///   resume) arrives, and what it then does is stamped with that episode's time. A terminate ends a
///   stalled instance without its code.
/// - A start for an instance that runs is refused; when it comes from a parent orchestration, the
///   parent's call fails (instance already exists).
/// - A store error while reading (I/O, a corrupt record) is thrown: it is the store's failure, not
///   the instance's.
/// - An instance whose orchestration version is not registered here waits the same way (its record
///   carries version_unavailable_error_type, instance.hpp); a new execution whose version is missing
///   (a continue-as-new to a version this node lacks) starts waiting. `revive` replays an unfinished
///   instance with an empty inbox: one whose version became available continues, one whose version
///   is missing starts waiting.
/// - The spans of its live work (spans.hpp) are appended to `spans`, for export once it is committed.
std::optional<storage::episode_commit> run_episode(instance_slot& slot, std::vector<message> inbox, bool revive,
                                                   const episode_env& env, orphaned_entries& orphans,
                                                   detail::span_records& spans);

}  // namespace perdure::partition
