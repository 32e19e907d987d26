#include "http_json.hpp"

#include "http_time.hpp"

#include <perdure/detail/json_payload.hpp>

namespace perdure {
namespace {

using nlohmann::json;

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
// clang 14 (the fuzz build) lacks C++20's implicit aggregate deduction guides.
template <class... F>
overloaded(F...) -> overloaded<F...>;

json parent_json(const parent_instance& parent) {
  return json{{"name", parent.name},
              {"instanceId", parent.instance_id},
              {"executionId", parent.execution_id},
              {"taskId", parent.task_id}};
}

// The fields of one event, named as in history.hpp but camelCase.
template <class Call>
json entity_call_json(const Call& call) {
  return json{{"taskId", call.task_id}, {"entity", call.entity}, {"operation", call.operation},
              {"input", payload_json(call.input)}};
}

json event_fields(const event_payload& payload) {
  return std::visit(
      overloaded{
          [](const events::execution_started& e) {
            json j{{"name", e.name}, {"instanceId", e.instance_id}, {"executionId", e.execution_id},
                   {"input", payload_json(e.input)}, {"version", e.version}};
            if (e.parent) j["parent"] = parent_json(*e.parent);
            return j;
          },
          [](const events::execution_completed& e) { return json{{"output", payload_json(e.output)}}; },
          [](const events::execution_failed& e) { return json{{"failureDetails", failure_json(e.failure)}}; },
          [](const events::continued_as_new& e) { return json{{"input", payload_json(e.input)}}; },
          [](const events::execution_terminated& e) { return json{{"reason", e.reason}}; },
          [](const events::execution_suspended& e) { return json{{"reason", e.reason}}; },
          [](const events::execution_resumed& e) { return json{{"reason", e.reason}}; },
          [](const events::episode_started&) { return json::object(); },
          [](const events::task_scheduled& e) {
            json j{{"taskId", e.task_id}, {"name", e.name}, {"input", payload_json(e.input)}, {"attempt", e.attempt}};
            if (e.first_task_id >= 0) j["firstTaskId"] = e.first_task_id;  // a retry: the call's first attempt
            return j;
          },
          [](const events::task_completed& e) {
            return json{{"taskId", e.task_id}, {"output", payload_json(e.output)}};
          },
          [](const events::task_failed& e) {
            return json{{"taskId", e.task_id}, {"failureDetails", failure_json(e.failure)}};
          },
          [](const events::timer_created& e) {
            return json{{"timerId", e.timer_id}, {"fireAt", format_iso8601(e.fire_at)}};
          },
          [](const events::timer_fired& e) {
            return json{{"timerId", e.timer_id}, {"fireAt", format_iso8601(e.fire_at)}};
          },
          [](const events::sub_orchestration_created& e) {
            return json{{"taskId", e.task_id}, {"name", e.name}, {"instanceId", e.instance_id},
                        {"input", payload_json(e.input)}};
          },
          [](const events::sub_orchestration_completed& e) {
            return json{{"taskId", e.task_id}, {"output", payload_json(e.output)}};
          },
          [](const events::sub_orchestration_failed& e) {
            return json{{"taskId", e.task_id}, {"failureDetails", failure_json(e.failure)}};
          },
          [](const events::event_raised& e) { return json{{"name", e.name}, {"input", payload_json(e.input)}}; },
          [](const events::event_sent& e) {
            return json{{"taskId", e.task_id}, {"instanceId", e.instance_id}, {"name", e.name},
                        {"input", payload_json(e.input)}};
          },
          [](const events::entity_called& e) { return entity_call_json(e); },
          [](const events::entity_signaled& e) { return entity_call_json(e); },
          [](const events::entity_call_completed& e) {
            return json{{"taskId", e.task_id}, {"output", payload_json(e.output)}};
          },
          [](const events::entity_call_failed& e) {
            return json{{"taskId", e.task_id}, {"failureDetails", failure_json(e.failure)}};
          },
          [](const events::patch_marker& e) { return json{{"patchId", e.patch_id}, {"deprecated", e.deprecated}}; },
          [](const events::entity_operation& e) {
            return json{{"operation", e.operation},
                        {"input", payload_json(e.input)},
                        {"callerInstanceId", e.caller_instance_id},
                        {"callerTaskId", e.caller_task_id}};
          },
      },
      payload);
}

}  // namespace

json payload_json(std::string_view text) {
  if (text.empty()) return nullptr;
  // Parsing and dumping recurse once per level: text stored before payloads were bounded could
  // otherwise overflow the reader's stack.
  if (detail::json_nesting_depth(text) > detail::max_json_depth) return std::string{text};
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::string{text};
  return value;
}

json failure_json(const failure_details& failure) {
  return json{{"errorType", failure.error_type},
              {"message", failure.message},
              {"details", failure.details},
              {"nonRetriable", failure.non_retriable}};
}

json instance_json(const instance_record& record, bool with_input) {
  json j{{"instanceId", record.instance_id},
         {"executionId", record.execution_id},
         {"name", record.name},
         {"version", record.version},
         {"runtimeStatus", to_string(record.status)},
         {"output", payload_json(record.output)},
         {"customStatus", payload_json(record.custom_status)},
         {"createdTime", format_iso8601(record.created_at)},
         {"lastUpdatedTime", format_iso8601(record.last_updated_at)}};
  if (with_input) j["input"] = payload_json(record.input);
  if (record.failure) j["failureDetails"] = failure_json(*record.failure);
  if (record.parent) j["parentInstanceId"] = record.parent->instance_id;
  j["waitingForVersion"] = record.waiting_for_version();
  return j;
}

json event_json(size_t index, const history_event& event) {
  json j = event_fields(event.payload);
  j["index"] = index;
  j["kind"] = event_kind_name(event.payload);
  j["timestamp"] = format_iso8601(event.timestamp);
  return j;
}

json history_json(const history& events) {
  json list = json::array();
  for (size_t i = 0; i < events.size(); ++i) list.push_back(event_json(i, events[i]));
  return list;
}

}  // namespace perdure
