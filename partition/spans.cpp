#include "spans.hpp"

#include <perdure/trace_context.hpp>

namespace perdure::partition {

namespace {

std::optional<detail::span_record> child_of(const instance_record& record, std::string name, time_point start,
                                            time_point end) {
  const auto parent = parse_traceparent(record.trace_parent, record.trace_state);
  if (!parent) return std::nullopt;  // a record from before tracing
  detail::span_record span;
  span.trace_id = parent->trace_id;
  span.span_id = detail::new_span_id();
  span.parent_span_id = parent->span_id;
  span.trace_state = parent->trace_state;
  span.name = std::move(name);
  span.start = start;
  span.end = end;
  span.attributes = {{"perdure.instance_id", record.instance_id},
                     {"perdure.execution_id", record.execution_id},
                     {"perdure.orchestration", record.name}};
  return span;
}

}  // namespace

void fail_with(detail::span_record& span, const failure_details& failure) {
  span.error = true;
  span.status_message = failure.error_type + ": " + failure.message;
}

std::string trace_id_of(const std::string& traceparent) {
  const auto context = parse_traceparent(traceparent);
  return context ? context->trace_id : std::string{};
}

void adopt_trace(instance_record& record, const events::execution_started& started,
                 const std::optional<instance_record>& continued_from) {
  if (continued_from && !continued_from->trace_parent.empty()) {
    record.trace_parent = continued_from->trace_parent;
    record.trace_state = continued_from->trace_state;
    record.trace_caller_span_id = continued_from->trace_caller_span_id;
    return;
  }
  auto context = parse_traceparent(started.trace_parent, started.trace_state);
  record.trace_caller_span_id = context ? context->span_id : std::string{};
  if (!context) context = trace_context{detail::new_trace_id(), {}, 1, {}};
  context->span_id = detail::new_span_id();
  record.trace_parent = context->traceparent();
  record.trace_state = context->trace_state;
}

std::optional<detail::span_record> episode_span(const instance_record& record, time_point start,
                                                const std::string& span_id, std::vector<detail::span_link> links) {
  auto span = child_of(record, "episode " + record.name, start, time_point{});
  if (!span) return span;
  span->span_id = span_id;
  span->links = std::move(links);
  if (record.failure) fail_with(*span, *record.failure);  // failed, or stalled
  return span;
}

std::string sender_traceparent(const instance_record& record, const std::string& span_id) {
  const auto instance = parse_traceparent(record.trace_parent);
  return instance ? instance->with_span(span_id).traceparent() : std::string{};
}

std::optional<detail::span_link> link_to(const std::string& traceparent) {
  const auto sender = parse_traceparent(traceparent);
  if (!sender) return std::nullopt;
  return detail::span_link{sender->trace_id, sender->span_id};
}

detail::span_record entity_operation_span(const entity_id& entity, const events::entity_operation& op,
                                          time_point start) {
  detail::span_record span;
  if (const auto sender = parse_traceparent(op.trace_parent)) {
    span.trace_id = sender->trace_id;
    span.parent_span_id = sender->span_id;
  } else {
    span.trace_id = detail::new_trace_id();
  }
  span.span_id = detail::new_span_id();
  span.name = "entity " + entity.name + " " + op.operation;
  span.start = start;
  span.attributes = {{"perdure.entity_id", entity.instance_id()},
                     {"perdure.entity", entity.name},
                     {"perdure.operation", op.operation}};
  if (!op.caller_instance_id.empty()) span.attributes.emplace_back("perdure.caller_instance_id", op.caller_instance_id);
  return span;
}

std::string traceparent_of(const detail::span_record& span) {
  return trace_context{span.trace_id, span.span_id, 1, span.trace_state}.traceparent();
}

std::optional<detail::span_record> timer_span(const instance_record& record, const events::timer_fired& timer) {
  const auto start = timer.created_at == time_point{} ? timer.fire_at : timer.created_at;
  auto span = child_of(record, "timer", start, time_point{});
  if (span) span->attributes.emplace_back("perdure.timer_id", int64_t{timer.timer_id});
  return span;
}

std::optional<detail::span_record> instance_span(const instance_record& record, time_point now) {
  const auto self = parse_traceparent(record.trace_parent, record.trace_state);
  if (!self) return std::nullopt;
  detail::span_record span;
  span.trace_id = self->trace_id;
  span.span_id = self->span_id;
  span.parent_span_id = record.trace_caller_span_id;
  span.trace_state = self->trace_state;
  span.name = "orchestration " + record.name;
  span.start = record.created_at;
  span.end = now;
  span.attributes = {{"perdure.instance_id", record.instance_id},
                     {"perdure.execution_id", record.execution_id},
                     {"perdure.orchestration", record.name},
                     {"perdure.status", std::string{to_string(record.status)}}};
  if (record.status == runtime_status::failed && record.failure) fail_with(span, *record.failure);
  if (record.parent) span.attributes.emplace_back("perdure.parent_instance_id", record.parent->instance_id);
  return span;
}

std::optional<detail::span_record> attempt_span(const storage::activity_task& task, const std::string& span_id,
                                                time_point start, time_point end, const failure_details* failure) {
  const auto parent = parse_traceparent(task.trace_parent);
  if (!parent) return std::nullopt;
  detail::span_record span;
  span.trace_id = parent->trace_id;
  span.span_id = span_id;
  span.parent_span_id = parent->span_id;
  span.name = "activity " + task.name;
  span.start = start;
  span.end = end;
  span.attributes = {{"perdure.instance_id", task.instance_id},
                     {"perdure.execution_id", task.execution_id},
                     {"perdure.activity", task.name},
                     {"perdure.task_id", int64_t{task.task_id}},
                     {"perdure.attempt", int64_t{task.attempt}}};
  if (failure) fail_with(span, *failure);
  return span;
}

}  // namespace perdure::partition
