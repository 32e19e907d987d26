// Critical sections on entities (orchestration_context::lock_entities) as messages and history.
//
// A lock is an entity call of the reserved operation "$lock" to the first entity of the section
// (recorded in the caller's history as any entity call, so replay matches it). Its input names
// every entity of the section, sorted by instance id: each entity takes the lock when it is free
// (operations from others wait behind it, durably, in arrival order) and passes the request to the
// next one; the last answers the caller with the same list (the grant). Acquiring one at a time in
// one global order is what makes sections deadlock-free. A release is a signal "$unlock" to each
// entity, from the orchestration's code or, when its execution ends, from its partition.
#pragma once

#include <perdure/history.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace perdure::detail {

inline constexpr std::string_view lock_entities_operation = "$lock";
inline constexpr std::string_view unlock_entity_operation = "$unlock";

/// The input of a "$lock" call and the output of its grant: the section's entities (instance-id
/// forms, sorted, without repeats).
std::string encode_lock_set(const std::vector<std::string>& entities);
/// The entities a "$lock" input or grant names; nullopt if `json` is not one.
std::optional<std::vector<std::string>> decode_lock_set(std::string_view json);

/// The entities an execution holds locked after `history` (its own events): granted sections not
/// released since. What its partition releases when the execution ends.
std::vector<std::string> held_entity_locks(std::span<const history_event> history);

}  // namespace perdure::detail
