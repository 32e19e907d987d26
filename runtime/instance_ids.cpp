#include "instance_ids.hpp"

#include <perdure/errors.hpp>

#include <random>

namespace perdure {

std::optional<std::string> instance_id_problem(std::string_view id) {
  if (id.empty()) return "the instance id is empty";
  if (id.size() > max_instance_id_length)
    return "the instance id is " + std::to_string(id.size()) + " characters long; the limit is " +
           std::to_string(max_instance_id_length);
  for (char c : id) {
    const bool printable = c > ' ' && c < 127;
    if (!printable || c == '/' || c == '\\' || c == '#' || c == '?')
      return "the instance id contains a character that is not allowed (control characters, space, '/', '\\', '#', "
             "'?'; ASCII only)";
  }
  return std::nullopt;
}

void require_valid_instance_id(std::string_view id) {
  if (auto problem = instance_id_problem(id)) throw invalid_argument_error(*problem);
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
