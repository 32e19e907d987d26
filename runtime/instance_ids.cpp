#include "instance_ids.hpp"

#include <perdure/errors.hpp>

#include <random>

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

std::string new_instance_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(32, '0');
  const uint64_t halves[2] = {random(), random()};
  for (int i = 0; i < 32; ++i) id[i] = digits[(halves[i / 16] >> ((i % 16) * 4)) & 0xf];
  return id;
}

}  // namespace perdure
