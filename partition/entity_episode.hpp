// One episode of one entity: run its queued operations in arrival order against its state, and
// turn the result into the storage::entity_commit that records it durably, together with the
// messages the operations sent (results to callers, signals, orchestration starts). Like an
// orchestration's episode, nothing it sends leaves before that commit.
#pragma once

#include "episode.hpp"

#include <perdure/entity.hpp>

#include <string_view>

namespace perdure::partition {

/// Loads the entity's record from the store on first use.
void load_entity(instance_slot& slot, const storage::hub_store& store);

/// Runs the operations in `inbox`. Returns nullopt when nothing needs writing.
///
/// - An operation that throws (or produces a payload over the store's limit) leaves the state as it
///   was and sends nothing; a caller receives the failure (entity_call_failed), a signal's failure
///   is logged.
/// - A message that is not an operation (an event sent to an entity's id, a start of an
///   orchestration under an entity's id) is dropped; a parent that started a sub-orchestration
///   under such an id is told the call failed.
/// - Each operation run (not a lock's own requests) is a span (spans.hpp, entity_operation_span)
///   appended to `spans`, for export once the commit is durable; what it sends carries that span.
std::optional<storage::entity_commit> run_entity_episode(instance_slot& slot, std::vector<message> inbox,
                                                         const episode_env& env, detail::span_records& spans);

}  // namespace perdure::partition
