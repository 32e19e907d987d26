// A stuck instance in one paragraph, for test failures: its status, the kinds of its history
// events (with task and timer ids), and, recursively, the sub-orchestrations it still waits for.
#pragma once

#include <perdure/client.hpp>
#include <perdure/history.hpp>

#include <map>
#include <string>
#include <variant>

namespace perdure::testing_support {

inline std::string describe_instance(client& c, const std::string& id, int depth = 0) {
  std::string text = id + ": ";
  try {
    auto record = c.status(id);
    if (!record) return text + "no record";
    text += "status " + std::string(to_string(record->status)) + ", input " + record->input.substr(0, 80);
    if (record->failure) text += ", failure " + record->failure->error_type + ": " + record->failure->message;
    text += ", history:";
    std::map<int32_t, std::string> children_waited_for;
    for (const auto& e : c.history(id)) {
      const auto& p = e.payload;
      text += std::string(" ") + event_kind_name(p);
      if (auto* s = std::get_if<events::task_scheduled>(&p)) text += "#" + std::to_string(s->task_id);
      if (auto* s = std::get_if<events::task_completed>(&p)) text += "#" + std::to_string(s->task_id);
      if (auto* s = std::get_if<events::task_failed>(&p)) text += "#" + std::to_string(s->task_id);
      if (auto* s = std::get_if<events::timer_created>(&p)) text += "#" + std::to_string(s->timer_id);
      if (auto* s = std::get_if<events::timer_fired>(&p)) text += "#" + std::to_string(s->timer_id);
      if (auto* s = std::get_if<events::sub_orchestration_created>(&p)) {
        text += "#" + std::to_string(s->task_id) + "(" + s->instance_id + ")";
        children_waited_for[s->task_id] = s->instance_id;
      }
      if (auto* s = std::get_if<events::sub_orchestration_completed>(&p)) {
        text += "#" + std::to_string(s->task_id);
        children_waited_for.erase(s->task_id);
      }
      if (auto* s = std::get_if<events::sub_orchestration_failed>(&p)) {
        text += "#" + std::to_string(s->task_id);
        children_waited_for.erase(s->task_id);
      }
      if (auto* s = std::get_if<events::event_raised>(&p)) text += "(" + s->name + "=" + s->input + ")";
      if (std::holds_alternative<events::execution_started>(p)) children_waited_for.clear();
    }
    if (depth < 3 && !is_terminal(record->status))
      for (const auto& [task, child] : children_waited_for)
        text += "\n    waits for sub-orchestration #" + std::to_string(task) + ": " +
                describe_instance(c, child, depth + 1);
  } catch (const std::exception& e) {
    text += std::string(" (cannot read: ") + e.what() + ")";
  }
  return text;
}

}  // namespace perdure::testing_support
