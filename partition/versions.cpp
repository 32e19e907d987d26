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

// A waiting instance whose version this node registers continues; one whose version it lacks
// starts waiting now (its replay fails the way its next message would), so the node reports every
// instance it cannot run from its start, not from their next message. An orchestration no version
// of which is registered is left to stall at its next message, as before versions. Each instance
// that keeps waiting is logged here once per node start; the episode logs the others once when they
// start waiting.
void state_machine::check_versions_of_unfinished_instances() {
  const registry& functions = *config_.functions;
  for (const auto& instance : config_.store->unfinished_instances(config_.partition)) {
    if (!functions.has_orchestration(instance.name)) continue;
    const bool registered = functions.has_orchestration(instance.name, instance.version);
    if (registered && !instance.waiting_for_version) continue;  // it runs
    if (registered)
      spdlog::info("instance '{}': orchestration '{}' version {} is registered here; it continues",
                   instance.instance_id, instance.name, instance.version);
    else if (instance.waiting_for_version)
      spdlog::warn("instance '{}' waits: orchestration '{}' version {} is not registered on this node",
                   instance.instance_id, instance.name, instance.version);
    if (registered || !instance.waiting_for_version) cache_.revive(cache_.touch(instance.instance_id));
  }
}

}  // namespace perdure::partition
