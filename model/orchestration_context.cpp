#include <perdure/orchestration_context.hpp>

#include "engine.hpp"

namespace perdure {

const std::string& orchestration_context::name() const noexcept { return engine_.name(); }
const std::string& orchestration_context::instance_id() const noexcept {
  return engine_.instance_id();
}
const std::string& orchestration_context::execution_id() const noexcept {
  return engine_.execution_id();
}
int32_t orchestration_context::version() const noexcept { return engine_.version(); }
time_point orchestration_context::current_time() const noexcept { return engine_.current_time(); }
bool orchestration_context::is_replaying() const noexcept { return engine_.is_replaying(); }
std::string orchestration_context::new_uuid() { return engine_.new_uuid(); }

void orchestration_context::log(log_level level, std::string_view message) const {
  if (!engine_.is_replaying()) detail::write_log(level, engine_.instance_id(), message);
}

task<void> orchestration_context::create_timer(time_point fire_at) {
  return detail::leaf_task<void>(engine_.schedule_timer(fire_at));
}

detail::ref<detail::state_base> orchestration_context::activity_raw(std::string_view name, std::string input,
                                                                    int32_t attempt, int32_t first_task_id,
                                                                    activity_timeouts timeouts,
                                                                    std::string heartbeat_details) {
  return engine_.schedule_activity(name, std::move(input), attempt, first_task_id, timeouts,
                                   std::move(heartbeat_details));
}

int32_t orchestration_context::next_task_id() const noexcept { return engine_.next_id(); }

detail::ref<detail::state_base> orchestration_context::sub_orchestration_raw(
    std::string_view name, std::string instance_id, std::string input, std::optional<int32_t> version) {
  return engine_.schedule_sub_orchestration(name, std::move(instance_id), std::move(input),
                                            version.value_or(events::execution_started::any_version));
}

detail::ref<detail::state_base> orchestration_context::event_raw(std::string_view name) {
  return engine_.wait_event(name);
}

void orchestration_context::send_event_raw(std::string instance_id, std::string name,
                                           std::string input) {
  engine_.send_event(std::move(instance_id), std::move(name), std::move(input));
}

detail::ref<detail::state_base> orchestration_context::entity_call_raw(const entity_id& entity,
                                                                       std::string_view operation, std::string input) {
  return engine_.call_entity(entity.instance_id(), std::string(operation), std::move(input));
}

void orchestration_context::entity_signal_raw(const entity_id& entity, std::string_view operation, std::string input,
                                              time_point deliver_at) {
  engine_.signal_entity(entity.instance_id(), std::string(operation), std::move(input), deliver_at);
}

task<entity_lock> orchestration_context::lock_entities(std::vector<entity_id> entities) {
  std::vector<std::string> ids;
  ids.reserve(entities.size());
  for (const auto& entity : entities) ids.push_back(entity.instance_id());
  const int32_t task_id = next_task_id();
  co_await detail::leaf_task<void>(engine_.lock_entities(std::move(ids)));
  co_return entity_lock(*this, task_id);
}

void orchestration_context::release_entity_lock(int32_t lock_task_id) { engine_.release_entity_lock(lock_task_id); }

entity_lock& entity_lock::operator=(entity_lock&& other) noexcept {
  if (this == &other) return *this;
  release_quietly();
  ctx_ = std::exchange(other.ctx_, nullptr);
  task_id_ = std::exchange(other.task_id_, -1);
  return *this;
}

void entity_lock::release() {
  if (!ctx_) return;
  auto* ctx = std::exchange(ctx_, nullptr);
  ctx->release_entity_lock(task_id_);
}

entity_lock::~entity_lock() { release_quietly(); }

// A release that fails here (a replay that went non-deterministic, an action over the limit) has
// already ended the execution, and its end releases the lock.
void entity_lock::release_quietly() noexcept {
  try {
    release();
  } catch (const std::exception&) {
  }
}

bool orchestration_context::is_patched(std::string_view patch_id) { return engine_.patch(patch_id, false); }

void orchestration_context::deprecate_patch(std::string_view patch_id) { engine_.patch(patch_id, true); }

void orchestration_context::continue_as_new_raw(std::string input, bool keep_unprocessed_events,
                                                std::optional<int32_t> version) {
  engine_.continue_as_new(std::move(input), keep_unprocessed_events, version);
}

void orchestration_context::set_custom_status_raw(std::string json) {
  engine_.set_custom_status(std::move(json));
}

namespace detail {
std::string encode_failed(const char* what, std::string_view name, const payload_error& e) {
  return std::string(what) + " '" + std::string(name) + "': payload could not be encoded: " + e.what();
}
}  // namespace detail

}  // namespace perdure
