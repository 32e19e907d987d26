#include "describe.hpp"

namespace perdure::detail {

int32_t action_id(const event_payload& payload) noexcept {
  if (auto* s = std::get_if<events::task_scheduled>(&payload)) return s->task_id;
  if (auto* t = std::get_if<events::timer_created>(&payload)) return t->timer_id;
  if (auto* c = std::get_if<events::sub_orchestration_created>(&payload)) return c->task_id;
  if (auto* e = std::get_if<events::event_sent>(&payload)) return e->task_id;
  if (auto* c = std::get_if<events::entity_called>(&payload)) return c->task_id;
  if (auto* g = std::get_if<events::entity_signaled>(&payload)) return g->task_id;
  return -1;
}

bool is_code_terminal(const event_payload& payload) noexcept {
  return std::holds_alternative<events::execution_completed>(payload) ||
         std::holds_alternative<events::execution_failed>(payload) ||
         std::holds_alternative<events::continued_as_new>(payload);
}

bool same_action(const event_payload& recorded, const event_payload& taken) noexcept {
  if (recorded.index() != taken.index()) return false;
  if (auto* s = std::get_if<events::task_scheduled>(&recorded))
    return s->name == std::get<events::task_scheduled>(taken).name;
  if (auto* c = std::get_if<events::sub_orchestration_created>(&recorded)) {
    const auto& t = std::get<events::sub_orchestration_created>(taken);
    return c->name == t.name && c->instance_id == t.instance_id;
  }
  if (auto* e = std::get_if<events::event_sent>(&recorded)) {
    const auto& t = std::get<events::event_sent>(taken);
    return e->name == t.name && e->instance_id == t.instance_id;
  }
  if (auto* c = std::get_if<events::entity_called>(&recorded)) {
    const auto& t = std::get<events::entity_called>(taken);
    return c->entity == t.entity && c->operation == t.operation;
  }
  if (auto* g = std::get_if<events::entity_signaled>(&recorded)) {
    const auto& t = std::get<events::entity_signaled>(taken);
    return g->entity == t.entity && g->operation == t.operation;
  }
  return true;
}

std::string describe(const event_payload& payload) {
  std::string kind = event_kind_name(payload);
  auto quoted = [](const std::string& s) { return "'" + s + "'"; };
  if (auto* s = std::get_if<events::task_scheduled>(&payload))
    return kind + " " + quoted(s->name) + " (task " + std::to_string(s->task_id) +
           (s->attempt > 1 ? ", attempt " + std::to_string(s->attempt) : "") + ")";
  if (auto* t = std::get_if<events::timer_created>(&payload))
    return kind + " (timer " + std::to_string(t->timer_id) + ")";
  if (auto* c = std::get_if<events::sub_orchestration_created>(&payload))
    return kind + " " + quoted(c->name) + " (task " + std::to_string(c->task_id) + ", instance " +
           quoted(c->instance_id) + ")";
  if (auto* e = std::get_if<events::event_sent>(&payload))
    return kind + " " + quoted(e->name) + " to " + quoted(e->instance_id) + " (task " +
           std::to_string(e->task_id) + ")";
  if (auto* c = std::get_if<events::entity_called>(&payload))
    return kind + " " + quoted(c->operation) + " on " + quoted(c->entity) + " (task " + std::to_string(c->task_id) + ")";
  if (auto* g = std::get_if<events::entity_signaled>(&payload))
    return kind + " " + quoted(g->operation) + " on " + quoted(g->entity) + " (task " + std::to_string(g->task_id) + ")";
  if (auto* m = std::get_if<events::patch_marker>(&payload)) return kind + " " + quoted(m->patch_id);
  if (auto* f = std::get_if<events::execution_failed>(&payload))
    return kind + " (" + f->failure.error_type + ": " + f->failure.message + ")";
  return kind;
}

}  // namespace perdure::detail
