// Instance ids: what a valid one looks like, and new random ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace perdure {

inline constexpr size_t max_instance_id_length = 256;

/// Why `id` is not a valid instance id, or nullopt if it is. Valid: 1 to 256 printable ASCII
/// characters other than '/', '\\', '#', '?' and space (they must travel in URLs and file names).
std::optional<std::string> instance_id_problem(std::string_view id);

/// Throws invalid_argument_error saying why, unless `id` is a valid instance id.
void require_valid_instance_id(std::string_view id);

/// A new random id (32 hex digits).
std::string new_instance_id();

}  // namespace perdure
