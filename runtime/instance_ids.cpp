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

std::optional<std::string> instance_id_problem(std::string_view id) { return url_segment_problem("instance id", id); }

void require_valid_instance_id(std::string_view id) {
  if (auto problem = instance_id_problem(id)) throw invalid_argument_error(*problem);
}

std::optional<std::string> event_name_problem(std::string_view name) { return url_segment_problem("event name", name); }

void require_valid_event_name(std::string_view name) {
  if (auto problem = event_name_problem(name)) throw invalid_argument_error(*problem);
}

std::string new_instance_id() { return detail::random_id(); }

}  // namespace perdure
