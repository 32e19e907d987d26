#include <perdure/detail/random_id.hpp>
#include <perdure/entity.hpp>

namespace perdure {

std::optional<entity_id> entity_id::from_instance_id(std::string_view id) {
  if (!is_entity_instance_id(id)) return std::nullopt;
  const auto separator = id.find('@', 1);
  if (separator == std::string_view::npos) return std::nullopt;
  return entity_id{std::string(id.substr(1, separator - 1)), std::string(id.substr(separator + 1))};
}

std::string entity_context::start_orchestration_raw(std::string name, std::string input_json, std::string instance_id) {
  if (instance_id.empty()) instance_id = detail::random_id();
  effects_.starts.push_back({std::move(name), instance_id, std::move(input_json)});
  return instance_id;
}

}  // namespace perdure
