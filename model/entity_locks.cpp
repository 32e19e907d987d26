#include <perdure/detail/entity_locks.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace perdure::detail {

namespace {
constexpr const char* lock_set_key = "$lock";
}

std::string encode_lock_set(const std::vector<std::string>& entities) {
  return nlohmann::json{{lock_set_key, entities}}.dump();
}

std::optional<std::vector<std::string>> decode_lock_set(std::string_view json) {
  const auto parsed = nlohmann::json::parse(json, nullptr, false);
  if (!parsed.is_object() || parsed.size() != 1 || !parsed.contains(lock_set_key)) return std::nullopt;
  const auto& list = parsed.at(lock_set_key);
  if (!list.is_array() || list.empty()) return std::nullopt;
  std::vector<std::string> entities;
  for (const auto& id : list) {
    if (!id.is_string()) return std::nullopt;
    entities.push_back(id.get<std::string>());
  }
  return entities;
}

std::vector<std::string> held_entity_locks(std::span<const history_event> history) {
  std::map<int32_t, std::vector<std::string>> requested;  // by task id
  std::vector<std::string> held;
  for (const auto& ev : history) {
    if (auto* call = std::get_if<events::entity_called>(&ev.payload); call && call->operation == lock_entities_operation) {
      if (auto set = decode_lock_set(call->input)) requested.emplace(call->task_id, std::move(*set));
    } else if (auto* done = std::get_if<events::entity_call_completed>(&ev.payload)) {
      if (auto it = requested.find(done->task_id); it != requested.end()) held = std::move(it->second);
    } else if (auto* signal = std::get_if<events::entity_signaled>(&ev.payload);
               signal && signal->operation == unlock_entity_operation) {
      held.erase(std::remove(held.begin(), held.end(), signal->entity), held.end());
    }
  }
  return held;
}

}  // namespace perdure::detail
