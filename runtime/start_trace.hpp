// The trace context a start, an event or an entity signal carries to its partition: the caller's,
// when it is valid.
#pragma once

#include <perdure/client.hpp>

#include <string>
#include <string_view>

namespace perdure {

struct start_trace {
  std::string traceparent;  // empty: none (or a malformed one, ignored)
  std::string tracestate;
};

/// The start's traceparent and tracestate when the traceparent is valid; a malformed one is
/// ignored, with a warning naming the instance and what is wrong, and the instance begins a trace
/// of its own (W3C trace context: a receiver ignores a traceparent it cannot parse).
start_trace checked_start_trace(const start_options& options, const std::string& instance_id);

/// `traceparent` when it is empty or valid; a malformed one is ignored (empty), with a warning
/// naming the instance or entity `receiver` it was sent to and what is wrong.
std::string checked_traceparent(std::string traceparent, std::string_view receiver);

}  // namespace perdure
