// What an instance's live work looks like as trace spans (docs/tracing.md): the instance's own span
// (from its start to its end), one per episode, one per durable timer, one per entity operation run.
// Activity attempts are spans of the worker that runs them (activities.hpp, attempt_span). Only live
// work makes a span: an episode that replays a history produces the spans of what it does beyond it,
// never of what the history holds.
//
// What an instance sends (an event, an entity call or signal) carries the traceparent of the
// sending episode's span; what an entity operation sends carries its own. The receiving episode
// links to a sender's span (it has a parent already, its instance's, and may receive from many
// senders at once); an entity operation is a child of its sender's (it has no trace of its own).
#pragma once

#include <perdure/detail/span_record.hpp>
#include <perdure/entity_record.hpp>
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
/// An episode of `record`'s instance that begins at `start`, as the span `span_id`, linked to the
/// spans that sent it `links`; its end is the commit's time, which the state machine sets (end left
/// at time_point{}).
std::optional<detail::span_record> episode_span(const instance_record& record, time_point start,
                                                const std::string& span_id, std::vector<detail::span_link> links);
/// The traceparent naming the span `span_id` (of an episode of `record`'s instance) in the
/// instance's trace, for what the episode sends; empty without a trace.
std::string sender_traceparent(const instance_record& record, const std::string& span_id);
/// The link to the span a received message's traceparent names; nullopt when it names none.
std::optional<detail::span_link> link_to(const std::string& traceparent);

/// The operation `op` run on entity `entity` at `start`: a child of the span op.trace_parent names,
/// else the root of a new trace. Its end is the commit's time (left at time_point{}).
detail::span_record entity_operation_span(const entity_id& entity, const events::entity_operation& op, time_point start);
/// The traceparent naming `span`, for what its work sends.
std::string traceparent_of(const detail::span_record& span);
/// Gives `span` the status ERROR with what failed.
void fail_with(detail::span_record& span, const failure_details& failure);
/// A durable timer that fired, from the episode that created it to the commit that records it
/// fired (end left at time_point{}, as an episode's). A timer from before created_at was kept
/// starts at its fire time.
std::optional<detail::span_record> timer_span(const instance_record& record, const events::timer_fired& timer);
/// The instance, from its creation to its end (`now`).
std::optional<detail::span_record> instance_span(const instance_record& record, time_point now);
/// An activity attempt, run from `start` to `end`, as the span `span_id` (the one its
/// activity_context's traceparent names); `failure` when it failed. nullopt without a trace.
std::optional<detail::span_record> attempt_span(const storage::activity_task& task, const std::string& span_id,
                                                time_point start, time_point end, const failure_details* failure);

}  // namespace perdure::partition
