#include <perdure/registry.hpp>

namespace perdure {

registry& registry::add_orchestration_raw(std::string name, orchestration_options options, orchestration_fn fn) {
  if (options.version < 0)
    throw invalid_argument_error("orchestration '" + name + "': version " + std::to_string(options.version) +
                                 " is negative; versions are 0 (unversioned), 1, 2, ...");
  auto& registered = orchestrations_[name];
  if (!registered.emplace(options.version, std::move(fn)).second)
    throw invalid_argument_error("orchestration '" + name + "' version " + std::to_string(options.version) +
                                 " is already registered");
  return *this;
}

registry& registry::add_activity_raw(std::string name, activity_fn fn) {
  if (activities_.contains(name))
    throw invalid_argument_error("activity '" + name + "' is already registered");
  activities_.emplace(std::move(name), std::move(fn));
  return *this;
}

registry& registry::add_entity(std::string name, entity_fn fn) {
  if (name.empty() || name.find('@') != std::string::npos)
    throw invalid_argument_error("entity name '" + name + "' must be non-empty and without '@'");
  if (entities_.contains(name)) throw invalid_argument_error("entity '" + name + "' is already registered");
  entities_.emplace(std::move(name), std::move(fn));
  return *this;
}

bool registry::has_entity(std::string_view name) const { return entities_.find(name) != entities_.end(); }

void registry::invoke_entity(entity_context& ctx) const {
  auto it = entities_.find(ctx.id().name);
  if (it == entities_.end())
    throw unknown_function_error("no entity registered as '" + ctx.id().name + "'");
  it->second(ctx);
}

bool registry::has_orchestration(std::string_view name) const {
  return orchestrations_.find(name) != orchestrations_.end();
}

bool registry::has_activity(std::string_view name) const {
  return activities_.find(name) != activities_.end();
}

bool registry::has_orchestration(std::string_view name, int32_t version) const {
  auto it = orchestrations_.find(name);
  return it != orchestrations_.end() && it->second.contains(version);
}

const registry::versions& registry::versions_of(std::string_view name) const {
  auto it = orchestrations_.find(name);
  if (it == orchestrations_.end())
    throw unknown_orchestration_error("no orchestration registered as '" + std::string(name) + "'");
  return it->second;
}

namespace {
std::string version_list(const std::map<int32_t, registry::orchestration_fn>& versions) {
  std::string list;
  for (const auto& [version, fn] : versions) list += (list.empty() ? "" : ", ") + std::to_string(version);
  return list;
}
}  // namespace

int32_t registry::version_to_start(std::string_view name, int32_t requested) const {
  const versions& registered = versions_of(name);
  if (requested == events::execution_started::any_version) return registered.rbegin()->first;
  if (!registered.contains(requested))
    throw orchestration_version_unavailable(std::string(name), requested, version_list(registered));
  return requested;
}

const registry::orchestration_fn& registry::orchestration(std::string_view name, int32_t version) const {
  const versions& registered = versions_of(name);
  auto it = registered.find(version);
  if (it == registered.end()) throw orchestration_version_unavailable(std::string(name), version, version_list(registered));
  return it->second;
}

std::string registry::invoke_activity(std::string_view name, activity_context& ctx,
                                      std::string_view input_json) const {
  auto it = activities_.find(name);
  if (it == activities_.end())
    throw unknown_function_error("no activity registered as '" + std::string(name) + "'");
  return it->second(ctx, input_json);
}

}  // namespace perdure
