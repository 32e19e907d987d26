#include "instance_ids.hpp"

#include <perdure/detail/random_id.hpp>
#include <perdure/errors.hpp>

namespace perdure {

namespace {

// The rule shared by instance ids and event names; `what` names which one is checked.
std::optional<std::string> url_segment_problem(std::string_view what, std::string_view text) {
  const std::string the = "the " + std::string(what);
  if (text.empty()) return the + " is empty";
  if (text.size() > max_instance_id_length)
    return the + " is " + std::to_string(text.size()) + " characters long; the limit is " +
           std::to_string(max_instance_id_length);
  if (text == "." || text == "..") return the + " '" + std::string(text) + "' is not allowed (it names another URL path)";
  for (char c : text) {
    const bool printable = c > ' ' && c < 127;
    if (!printable || c == '/' || c == '\\' || c == '#' || c == '?')
      return the + " contains a character that is not allowed (control characters, space, '/', '\\', '#', "
                   "'?'; ASCII only)";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> instance_id_problem(std::string_view id) {
  if (auto problem = url_segment_problem("instance id", id)) return problem;
  if (is_entity_instance_id(id))
    return "the instance id '" + std::string(id) + "' starts with '@', which is reserved for entities";
  return std::nullopt;
}

void require_valid_instance_id(std::string_view id) {
  if (auto problem = instance_id_problem(id)) throw invalid_argument_error(*problem);
}

std::optional<std::string> event_name_problem(std::string_view name) { return url_segment_problem("event name", name); }

void require_valid_event_name(std::string_view name) {
  if (auto problem = event_name_problem(name)) throw invalid_argument_error(*problem);
}

std::optional<std::string> entity_id_problem(const entity_id& entity) {
  if (auto problem = url_segment_problem("entity name", entity.name)) return problem;
  if (entity.name.find('@') != std::string::npos) return "the entity name '" + entity.name + "' contains '@'";
  if (auto problem = url_segment_problem("entity key", entity.key)) return problem;
  if (const auto length = entity.instance_id().size(); length > max_instance_id_length)
    return "the entity id '" + entity.instance_id() + "' is " + std::to_string(length) + " characters long; the limit is " +
           std::to_string(max_instance_id_length) + " for name and key together, plus two";
  return std::nullopt;
}

void require_valid_entity_id(const entity_id& entity) {
  if (auto problem = entity_id_problem(entity)) throw invalid_argument_error(*problem);
}

std::optional<std::string> operation_name_problem(std::string_view operation) {
  if (auto problem = url_segment_problem("operation name", operation)) return problem;
  if (operation.front() == '$')
    return "the operation name '" + std::string(operation) + "' starts with '$', which is reserved for Perdure";
  return std::nullopt;
}

void require_valid_operation_name(std::string_view operation) {
  if (auto problem = operation_name_problem(operation)) throw invalid_argument_error(*problem);
}

std::string new_instance_id() { return detail::random_id(); }

std::string start_instance_id(std::string_view requested) {
  if (requested.empty()) return new_instance_id();
  require_valid_instance_id(requested);
  return std::string(requested);
}

}  // namespace perdure
