#include "show.hpp"

#include <chrono>
#include <cstdio>
#include <string_view>
#include <type_traits>
#include <variant>

namespace examples {

namespace {

std::string shorten(std::string_view text, size_t limit = 90) {
  if (text.size() <= limit) return std::string(text);
  return std::string(text.substr(0, limit - 3)) + "...";
}

std::string task_line(int32_t id, std::string_view name, std::string_view payload) {
  std::string line = "#" + std::to_string(id);
  if (!name.empty()) line += " " + std::string(name);
  if (!payload.empty()) line += " " + shorten(payload);
  return line;
}

std::string details(const perdure::event_payload& payload) {
  namespace ev = perdure::events;
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ev::execution_started>) return e.name + " " + shorten(e.input);
        else if constexpr (std::is_same_v<T, ev::execution_completed>) return shorten(e.output);
        else if constexpr (std::is_same_v<T, ev::execution_failed>) return e.failure.message;
        else if constexpr (std::is_same_v<T, ev::continued_as_new>) return shorten(e.input);
        else if constexpr (std::is_same_v<T, ev::execution_terminated> ||
                           std::is_same_v<T, ev::execution_suspended> ||
                           std::is_same_v<T, ev::execution_resumed> ||
                           std::is_same_v<T, ev::execution_rewound>) return e.reason;
        else if constexpr (std::is_same_v<T, ev::task_scheduled> ||
                           std::is_same_v<T, ev::sub_orchestration_created>) return task_line(e.task_id, e.name, e.input);
        else if constexpr (std::is_same_v<T, ev::task_completed> ||
                           std::is_same_v<T, ev::sub_orchestration_completed>) return task_line(e.task_id, {}, e.output);
        else if constexpr (std::is_same_v<T, ev::task_failed> ||
                           std::is_same_v<T, ev::sub_orchestration_failed>) return task_line(e.task_id, {}, e.failure.message);
        else if constexpr (std::is_same_v<T, ev::timer_created> || std::is_same_v<T, ev::timer_fired>) return "#" + std::to_string(e.timer_id);
        else if constexpr (std::is_same_v<T, ev::event_raised>) return e.name + " " + shorten(e.input);
        else if constexpr (std::is_same_v<T, ev::event_sent>) return task_line(e.task_id, e.name + " -> " + e.instance_id, e.input);
        else if constexpr (std::is_same_v<T, ev::entity_called> || std::is_same_v<T, ev::entity_signaled>)
          return task_line(e.task_id, e.operation + " -> " + e.entity, e.input);
        else if constexpr (std::is_same_v<T, ev::entity_call_completed>) return task_line(e.task_id, {}, e.output);
        else if constexpr (std::is_same_v<T, ev::entity_call_failed>) return task_line(e.task_id, {}, e.failure.message);
        else if constexpr (std::is_same_v<T, ev::patch_marker>) return e.patch_id;
        else if constexpr (std::is_same_v<T, ev::execution_restarted>)
          return "from event " + std::to_string(e.from_event) + " of " + e.previous_execution_id;
        else return {};
      },
      payload);
}

}  // namespace

std::string describe(const perdure::history_event& event, perdure::time_point start) {
  const double offset = std::chrono::duration<double>(event.timestamp - start).count();
  char head[64];
  std::snprintf(head, sizeof head, "%8.3fs  %-26s", offset, perdure::event_kind_name(event.payload));
  return head + details(event.payload);
}

void print_instance(std::ostream& out, perdure::client& client, const perdure::instance_record& record) {
  out << record.instance_id << " (" << record.name << "): " << perdure::to_string(record.status) << "\n";
  if (!record.custom_status.empty()) out << "  custom status: " << record.custom_status << "\n";
  if (!record.output.empty()) out << "  output:        " << record.output << "\n";
  if (record.failure) out << "  failure:       " << record.failure->error_type << ": " << record.failure->message << "\n";
  const perdure::history events = client.history(record.instance_id);
  out << "  history:\n";
  for (const auto& event : events) out << "    " << describe(event, events.front().timestamp) << "\n";
}

}  // namespace examples
