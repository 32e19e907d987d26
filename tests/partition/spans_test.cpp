// The spans of an instance's and an entity's live work (partition/spans.hpp): who is whose parent,
// what a sent message names, where a timer's span starts.
#include <partition/spans.hpp>

#include <perdure/trace_context.hpp>

#include <doctest/doctest.h>

using namespace perdure;
using namespace perdure::partition;
using namespace std::chrono_literals;

namespace {

constexpr const char* trace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* instance_span_id = "00f067aa0ba902b7";

instance_record traced_record() {
  instance_record record;
  record.instance_id = "order-1";
  record.execution_id = "e1";
  record.name = "Order";
  record.trace_parent = std::string{"00-"} + trace + "-" + instance_span_id + "-01";
  return record;
}

std::string attribute(const detail::span_record& span, const std::string& key) {
  for (const auto& [name, value] : span.attributes)
    if (name == key) return std::get<std::string>(value);
  return {};
}

}  // namespace

TEST_CASE("spans: what an episode sends names the episode's span in the instance's trace, and links to it") {
  const auto record = traced_record();
  const std::string episode = "aaaaaaaaaaaaaaaa";
  const auto sent = sender_traceparent(record, episode);
  CHECK(sent == std::string{"00-"} + trace + "-" + episode + "-01");

  const auto link = link_to(sent);
  REQUIRE(link);
  CHECK(*link == detail::span_link{trace, episode});
  CHECK(!link_to(""));
  CHECK(!link_to("00-not-a-trace-01"));

  const auto span = episode_span(record, time_point{1s}, episode, {*link});
  REQUIRE(span);
  CHECK(span->span_id == episode);
  CHECK(span->parent_span_id == instance_span_id);
  CHECK(span->links == std::vector<detail::span_link>{*link});

  instance_record untraced = record;  // from before tracing
  untraced.trace_parent.clear();
  CHECK(sender_traceparent(untraced, episode).empty());
  CHECK(!episode_span(untraced, time_point{1s}, episode, {}));
}

TEST_CASE("spans: an entity operation is a child of the span that sent it, or the root of a new trace") {
  const entity_id counter{"Counter", "c1"};
  events::entity_operation op;
  op.operation = "add";
  op.caller_instance_id = "order-1";
  op.trace_parent = std::string{"00-"} + trace + "-" + instance_span_id + "-01";
  const auto child = entity_operation_span(counter, op, time_point{2s});
  CHECK(child.name == "entity Counter add");
  CHECK(child.trace_id == trace);
  CHECK(child.parent_span_id == instance_span_id);
  CHECK(child.span_id.size() == 16);
  CHECK(child.start == time_point{2s});
  CHECK(child.end == time_point{});  // the commit's, set by the state machine
  CHECK(attribute(child, "perdure.entity_id") == "@Counter@c1");
  CHECK(attribute(child, "perdure.entity") == "Counter");
  CHECK(attribute(child, "perdure.operation") == "add");
  CHECK(attribute(child, "perdure.caller_instance_id") == "order-1");
  // What the operation sends names its span.
  CHECK(traceparent_of(child) == std::string{"00-"} + trace + "-" + child.span_id + "-01");

  op.trace_parent = "00-malformed-01";
  op.caller_instance_id.clear();  // a client's signal
  const auto root = entity_operation_span(counter, op, time_point{2s});
  CHECK(root.parent_span_id.empty());
  CHECK(root.trace_id.size() == 32);
  CHECK(root.trace_id != trace);
  CHECK(attribute(root, "perdure.caller_instance_id").empty());
}

TEST_CASE("spans: a timer's span starts when it was created and ends with the commit that records it fired") {
  const auto record = traced_record();
  const auto span = timer_span(record, events::timer_fired{3, time_point{10s}, time_point{4s}});
  REQUIRE(span);
  CHECK(span->name == "timer");
  CHECK(span->parent_span_id == instance_span_id);
  CHECK(span->start == time_point{4s});
  CHECK(span->end == time_point{});
  // A timer stored before its creation time was kept starts at its fire time.
  CHECK(timer_span(record, events::timer_fired{3, time_point{10s}})->start == time_point{10s});
}
