// The record of one orchestration instance: what status queries and list filters read.
#pragma once

#include <perdure/history.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace perdure {

enum class runtime_status : uint8_t {
  pending = 0,  // accepted, first episode not yet run
  running = 1,
  completed = 2,
  failed = 3,
  terminated = 4,
  suspended = 5,
  continued_as_new = 6,  // transient: the instance restarted with a new execution
};

inline constexpr std::array<runtime_status, 7> all_runtime_statuses{
    runtime_status::pending,    runtime_status::running,   runtime_status::completed,
    runtime_status::failed,     runtime_status::terminated, runtime_status::suspended,
    runtime_status::continued_as_new};

/// "Pending", "Running", ... (the names Durable Functions uses).
inline const char* to_string(runtime_status s) noexcept {
  switch (s) {
    case runtime_status::pending: return "Pending";
    case runtime_status::running: return "Running";
    case runtime_status::completed: return "Completed";
    case runtime_status::failed: return "Failed";
    case runtime_status::terminated: return "Terminated";
    case runtime_status::suspended: return "Suspended";
    case runtime_status::continued_as_new: return "ContinuedAsNew";
  }
  return "Unknown";
}

/// Parses a status name, case-insensitively; nullopt if it names none.
inline std::optional<runtime_status> parse_runtime_status(std::string_view name) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (runtime_status s : all_runtime_statuses) {
    std::string_view candidate = to_string(s);
    if (candidate.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) same = lower(candidate[i]) == lower(name[i]);
    if (same) return s;
  }
  return std::nullopt;
}

/// A terminal instance no longer runs and may be purged.
inline constexpr bool is_terminal(runtime_status s) noexcept {
  return s == runtime_status::completed || s == runtime_status::failed ||
         s == runtime_status::terminated;
}

/// The failure type a running instance carries while it waits for its orchestration version: the
/// node serving it does not register that version (errors.hpp, orchestration_version_unavailable).
/// It is not failed: it continues when a node with the version serves its partition.
inline constexpr std::string_view version_unavailable_error_type = "VersionUnavailable";

/// Whether an instance in `status` whose record carries a failure of `failure_type` waits for its
/// orchestration version (the one rule that list filters, the index and /metrics share).
inline constexpr bool is_waiting_for_version(runtime_status status, std::string_view failure_type) noexcept {
  return !is_terminal(status) && failure_type == version_unavailable_error_type;
}

struct instance_record {
  std::string instance_id;
  std::string execution_id;
  std::string name;
  int32_t version = 0;  // of the orchestration the current execution runs (its ExecutionStarted's)
  runtime_status status = runtime_status::pending;
  time_point created_at{};
  time_point last_updated_at{};
  std::string input;
  std::string output;
  std::string custom_status;
  std::optional<failure_details> failure;  // set when failed, or when a running instance is stalled
  std::optional<parent_instance> parent;
  // The instance's place in a trace (docs/tracing.md): the W3C traceparent of its own span (every
  // episode, activity attempt and timer span is its child; a sub-orchestration's instance span
  // too), the tracestate it was started with, and the span of the caller that started it (empty:
  // the instance's span is the trace's root). Empty for an instance started before tracing existed.
  std::string trace_parent;
  std::string trace_state;
  std::string trace_caller_span_id;
  bool waiting_for_version() const noexcept {
    return failure && is_waiting_for_version(status, failure->error_type);
  }
  friend bool operator==(const instance_record&, const instance_record&) = default;
};

}  // namespace perdure
