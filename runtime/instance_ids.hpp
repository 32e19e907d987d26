// Instance ids: what a valid one looks like, and new random ones.
#pragma once

#include <perdure/entity_record.hpp>

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

/// Why `entity` is not a valid entity id, or nullopt if it is: a name and a key each valid as an
/// instance id (they travel as URL path segments), the name without '@', and the whole instance-id
/// form (entity_id::instance_id) at most 256 characters.
std::optional<std::string> entity_id_problem(const entity_id& entity);
void require_valid_entity_id(const entity_id& entity);

/// Why `operation` is not a valid operation name a client may send, or nullopt: an event name's
/// rule, and not starting with '$' (reserved for Perdure's own operations).
std::optional<std::string> operation_name_problem(std::string_view operation);
void require_valid_operation_name(std::string_view operation);

/// A new random id (32 hex digits).
std::string new_instance_id();

/// The id a start uses: `requested`, checked (require_valid_instance_id), or a new random one when
/// it is empty.
std::string start_instance_id(std::string_view requested);

}  // namespace perdure
