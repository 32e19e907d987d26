#include "start_trace.hpp"

#include <perdure/trace_context.hpp>

#include <spdlog/spdlog.h>

namespace perdure {

start_trace checked_start_trace(const start_options& options, const std::string& instance_id) {
  if (options.traceparent.empty()) return {};
  if (auto problem = traceparent_problem(options.traceparent)) {
    spdlog::warn("instance '{}': ignored the traceparent '{}' it was started with ({}); it begins a trace of its own",
                 instance_id, options.traceparent.substr(0, 64), *problem);
    return {};
  }
  return {options.traceparent, options.tracestate};
}

std::string checked_traceparent(std::string traceparent, std::string_view receiver) {
  if (traceparent.empty()) return traceparent;
  if (auto problem = traceparent_problem(traceparent)) {
    spdlog::warn("'{}': ignored the traceparent '{}' a message to it came with ({})", receiver,
                 traceparent.substr(0, 64), *problem);
    return {};
  }
  return traceparent;
}

}  // namespace perdure
