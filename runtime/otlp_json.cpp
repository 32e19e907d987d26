#include "otlp_json.hpp"

#include <perdure/detail/overloaded.hpp>

#include <nlohmann/json.hpp>

namespace perdure {

namespace {

using nlohmann::json;

constexpr int span_kind_internal = 1;
constexpr int status_code_error = 2;

std::string unix_nanos(time_point at) { return std::to_string(at.time_since_epoch().count()); }

json any_value(const detail::span_attribute_value& value) {
  return std::visit(detail::overloaded{
                        [](const std::string& text) { return json{{"stringValue", text}}; },
                        // int64 is a JSON string in the protobuf mapping.
                        [](int64_t number) { return json{{"intValue", std::to_string(number)}}; },
                    },
                    value);
}

json key_value(const std::string& key, const detail::span_attribute_value& value) {
  return json{{"key", key}, {"value", any_value(value)}};
}

json span_json(const detail::span_record& span) {
  json attributes = json::array();
  for (const auto& [key, value] : span.attributes) attributes.push_back(key_value(key, value));
  json out{{"traceId", span.trace_id},
           {"spanId", span.span_id},
           {"name", span.name},
           {"kind", span_kind_internal},
           {"startTimeUnixNano", unix_nanos(span.start)},
           {"endTimeUnixNano", unix_nanos(span.end)},
           {"attributes", std::move(attributes)}};
  if (!span.parent_span_id.empty()) out["parentSpanId"] = span.parent_span_id;
  if (!span.trace_state.empty()) out["traceState"] = span.trace_state;
  if (!span.links.empty()) {
    json links = json::array();
    for (const auto& link : span.links) links.push_back(json{{"traceId", link.trace_id}, {"spanId", link.span_id}});
    out["links"] = std::move(links);
  }
  if (span.error) out["status"] = json{{"code", status_code_error}, {"message", span.status_message}};
  return out;
}

}  // namespace

std::string otlp_trace_request(const detail::span_records& spans, const std::string& service_name,
                               const std::string& node_id) {
  json resource_attributes = json::array({key_value("service.name", service_name)});
  if (!node_id.empty()) resource_attributes.push_back(key_value("service.instance.id", node_id));
  json encoded = json::array();
  for (const auto& span : spans) encoded.push_back(span_json(span));
  const json request{
      {"resourceSpans",
       json::array({json{{"resource", json{{"attributes", std::move(resource_attributes)}}},
                         {"scopeSpans", json::array({json{{"scope", json{{"name", "perdure"}}},
                                                          {"spans", std::move(encoded)}}})}}})}};
  // Names and messages come from users' code: invalid UTF-8 is replaced rather than thrown on.
  return request.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace perdure
