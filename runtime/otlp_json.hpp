// The OTLP/HTTP JSON encoding of an ExportTraceServiceRequest
// (opentelemetry-proto, opentelemetry/proto/collector/trace/v1/trace_service.proto; the JSON
// mapping of https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): trace and span ids
// as hex strings, times as decimal strings of Unix nanoseconds, enums as integers.
#pragma once

#include <perdure/detail/span_record.hpp>

#include <string>

namespace perdure {

/// One resource (service.name = `service_name`, service.instance.id = `node_id` when not empty) with
/// one scope ("perdure") holding `spans`.
std::string otlp_trace_request(const detail::span_records& spans, const std::string& service_name,
                               const std::string& node_id);

}  // namespace perdure
