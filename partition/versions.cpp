#include "versions.hpp"

#include "state_machine.hpp"

#include <perdure/errors.hpp>

#include <spdlog/spdlog.h>

namespace perdure::partition {

std::optional<refusal> resolve_version_to_start(const registry& functions, std::string_view name, int32_t& version) {
  try {
    version = functions.version_to_start(name, version);
    return std::nullopt;
  } catch (const unknown_orchestration_error& e) {
    return refusal{refusal_code::unknown_function, e.what()};
  }
}

// Each waiting instance is logged here once per node start; the episode logs it once when it
// starts waiting, so the log names every waiting instance without a line per message.
void state_machine::revive_waiting_instances() {
  for (const std::string& id : config_.store->waiting_for_version(config_.partition)) {
    auto& entry = cache_.touch(id);
    load_record(entry.slot, *config_.store);
    const auto& record = entry.slot.record;
    if (!record) continue;
    if (config_.functions->has_orchestration(record->name, record->version)) {
      spdlog::info("instance '{}': orchestration '{}' version {} is registered here; it continues", id, record->name,
                   record->version);
      cache_.revive(entry);
    } else {
      spdlog::warn("instance '{}' waits: orchestration '{}' version {} is not registered on this node", id,
                   record->name, record->version);
    }
  }
}

}  // namespace perdure::partition
