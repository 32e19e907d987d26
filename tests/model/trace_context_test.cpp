// W3C traceparent parsing (include/perdure/trace_context.hpp).
#include <perdure/trace_context.hpp>

#include <doctest/doctest.h>

using namespace perdure;

TEST_CASE("trace context: a valid traceparent is read field by field and written back the same") {
  const auto context = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "vendor=x");
  REQUIRE(context);
  CHECK(context->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(context->span_id == "00f067aa0ba902b7");
  CHECK(context->flags == 1);
  CHECK(context->trace_state == "vendor=x");
  CHECK(context->traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CHECK(context->with_span("1111111111111111").traceparent() == "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01");
  const auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  REQUIRE(unsampled);
  CHECK(unsampled->flags == 0);
  CHECK(unsampled->traceparent().ends_with("-00"));
}

TEST_CASE("trace context: a later version is read by its first four fields, as the recommendation asks") {
  CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  CHECK(parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next"));
  CHECK(!parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST_CASE("trace context: a malformed traceparent is refused with a reason") {
  const char* malformed[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",        // no flags
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",    // version 00 has nothing after
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // version ff is invalid
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // uppercase
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // zero parent id
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",     // separators
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",     // not hex
      "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01a",     // a short version
  };
  for (const char* text : malformed) {
    CAPTURE(text);
    CHECK(traceparent_problem(text));
    CHECK(!parse_traceparent(text));
  }
  CHECK(!traceparent_problem("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST_CASE("trace context: new ids are valid, and differ") {
  const auto trace = detail::new_trace_id();
  const auto span = detail::new_span_id();
  CHECK(trace.size() == 32);
  CHECK(span.size() == 16);
  CHECK(parse_traceparent("00-" + trace + "-" + span + "-01"));
  CHECK(detail::new_trace_id() != trace);
  CHECK(detail::new_span_id() != span);
}
