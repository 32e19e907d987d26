// The OTLP/HTTP JSON encoding of spans (runtime/otlp_json.hpp), field by field as the collector
// reads it.
#include "runtime/otlp_json.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace perdure;
using nlohmann::json;

TEST_CASE("otlp json: spans are encoded as an ExportTraceServiceRequest with the node as resource") {
  detail::span_record failed;
  failed.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  failed.span_id = "00f067aa0ba902b7";
  failed.parent_span_id = "1111111111111111";
  failed.trace_state = "vendor=x";
  failed.name = "activity Charge";
  failed.start = time_point{std::chrono::nanoseconds{1'700'000'000'123'456'789}};
  failed.end = failed.start + std::chrono::milliseconds(5);
  failed.attributes = {{"perdure.instance_id", std::string{"order-1"}}, {"perdure.task_id", int64_t{3}}};
  failed.error = true;
  failed.status_message = "PaymentDeclined: no funds";
  detail::span_record root;
  root.trace_id = failed.trace_id;
  root.span_id = "2222222222222222";
  root.name = "orchestration Order";
  root.links = {{"0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"}};

  const auto request = json::parse(otlp_trace_request({failed, root}, "perdure", "node-a"));
  const auto& resource = request.at("resourceSpans").at(0);
  const auto& attributes = resource.at("resource").at("attributes");
  CHECK(attributes.at(0) == json{{"key", "service.name"}, {"value", {{"stringValue", "perdure"}}}});
  CHECK(attributes.at(1) == json{{"key", "service.instance.id"}, {"value", {{"stringValue", "node-a"}}}});
  const auto& scope = resource.at("scopeSpans").at(0);
  CHECK(scope.at("scope").at("name") == "perdure");
  const auto& spans = scope.at("spans");
  REQUIRE(spans.size() == 2);
  const auto& span = spans.at(0);
  CHECK(span.at("traceId") == failed.trace_id);
  CHECK(span.at("spanId") == failed.span_id);
  CHECK(span.at("parentSpanId") == "1111111111111111");
  CHECK(span.at("traceState") == "vendor=x");
  CHECK(span.at("name") == "activity Charge");
  CHECK(span.at("kind") == 1);  // SPAN_KIND_INTERNAL
  CHECK(span.at("startTimeUnixNano") == "1700000000123456789");  // int64 as a JSON string
  CHECK(span.at("endTimeUnixNano") == "1700000000128456789");
  CHECK(span.at("attributes").at(0) ==
        json{{"key", "perdure.instance_id"}, {"value", {{"stringValue", "order-1"}}}});
  CHECK(span.at("attributes").at(1) == json{{"key", "perdure.task_id"}, {"value", {{"intValue", "3"}}}});
  CHECK(span.at("status") == json{{"code", 2}, {"message", "PaymentDeclined: no funds"}});  // STATUS_CODE_ERROR

  const auto& plain = spans.at(1);
  CHECK(!plain.contains("parentSpanId"));  // a root span
  CHECK(!plain.contains("traceState"));
  CHECK(!plain.contains("status"));        // UNSET
  CHECK(plain.at("links") == json::array({json{{"traceId", "0af7651916cd43dd8448eb211c80319c"}, {"spanId", "b7ad6b7169203331"}}}));
  CHECK(!span.contains("links"));  // none: no empty list
}

TEST_CASE("otlp json: a node without an id has no service.instance.id, and invalid UTF-8 does not throw") {
  detail::span_record span;
  span.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  span.span_id = "00f067aa0ba902b7";
  span.name = "activity \xff";
  const auto request = json::parse(otlp_trace_request({span}, "perdure", ""));
  CHECK(request.at("resourceSpans").at(0).at("resource").at("attributes").size() == 1);
  CHECK(request.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0).at("name") == "activity \xef\xbf\xbd");
}
