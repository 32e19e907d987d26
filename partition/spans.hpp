// What an instance's live work looks like as trace spans (docs/tracing.md): the instance's own span
// (from its start to its end), one per episode, one per durable timer. Activity attempts are spans
// of the worker that runs them (activities.hpp, attempt_span). Only live work makes a span: an
// episode that replays a history produces the spans of what it does beyond it, never of what the
// history holds.
#pragma once

#include <perdure/detail/span_record.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/storage/store.hpp>

#include <optional>

namespace perdure::partition {

/// The trace id a traceparent names; empty when it is not valid (or empty).
std::string trace_id_of(const std::string& traceparent);

/// Gives a new execution's record its trace context: the previous execution's after a
/// continue-as-new (one instance, one span), else a new instance span in the trace the start
/// names (a valid execution_started::trace_parent; a malformed one is ignored) or in a new trace.
void adopt_trace(instance_record& record, const events::execution_started& started,
                 const std::optional<instance_record>& continued_from);

// Each is nullopt for an instance whose record has no trace context (started before tracing).
/// An episode of `record`'s instance that begins at `start`; its end is the commit's time, which
/// the state machine sets (end left at time_point{}).
std::optional<detail::span_record> episode_span(const instance_record& record, time_point start);
/// A durable timer, from the episode that created it (`now`) to its fire time.
std::optional<detail::span_record> timer_span(const instance_record& record, const events::timer_created& timer,
                                              time_point now);
/// The instance, from its creation to its end (`now`).
std::optional<detail::span_record> instance_span(const instance_record& record, time_point now);
/// An activity attempt, run from `start` to `end`, as the span `span_id` (the one its
/// activity_context's traceparent names); `failure` when it failed. nullopt without a trace.
std::optional<detail::span_record> attempt_span(const storage::activity_task& task, const std::string& span_id,
                                                time_point start, time_point end, const failure_details* failure);

}  // namespace perdure::partition
