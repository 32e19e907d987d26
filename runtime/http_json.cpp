#include "http_json.hpp"

#include "http_time.hpp"

#include <perdure/detail/json_payload.hpp>
#include <perdure/effective_history.hpp>
#include <perdure/history_json.hpp>

#include <climits>
#include <fstream>
#include <sstream>
#include <tuple>
#include <type_traits>

namespace perdure {
namespace {

using nlohmann::json;

// One field of an event: its JSON name and member. `payload`: JSON text, written per event_form.
// `omitted_at_default`: left out while it holds its default (a first attempt's firstTaskId, a
// start without a parent), and read back as that default when absent.
template <class Event, class T>
struct field {
  const char* name;
  T Event::*member;
  bool payload = false;
  bool omitted_at_default = false;
};

template <class Event, class T>
constexpr field<Event, T> plain(const char* name, T Event::*member) {
  return {name, member};
}
template <class Event>
constexpr field<Event, std::string> payload(const char* name, std::string Event::*member) {
  return {name, member, true};
}
template <class Event, class T>
constexpr field<Event, T> omittable(const char* name, T Event::*member) {
  return {name, member, false, true};
}
template <class Event>
constexpr field<Event, std::string> omittable_payload(const char* name, std::string Event::*member) {
  return {name, member, true, true};
}

// The fields of each event kind: event_json writes and event_from_json reads exactly these.
constexpr auto fields_of(std::type_identity<events::execution_started>) {
  using e = events::execution_started;
  return std::tuple{plain("name", &e::name), plain("instanceId", &e::instance_id),
                    plain("executionId", &e::execution_id), payload("input", &e::input),
                    plain("version", &e::version), omittable("parent", &e::parent),
                    omittable("traceParent", &e::trace_parent), omittable("traceState", &e::trace_state)};
}
constexpr auto fields_of(std::type_identity<events::execution_completed>) {
  return std::tuple{payload("output", &events::execution_completed::output)};
}
constexpr auto fields_of(std::type_identity<events::execution_failed>) {
  return std::tuple{plain("failureDetails", &events::execution_failed::failure)};
}
constexpr auto fields_of(std::type_identity<events::continued_as_new>) {
  return std::tuple{payload("input", &events::continued_as_new::input)};
}
constexpr auto fields_of(std::type_identity<events::execution_terminated>) {
  return std::tuple{plain("reason", &events::execution_terminated::reason)};
}
constexpr auto fields_of(std::type_identity<events::execution_suspended>) {
  return std::tuple{plain("reason", &events::execution_suspended::reason)};
}
constexpr auto fields_of(std::type_identity<events::execution_resumed>) {
  return std::tuple{plain("reason", &events::execution_resumed::reason)};
}
constexpr auto fields_of(std::type_identity<events::episode_started>) { return std::tuple{}; }
constexpr auto fields_of(std::type_identity<events::patch_marker>) {
  return std::tuple{plain("patchId", &events::patch_marker::patch_id),
                    plain("deprecated", &events::patch_marker::deprecated)};
}
constexpr auto fields_of(std::type_identity<events::execution_rewound>) {
  return std::tuple{plain("reason", &events::execution_rewound::reason)};
}
constexpr auto fields_of(std::type_identity<events::execution_restarted>) {
  using e = events::execution_restarted;
  return std::tuple{plain("previousExecutionId", &e::previous_execution_id), plain("fromEvent", &e::from_event),
                    plain("version", &e::version)};
}
constexpr auto fields_of(std::type_identity<events::task_scheduled>) {
  using e = events::task_scheduled;
  return std::tuple{plain("taskId", &e::task_id), plain("name", &e::name), payload("input", &e::input),
                    plain("attempt", &e::attempt), omittable("firstTaskId", &e::first_task_id),
                    omittable("timeouts", &e::timeouts), omittable_payload("heartbeatDetails", &e::heartbeat_details)};
}
constexpr auto fields_of(std::type_identity<events::task_completed>) {
  return std::tuple{plain("taskId", &events::task_completed::task_id),
                    payload("output", &events::task_completed::output)};
}
constexpr auto fields_of(std::type_identity<events::task_failed>) {
  return std::tuple{plain("taskId", &events::task_failed::task_id),
                    plain("failureDetails", &events::task_failed::failure),
                    omittable_payload("lastHeartbeatDetails", &events::task_failed::last_heartbeat_details)};
}
constexpr auto fields_of(std::type_identity<events::timer_created>) {
  return std::tuple{plain("timerId", &events::timer_created::timer_id),
                    plain("fireAt", &events::timer_created::fire_at)};
}
constexpr auto fields_of(std::type_identity<events::timer_fired>) {
  return std::tuple{plain("timerId", &events::timer_fired::timer_id), plain("fireAt", &events::timer_fired::fire_at),
                    omittable("createdAt", &events::timer_fired::created_at)};
}
constexpr auto fields_of(std::type_identity<events::sub_orchestration_created>) {
  using e = events::sub_orchestration_created;
  return std::tuple{plain("taskId", &e::task_id), plain("name", &e::name), plain("instanceId", &e::instance_id),
                    payload("input", &e::input), omittable("version", &e::version)};
}
constexpr auto fields_of(std::type_identity<events::sub_orchestration_completed>) {
  return std::tuple{plain("taskId", &events::sub_orchestration_completed::task_id),
                    payload("output", &events::sub_orchestration_completed::output)};
}
constexpr auto fields_of(std::type_identity<events::sub_orchestration_failed>) {
  return std::tuple{plain("taskId", &events::sub_orchestration_failed::task_id),
                    plain("failureDetails", &events::sub_orchestration_failed::failure)};
}
constexpr auto fields_of(std::type_identity<events::event_raised>) {
  return std::tuple{plain("name", &events::event_raised::name), payload("input", &events::event_raised::input),
                    omittable("traceParent", &events::event_raised::trace_parent)};
}
constexpr auto fields_of(std::type_identity<events::event_sent>) {
  using e = events::event_sent;
  return std::tuple{plain("taskId", &e::task_id), plain("instanceId", &e::instance_id), plain("name", &e::name),
                    payload("input", &e::input)};
}
template <class Call>  // entity_called, entity_signaled
constexpr auto entity_call_fields() {
  return std::tuple{plain("taskId", &Call::task_id), plain("entity", &Call::entity),
                    plain("operation", &Call::operation), payload("input", &Call::input)};
}
constexpr auto fields_of(std::type_identity<events::entity_called>) { return entity_call_fields<events::entity_called>(); }
constexpr auto fields_of(std::type_identity<events::entity_signaled>) {
  using e = events::entity_signaled;
  return std::tuple_cat(entity_call_fields<e>(), std::tuple{omittable("deliverAt", &e::deliver_at)});
}
constexpr auto fields_of(std::type_identity<events::entity_call_completed>) {
  return std::tuple{plain("taskId", &events::entity_call_completed::task_id),
                    payload("output", &events::entity_call_completed::output)};
}
constexpr auto fields_of(std::type_identity<events::entity_call_failed>) {
  return std::tuple{plain("taskId", &events::entity_call_failed::task_id),
                    plain("failureDetails", &events::entity_call_failed::failure)};
}
constexpr auto fields_of(std::type_identity<events::entity_operation>) {
  using e = events::entity_operation;
  return std::tuple{plain("operation", &e::operation), payload("input", &e::input),
                    plain("callerInstanceId", &e::caller_instance_id),
                    plain("callerExecutionId", &e::caller_execution_id), plain("callerTaskId", &e::caller_task_id),
                    omittable("deliverAt", &e::deliver_at), omittable("traceParent", &e::trace_parent)};
}

// Writing one value.
json value_json(int32_t v, event_form) { return v; }
json value_json(bool v, event_form) { return v; }
json value_json(const std::string& v, event_form) { return v; }
json value_json(time_point t, event_form form) {
  return form == event_form::exact ? format_iso8601_exact(t) : format_iso8601(t);
}
json value_json(const failure_details& f, event_form) { return failure_json(f); }
// Only the limits the call set (an unset deadline is the epoch, an unset heartbeat timeout 0).
json value_json(const activity_timeouts& t, event_form form) {
  json j = json::object();
  if (t.attempt_deadline != time_point{}) j["startToCloseDeadline"] = value_json(t.attempt_deadline, form);
  if (t.call_deadline != time_point{}) j["scheduleToCloseDeadline"] = value_json(t.call_deadline, form);
  if (t.heartbeat_timeout.count() > 0) j["heartbeatTimeoutNs"] = t.heartbeat_timeout.count();
  return j;
}
json value_json(const std::optional<parent_instance>& parent, event_form) {
  return json{{"name", parent->name},
              {"instanceId", parent->instance_id},
              {"executionId", parent->execution_id},
              {"taskId", parent->task_id}};
}

// Reading one value; `where` names the event and field for the error.
[[noreturn]] void mistyped(const std::string& where, const char* expected) {
  throw invalid_argument_error(where + " must be " + expected);
}

const json& member_of(const json& object, const char* name, const std::string& where) {
  const auto it = object.find(name);
  if (it == object.end()) throw invalid_argument_error(where + " has no '" + name + "'");
  return *it;
}

void read_value(const json& j, int32_t& v, const std::string& where) {
  if (!j.is_number_integer() || j.get<int64_t>() < INT32_MIN || j.get<int64_t>() > INT32_MAX)
    mistyped(where, "a 32-bit integer");
  v = j.get<int32_t>();
}
void read_value(const json& j, bool& v, const std::string& where) {
  if (!j.is_boolean()) mistyped(where, "true or false");
  v = j.get<bool>();
}
void read_value(const json& j, std::string& v, const std::string& where) {
  if (!j.is_string()) mistyped(where, "a string");
  v = j.get<std::string>();
}
void read_value(const json& j, time_point& t, const std::string& where) {
  const auto parsed = j.is_string() ? parse_iso8601(j.get<std::string>()) : std::nullopt;
  if (!parsed) mistyped(where, "an ISO 8601 time (e.g. 2024-05-01T12:34:56.123456789Z)");
  t = *parsed;
}
void read_value(const json& j, activity_timeouts& t, const std::string& where) {
  if (!j.is_object()) mistyped(where, "an object");
  if (j.contains("startToCloseDeadline"))
    read_value(j["startToCloseDeadline"], t.attempt_deadline, where + ".startToCloseDeadline");
  if (j.contains("scheduleToCloseDeadline"))
    read_value(j["scheduleToCloseDeadline"], t.call_deadline, where + ".scheduleToCloseDeadline");
  if (j.contains("heartbeatTimeoutNs")) {
    const json& ns = j["heartbeatTimeoutNs"];
    if (!ns.is_number_integer() || ns.get<int64_t>() < 0) mistyped(where + ".heartbeatTimeoutNs", "a count of nanoseconds");
    t.heartbeat_timeout = std::chrono::nanoseconds(ns.get<int64_t>());
  }
}
void read_value(const json& j, failure_details& f, const std::string& where) {
  if (!j.is_object()) mistyped(where, "an object");
  read_value(member_of(j, "errorType", where), f.error_type, where + ".errorType");
  read_value(member_of(j, "message", where), f.message, where + ".message");
  read_value(member_of(j, "details", where), f.details, where + ".details");
  read_value(member_of(j, "nonRetriable", where), f.non_retriable, where + ".nonRetriable");
}
void read_value(const json& j, std::optional<parent_instance>& parent, const std::string& where) {
  if (!j.is_object()) mistyped(where, "an object");
  parent_instance p;
  read_value(member_of(j, "name", where), p.name, where + ".name");
  read_value(member_of(j, "instanceId", where), p.instance_id, where + ".instanceId");
  read_value(member_of(j, "executionId", where), p.execution_id, where + ".executionId");
  read_value(member_of(j, "taskId", where), p.task_id, where + ".taskId");
  parent = std::move(p);
}

// A payload: null when there is none; otherwise embedded as a JSON value (display) or its exact
// text as a string (exact).
json payload_value(const std::string& text, event_form form) {
  if (form == event_form::display) return payload_json(text);
  if (text.empty()) return nullptr;
  return text;
}
void read_payload(const json& j, std::string& text, const std::string& where) {
  if (j.is_null()) {
    text.clear();
  } else if (!j.is_string()) {
    mistyped(where, "null or a string holding the payload's JSON text");
  } else {
    text = j.get<std::string>();
  }
}

template <class Fields, class F>
void for_each_field(const Fields& fields, F&& visit) {
  std::apply([&](const auto&... f) { (visit(f), ...); }, fields);
}

template <class Event>
json event_fields(const Event& event, event_form form) {
  json j = json::object();
  for_each_field(fields_of(std::type_identity<Event>{}), [&](const auto& f) {
    const auto& value = event.*f.member;
    if (f.omitted_at_default && value == Event{}.*f.member) return;
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(value)>, std::string>) {
      if (f.payload) {
        j[f.name] = payload_value(value, form);
        return;
      }
    }
    j[f.name] = value_json(value, form);
  });
  return j;
}

template <class Event>
Event read_event_fields(const json& j, const std::string& where) {
  Event event;
  for_each_field(fields_of(std::type_identity<Event>{}), [&](const auto& f) {
    auto& value = event.*f.member;
    const auto it = j.find(f.name);
    if (it == j.end()) {
      if (f.omitted_at_default) return;
      throw invalid_argument_error(where + " has no '" + f.name + "'");
    }
    const std::string field_where = where + " field '" + f.name + "'";
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(value)>, std::string>) {
      if (f.payload) {
        read_payload(*it, value, field_where);
        return;
      }
    }
    read_value(*it, value, field_where);
  });
  return event;
}

// The event_payload alternative whose kind name is `kind`, read from `j`; `where` names the event.
template <size_t... I>
event_payload read_payload_of_kind(std::string_view kind, const json& j, const std::string& where,
                                   std::index_sequence<I...>) {
  std::optional<event_payload> result;
  const auto try_kind = [&]<size_t K>(std::integral_constant<size_t, K>) {
    using alternative = std::variant_alternative_t<K, event_payload>;
    if (result || kind != event_kind_name(event_payload{std::in_place_index<K>})) return;
    result.emplace(std::in_place_index<K>, read_event_fields<alternative>(j, where + " (" + std::string(kind) + ")"));
  };
  (try_kind(std::integral_constant<size_t, I>{}), ...);
  if (!result)
    throw invalid_argument_error(where + " has an unknown kind '" + std::string(kind) +
                                 "' (the kinds are those of docs/http-api.md, \"History export\")");
  return std::move(*result);
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

failure_details failure_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) mistyped(where, "an object");
  failure_details f;
  read_value(member_of(j, "errorType", where), f.error_type, where + ".errorType");
  read_value(member_of(j, "message", where), f.message, where + ".message");
  if (j.contains("details")) read_value(j["details"], f.details, where + ".details");
  if (j.contains("nonRetriable")) read_value(j["nonRetriable"], f.non_retriable, where + ".nonRetriable");
  return f;
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

json event_json(size_t index, const history_event& event, event_form form) {
  json j = std::visit([form](const auto& e) { return event_fields(e, form); }, event.payload);
  j["index"] = index;
  j["kind"] = event_kind_name(event.payload);
  j["timestamp"] = value_json(event.timestamp, form);
  return j;
}

history_event event_from_json(size_t index, const json& event) {
  const std::string where = "event " + std::to_string(index);
  if (!event.is_object()) mistyped(where, "an object");
  history_event result;
  read_value(member_of(event, "timestamp", where), result.timestamp, where + " field 'timestamp'");
  std::string kind;
  read_value(member_of(event, "kind", where), kind, where + " field 'kind'");
  result.payload = read_payload_of_kind(kind, event, where, std::make_index_sequence<std::variant_size_v<event_payload>>{});
  return result;
}

// A failure a rewind undid is marked "superseded" (derived, so an export read back ignores it).
json history_json(const history& events, event_form form) {
  json list = json::array();
  const auto superseded = superseded_events(events);
  for (size_t i = 0; i < events.size(); ++i) {
    list.push_back(event_json(i, events[i], form));
    if (superseded[i]) list.back()["superseded"] = true;
  }
  return list;
}

json replay_check_json(const replay_check_report& report) {
  json mismatches = json::array();
  for (const auto& m : report.mismatches)
    mismatches.push_back(json{{"instanceId", m.instance_id},
                              {"name", m.name},
                              {"version", m.version},
                              {"position", m.position},
                              {"inHistory", m.in_history},
                              {"inCode", m.in_code}});
  json not_registered = json::array();
  for (const auto& n : report.not_registered)
    not_registered.push_back(
        json{{"instanceId", n.instance_id}, {"name", n.name}, {"version", n.version}, {"reason", n.reason}});
  return json{{"checked", report.checked},
              {"passed", report.passed()},
              {"mismatches", std::move(mismatches)},
              {"notRegistered", std::move(not_registered)}};
}

namespace {

constexpr const char* export_format = "perdure-history";
constexpr int export_format_version = 1;

}  // namespace

json history_export_json(std::string_view instance_id, const history& events) {
  return json{{"format", export_format},
              {"formatVersion", export_format_version},
              {"instanceId", instance_id},
              {"events", history_json(events, event_form::exact)}};
}

std::string write_history_json(std::string_view instance_id, const history& events) {
  // Indented: an export is read by people too, and checked in as a test fixture.
  return history_export_json(instance_id, events).dump(2);
}

history read_history_json(std::string_view text) {
  const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) throw invalid_argument_error("the history export is not valid JSON");
  if (!document.is_object() || document.value("format", json()) != export_format)
    throw invalid_argument_error(std::string("not a history export: it has no \"format\": \"") + export_format +
                                 "\" (write one with `perdure history ID --export FILE`)");
  if (document.value("formatVersion", json()) != export_format_version)
    throw invalid_argument_error("the history export has formatVersion " + document.value("formatVersion", json()).dump() +
                                 "; this Perdure reads formatVersion " + std::to_string(export_format_version));
  const json& events = member_of(document, "events", "the history export");
  if (!events.is_array()) mistyped("the history export's 'events'", "an array");
  history result;
  result.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) result.push_back(event_from_json(i, events[i]));
  return result;
}

history read_history_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw invalid_argument_error("cannot read the history export " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return read_history_json(text.str());
  } catch (const invalid_argument_error& e) {
    throw invalid_argument_error(file.string() + ": " + e.what());
  }
}

}  // namespace perdure
