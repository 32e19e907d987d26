// The JSON shapes of the management API: instance records and history events (see
// docs/http-api.md). Payloads are JSON text in Perdure; for people (the history route, the web
// view, the CLI's timeline) they are embedded as JSON values, in the history export
// (<perdure/history_json.hpp>) carried as strings holding the exact text.
#pragma once

#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/replay_check.hpp>

#include <nlohmann/json.hpp>

#include <string_view>

namespace perdure {

/// A stored payload as a JSON value: null when absent; a string holding the raw text if it is not
/// valid JSON or nests deeper than detail::max_json_depth (it always should pass, but data stored
/// before payloads were checked must neither fail a status query nor overflow its stack).
nlohmann::json payload_json(std::string_view text);

nlohmann::json failure_json(const failure_details& failure);
/// The same shape read back: errorType and message are required, details and nonRetriable
/// optional. Throws invalid_argument_error naming the member (`where` names the object).
failure_details failure_from_json(const nlohmann::json& j, const std::string& where);

/// instanceId, name, runtimeStatus, input (unless !with_input), output, customStatus, createdTime,
/// lastUpdatedTime, executionId, failureDetails and parentInstanceId when set.
nlohmann::json instance_json(const instance_record& record, bool with_input);

/// How events are written. `display` embeds payloads as JSON values and gives times in
/// microseconds, to be read; `exact` is the history export's form, which gives back the very
/// events: payloads as strings holding their exact text (parsing and re-writing a payload would
/// change its key order, number spelling, escapes and whitespace, which the code that decodes it
/// may depend on; text stored before payloads were checked may not even be JSON), times in
/// nanoseconds (an episode's time is the orchestration's clock).
enum class event_form { display, exact };

/// index, kind, timestamp and the event's own fields, named as in history.hpp but camelCase.
nlohmann::json event_json(size_t index, const history_event& event, event_form form = event_form::display);

/// The event written by event_json(..., event_form::exact); `index` names it in errors. Throws
/// invalid_argument_error naming the event and the field that is missing or mistyped.
history_event event_from_json(size_t index, const nlohmann::json& event);

nlohmann::json history_json(const history& events, event_form form = event_form::display);

/// checked, passed, mismatches (instanceId, name, version, position, inHistory, inCode) and
/// notRegistered (instanceId, name, version, reason).
nlohmann::json replay_check_json(const replay_check_report& report);

/// The history export document (<perdure/history_json.hpp>): format, formatVersion, instanceId and
/// the events in the exact form.
nlohmann::json history_export_json(std::string_view instance_id, const history& events);

}  // namespace perdure
