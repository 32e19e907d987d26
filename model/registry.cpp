#include <perdure/registry.hpp>

namespace perdure {

registry& registry::add_orchestration_raw(std::string name, orchestration_fn fn) {
  if (orchestrations_.contains(name))
    throw invalid_argument_error("orchestration '" + name + "' is already registered");
  orchestrations_.emplace(std::move(name), std::move(fn));
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

const registry::orchestration_fn& registry::orchestration(std::string_view name) const {
  auto it = orchestrations_.find(name);
  if (it == orchestrations_.end())
    throw unknown_orchestration_error("no orchestration registered as '" + std::string(name) + "'");
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
