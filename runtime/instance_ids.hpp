// Instance ids: what a valid one looks like, and new random ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace perdure {

inline constexpr size_t max_instance_id_length = 256;

/// Why `id` is not a valid instance id, or nullopt if it is. Valid: 1 to 256 printable ASCII
/// characters other than '/', '\\', '#', '?' and space, and not "." or ".." (they must travel as
/// one URL path segment, which "." and ".." are not: clients resolve them to other paths).
std::optional<std::string> instance_id_problem(std::string_view id);

/// Throws invalid_argument_error saying why, unless `id` is a valid instance id.
void require_valid_instance_id(std::string_view id);

/// Why `name` is not a valid event name, or nullopt if it is: the same rule as instance ids (an
/// event name travels in the raise-event URL too).
std::optional<std::string> event_name_problem(std::string_view name);

/// Throws invalid_argument_error saying why, unless `name` is a valid event name.
void require_valid_event_name(std::string_view name);

/// A new random id (32 hex digits).
std::string new_instance_id();

}  // namespace perdure
