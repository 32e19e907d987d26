// The JSON shapes of the management API: instance records and history events (see
// docs/http-api.md). Payloads are JSON text in Perdure; here they are embedded as JSON values.
#pragma once

#include <perdure/history.hpp>
#include <perdure/instance.hpp>

#include <nlohmann/json.hpp>

#include <string_view>

namespace perdure {

/// A stored payload as a JSON value: null when absent; a string holding the raw text if it is not
/// valid JSON or nests deeper than detail::max_json_depth (it always should pass, but data stored
/// before payloads were checked must neither fail a status query nor overflow its stack).
nlohmann::json payload_json(std::string_view text);

nlohmann::json failure_json(const failure_details& failure);

/// instanceId, name, runtimeStatus, input (unless !with_input), output, customStatus, createdTime,
/// lastUpdatedTime, executionId, failureDetails and parentInstanceId when set.
nlohmann::json instance_json(const instance_record& record, bool with_input);

/// index, kind, timestamp and the event's own fields.
nlohmann::json event_json(size_t index, const history_event& event);

nlohmann::json history_json(const history& events);

}  // namespace perdure
