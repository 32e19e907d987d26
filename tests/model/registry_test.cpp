// The registry's typed adapters, activity invocation and failure details.
#include <perdure/failure.hpp>
#include <perdure/registry.hpp>

#include <doctest/doctest.h>

using namespace perdure;

namespace {
struct point {
  int x = 0;
  int y = 0;
};
PERDURE_DEFINE_TYPE(point, x, y)

int norm1(activity_context&, const point& p) { return std::abs(p.x) + std::abs(p.y); }
}  // namespace

TEST_CASE("activities: typed adapters, void in and out, context") {
  registry r;
  r.add_activity("Norm", norm1);
  r.add_activity("Who", [](activity_context& ctx) { return ctx.instance_id() + "/" + std::to_string(ctx.task_id()) + "/" + ctx.name(); });
  int calls = 0;
  r.add_activity("Touch", [&calls](activity_context&, int n) { calls += n; });
  CHECK(r.has_activity("Norm"));
  CHECK(!r.has_activity("Nope"));
  activity_context ctx("inst", 4, "Who");
  CHECK(r.invoke_activity("Norm", ctx, R"({"x":-2,"y":3})") == "5");
  CHECK(r.invoke_activity("Who", ctx, "") == R"("inst/4/Who")");
  CHECK(r.invoke_activity("Touch", ctx, "3") == "");
  CHECK(calls == 3);
  CHECK_THROWS_AS(r.add_activity("Norm", norm1), invalid_argument_error);
}

TEST_CASE("activity_context: one idempotency key per call, for all its attempts, unique across executions") {
  activity_context first("order-1", 3, "Charge", "e1");
  CHECK(first.execution_id() == "e1");
  CHECK(first.attempt() == 1);
  CHECK(first.idempotency_key() == "order-1/e1/3");
  activity_context retry("order-1", 7, "Charge", "e1", 2, 3);
  CHECK(retry.task_id() == 7);
  CHECK(retry.attempt() == 2);
  CHECK(retry.idempotency_key() == first.idempotency_key());
  // After continue-as-new the task ids start at 0 again; the execution id tells the calls apart.
  CHECK(activity_context("order-1", 3, "Charge", "e2").idempotency_key() != first.idempotency_key());
}

TEST_CASE("activities: unknown names, undecodable input, thrown exceptions") {
  registry r;
  r.add_activity("Norm", norm1);
  r.add_activity("Boom", [](activity_context&, int) -> int { throw std::out_of_range("too far"); });
  activity_context ctx("inst", 1, "Norm");
  CHECK_THROWS_AS(r.invoke_activity("Nope", ctx, ""), unknown_function_error);
  try {
    r.invoke_activity("Norm", ctx, R"({"x":"a"})");
    FAIL("no throw");
  } catch (const payload_error& e) {
    std::string what = e.what();
    CHECK(what.find("activity 'Norm'") != std::string::npos);
    CHECK(what.find("point") != std::string::npos);
    auto details = to_failure_details(std::current_exception());
    CHECK(details.error_type == "perdure::payload_error");
    CHECK(details.non_retriable);
  }
  try {
    r.invoke_activity("Boom", ctx, "1");
    FAIL("no throw");
  } catch (...) {
    auto details = to_failure_details(std::current_exception());
    CHECK(details.error_type == "std::out_of_range");
    CHECK(details.message == "too far");
    CHECK(!details.non_retriable);
  }
}

TEST_CASE("orchestrations: registration and lookup") {
  registry r;
  r.add_orchestration("A", [](orchestration_context&) -> task<void> { co_return; });
  r.add_orchestration("B", [](orchestration_context&, const point& p) -> task<point> { co_return p; });
  CHECK(r.has_orchestration("A"));
  CHECK(r.has_orchestration("B"));
  CHECK(!r.has_orchestration("C"));
  CHECK_THROWS_AS(r.orchestration("C", 0), unknown_orchestration_error);
  CHECK_THROWS_AS(r.add_orchestration("A", [](orchestration_context&) -> task<void> { co_return; }),
                  invalid_argument_error);
}

TEST_CASE("orchestrations: versions side by side, the latest starts new executions") {
  registry r;
  auto noop = [](orchestration_context&) -> task<void> { co_return; };
  r.add_orchestration("Order", noop, {.version = 2});
  r.add_orchestration("Order", noop, {.version = 1});
  CHECK(r.has_orchestration("Order"));
  CHECK(r.has_orchestration("Order", 1));
  CHECK(r.has_orchestration("Order", 2));
  CHECK_FALSE(r.has_orchestration("Order", 0));
  CHECK(r.version_to_start("Order", events::execution_started::any_version) == 2);
  CHECK(r.version_to_start("Order", 1) == 1);
  try {
    r.version_to_start("Order", 3);
    FAIL("no throw");
  } catch (const orchestration_version_unavailable& e) {
    CHECK(e.name() == "Order");
    CHECK(e.version() == 3);
    CHECK(std::string(e.what()) ==
          "orchestration 'Order' version 3 is not registered on this node (registered: 1, 2); deploy a node that "
          "registers it");
    CHECK(e.code() == errc::unknown_function);
  }
  CHECK_THROWS_AS(r.orchestration("Order", 0), orchestration_version_unavailable);
  CHECK_THROWS_AS(r.add_orchestration("Order", noop, {.version = 2}), invalid_argument_error);
  CHECK_THROWS_AS(r.add_orchestration("Order", noop, {.version = -1}), invalid_argument_error);
  CHECK_THROWS_AS(r.version_to_start("Nobody", events::execution_started::any_version), unknown_orchestration_error);
}
