// What the runtime's log lines are about: the instance and the trace a thread works for, while it
// runs an episode or an activity attempt. The node's log format (runtime/log_format.hpp) adds them
// to every line written meanwhile. Thread-local; scopes nest.
#pragma once

#include <string>
#include <string_view>

namespace perdure::detail {

struct log_context {
  std::string instance_id;
  std::string trace_id;  // empty: the instance has no trace context
};

/// The innermost scope's context on this thread; nullptr outside any.
const log_context* current_log_context() noexcept;

class log_scope {
 public:
  log_scope(std::string_view instance_id, std::string_view trace_id);
  ~log_scope();
  log_scope(const log_scope&) = delete;
  log_scope& operator=(const log_scope&) = delete;
  /// The trace becomes known within the scope (an instance's first episode decides it).
  void set_trace_id(std::string_view trace_id) { context_.trace_id = trace_id; }

 private:
  log_context context_;
  const log_context* outer_;
};

}  // namespace perdure::detail
