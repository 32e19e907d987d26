// Orchestration versions at the partition's edges: the version a client's start runs, and the
// instances that waited for a version when a node starts serving the partition (the rest is the
// episode's: episode.hpp).
#pragma once

#include "actions.hpp"

#include <perdure/registry.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace perdure::partition {

/// Replaces `version` (execution_started::any_version: the latest) with the registered version a
/// start runs; a refusal (unknown_function, naming the versions registered) when it is not registered.
std::optional<refusal> resolve_version_to_start(const registry& functions, std::string_view name, int32_t& version);

}  // namespace perdure::partition
