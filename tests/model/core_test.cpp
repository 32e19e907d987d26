// Activities, typed payloads and failures through the executor.
#include "harness.hpp"

#include <perdure/combinators.hpp>
#include <perdure/orchestration_context.hpp>

using namespace perdure;
using namespace perdure::test;

namespace {

struct order {
  std::string id;
  int amount = 0;
};
PERDURE_DEFINE_TYPE(order, id, amount)

task<std::string> checkout(orchestration_context& ctx, order o) {
  int payment = co_await ctx.call_activity<int>("Charge", o);
  co_await ctx.call_activity("Ship", o.id);
  co_return o.id + ":" + std::to_string(payment);
}

registry make_registry() {
  registry r;
  r.add_orchestration("Checkout", checkout);
  return r;
}

}  // namespace

TEST_CASE("activities run in sequence with typed payloads") {
  registry functions = make_registry();
  harness h(functions, "Checkout");
  auto r = h.step(0, {started("Checkout", R"({"id":"o1","amount":5})")});
  REQUIRE(r.appended.size() == 3);
  auto* charge = std::get_if<events::task_scheduled>(&r.appended[2].payload);
  REQUIRE(charge);
  CHECK(charge->task_id == 0);
  CHECK(charge->name == "Charge");
  CHECK(nlohmann::json::parse(charge->input) == nlohmann::json{{"id", "o1"}, {"amount", 5}});
  CHECK(r.appended[2].timestamp == at(0));

  r = h.step(1, {completed(0, "77")});
  auto* ship = find_event<events::task_scheduled>(r.appended);
  REQUIRE(ship);
  CHECK(ship->task_id == 1);
  CHECK(ship->input == R"("o1")");

  r = h.step(2, {completed(1, "")});
  auto* done = find_event<events::execution_completed>(r.appended);
  REQUIRE(done);
  CHECK(done->output == R"("o1:77")");
  CHECK(h.executor().is_complete());
}

TEST_CASE("an uncaught activity failure fails the orchestration with its details") {
  registry functions = make_registry();
  harness h(functions, "Checkout");
  h.step(0, {started("Checkout", R"({"id":"o1","amount":5})")});
  auto r = h.step(1, {failed(0, "card_declined", "insufficient funds")});
  auto* f = find_event<events::execution_failed>(r.appended);
  REQUIRE(f);
  CHECK(f->failure.error_type == "card_declined");
  CHECK(f->failure.message == "insufficient funds");
  CHECK(f->failure.details.find("Charge") != std::string::npos);
}

TEST_CASE("an undecodable input fails the orchestration naming it") {
  registry functions = make_registry();
  harness h(functions, "Checkout");
  auto r = h.step(0, {started("Checkout", R"({"id":5})")});
  auto* f = find_event<events::execution_failed>(r.appended);
  REQUIRE(f);
  CHECK(f->failure.error_type == "perdure::payload_error");
  CHECK(f->failure.message.find("orchestration 'Checkout'") != std::string::npos);
}

TEST_CASE("an undecodable activity result is a payload_error naming the activity") {
  registry functions = make_registry();
  harness h(functions, "Checkout");
  h.step(0, {started("Checkout", R"({"id":"o1","amount":5})")});
  auto r = h.step(1, {completed(0, R"("not a number")")});
  auto* f = find_event<events::execution_failed>(r.appended);
  REQUIRE(f);
  CHECK(f->failure.error_type == "perdure::payload_error");
  CHECK(f->failure.message.find("activity 'Charge'") != std::string::npos);
  CHECK(f->failure.message.find("int") != std::string::npos);
}

TEST_CASE("saga: a failure is caught and compensated") {
  registry functions;
  functions.add_orchestration("Saga", [](orchestration_context& ctx) -> task<std::string> {
    int payment = co_await ctx.call_activity<int>("Pay");
    bool compensate = false;
    try {
      co_await ctx.call_activity("Reserve", payment);
    } catch (const perdure::task_failed& e) {
      CHECK(e.task_name() == "Reserve");
      CHECK(e.failure().message == "out of stock");
      compensate = true;
    }
    if (compensate) {
      co_await ctx.call_activity("Refund", payment);
      co_return "refunded";
    }
    co_return "done";
  });
  harness h(functions, "Saga");
  h.step(0, {started("Saga", "")});
  h.step(1, {completed(0, "9")});
  auto r = h.step(2, {failed(1, "std::runtime_error", "out of stock")});
  auto* refund = find_event<events::task_scheduled>(r.appended);
  REQUIRE(refund);
  CHECK(refund->name == "Refund");
  CHECK(refund->input == "9");
  r = h.step(3, {completed(2, "")});
  auto* done = find_event<events::execution_completed>(r.appended);
  REQUIRE(done);
  CHECK(done->output == R"("refunded")");
}

TEST_CASE("fan-out and fan-in with when_all over a vector and variadic") {
  registry functions;
  functions.add_orchestration("Fan", [](orchestration_context& ctx, int n) -> task<int> {
    std::vector<task<int>> work;
    for (int i = 0; i < n; ++i) work.push_back(ctx.call_activity<int>("Square", i));
    std::vector<int> squares = co_await when_all(std::move(work));
    auto [a, b] = co_await when_all(ctx.call_activity<int>("One"), ctx.call_activity("Nothing"));
    int sum = a;
    for (int s : squares) sum += s;
    (void)b;
    co_return sum;
  });
  harness h(functions, "Fan");
  auto r = h.step(0, {started("Fan", "4")});
  CHECK(count_events<events::task_scheduled>(r.appended) == 4);
  // Results in another order than scheduled, across two episodes.
  r = h.step(1, {completed(3, "9"), completed(1, "1")});
  CHECK(count_events<events::task_scheduled>(r.appended) == 0);
  r = h.step(2, {completed(0, "0"), completed(2, "4")});
  CHECK(count_events<events::task_scheduled>(r.appended) == 2);
  r = h.step(3, {completed(5, ""), completed(4, "100")});
  auto* done = find_event<events::execution_completed>(r.appended);
  REQUIRE(done);
  CHECK(done->output == "114");
}

TEST_CASE("when_all waits for every task, then throws the first failure in order") {
  registry functions;
  functions.add_orchestration("AllFail", [](orchestration_context& ctx) -> task<std::string> {
    std::vector<task<void>> work;
    for (int i = 0; i < 3; ++i) work.push_back(ctx.call_activity("Step", i));
    try {
      co_await when_all(std::move(work));
    } catch (const perdure::task_failed& e) {
      co_return e.failure().message;
    }
    co_return "ok";
  });
  harness h(functions, "AllFail");
  h.step(0, {started("AllFail", "")});
  auto r = h.step(1, {failed(2, "x", "third"), failed(1, "x", "second")});
  CHECK(r.appended.size() == 3);  // still waiting for task 0
  r = h.step(2, {completed(0, "")});
  auto* done = find_event<events::execution_completed>(r.appended);
  REQUIRE(done);
  CHECK(done->output == R"("second")");
}
