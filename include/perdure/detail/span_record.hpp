// A finished span, as the runtime reports it to its exporter (runtime/otlp_exporter.hpp): the
// partition state machine produces the spans of episodes, timers and instances, the activity
// workers those of attempts. See docs/tracing.md.
#pragma once

#include <perdure/history.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace perdure::detail {

using span_attribute_value = std::variant<std::string, int64_t>;

/// A span this one is linked to without being its child: the span that sent an event the
/// episode received (docs/tracing.md).
struct span_link {
  std::string trace_id;
  std::string span_id;
  friend bool operator==(const span_link&, const span_link&) = default;
};

struct span_record {
  std::string trace_id;        // 32 hex digits
  std::string span_id;         // 16 hex digits
  std::string parent_span_id;  // empty: a root span
  std::string trace_state;
  std::string name;
  time_point start{};
  time_point end{};
  std::vector<std::pair<std::string, span_attribute_value>> attributes;
  std::vector<span_link> links;
  bool error = false;          // OTLP status code ERROR, else UNSET
  std::string status_message;  // with error: what failed
};

using span_records = std::vector<span_record>;

}  // namespace perdure::detail
