// W3C trace context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate` a
// caller gives at start, the context an instance keeps, and the one an activity attempt gets to
// continue the trace in its own calls. See docs/tracing.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace perdure {

struct trace_context {
  std::string trace_id;  // 32 lowercase hex digits, not all zero
  std::string span_id;   // 16 lowercase hex digits, not all zero: the span this context names
  uint8_t flags = 1;     // W3C trace-flags; bit 0 = sampled
  std::string trace_state;  // the `tracestate` header as given, passed on untouched

  /// "00-<trace id>-<span id>-<flags>".
  std::string traceparent() const;
  /// The same trace and flags, naming another span.
  trace_context with_span(std::string span) const { return {trace_id, std::move(span), flags, trace_state}; }
  friend bool operator==(const trace_context&, const trace_context&) = default;
};

/// Why `traceparent` is not a valid W3C traceparent of version 00 (or of a later version, read as
/// its first four fields, as the recommendation asks); nullopt when it is valid.
std::optional<std::string> traceparent_problem(std::string_view traceparent);

/// The context a valid `traceparent` names, with `tracestate` kept as given; nullopt when it is not
/// valid (traceparent_problem says why).
std::optional<trace_context> parse_traceparent(std::string_view traceparent, std::string_view tracestate = {});

namespace detail {
/// A new trace id (32 hex digits) and span id (16), from Perdure's one id generator (random_id.hpp).
std::string new_trace_id();
std::string new_span_id();
}  // namespace detail

}  // namespace perdure
