#include <perdure/executor.hpp>

#include "engine.hpp"

namespace perdure {

struct orchestration_executor::impl {
  impl(const registry& functions, std::string name, int32_t version, std::string instance_id, episode_limits limits)
      : engine(functions, std::move(name), version, std::move(instance_id), limits) {}
  detail::engine engine;
};

orchestration_executor::orchestration_executor(const registry& functions, std::string name, int32_t version,
                                               std::string instance_id, episode_limits limits)
    : impl_(std::make_unique<impl>(functions, std::move(name), version, std::move(instance_id), limits)) {}

orchestration_executor::~orchestration_executor() = default;

episode_result orchestration_executor::replay(std::span<const history_event> stored) {
  return impl_->engine.replay(stored);
}

episode_result orchestration_executor::execute(std::span<const history_event> new_events) {
  return impl_->engine.execute(new_events);
}

bool orchestration_executor::is_complete() const noexcept { return impl_->engine.is_complete(); }

bool orchestration_executor::is_suspended() const noexcept { return impl_->engine.is_suspended(); }

bool orchestration_executor::took_entity_locks() const noexcept { return impl_->engine.took_entity_locks(); }

}  // namespace perdure
