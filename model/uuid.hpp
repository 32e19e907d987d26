// Deterministic, name-based UUIDs (RFC 4122 version 5, SHA-1).
#pragma once

#include <string>
#include <string_view>

namespace perdure::detail {

/// The version-5 UUID of `name` in Perdure's own namespace, in the 8-4-4-4-12 hex form.
std::string name_based_uuid(std::string_view name);

}  // namespace perdure::detail
