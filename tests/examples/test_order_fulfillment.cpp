// The order-fulfillment saga on a real node: every path's output, history, custom status and the
// effects on the external systems.
#include "history_helpers.hpp"
#include "runtime/node_fixture.hpp"

#include "../../examples/order_fulfillment/order_systems.hpp"
#include "../../examples/order_fulfillment/order_workflow.hpp"

#include <doctest/doctest.h>

#include <map>
#include <thread>

using namespace examples_test;
using nlohmann::json;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;
using perdure::testing_support::wait_limit;

namespace {

struct saga_run {
  temp_dir dir;
  perdure::host host;
  std::map<std::string, perdure::instance_record> records;
  std::map<std::string, perdure::history> histories;

  saga_run() {
    orders::register_order_fulfillment(host, dir.path() / "systems");
    host.start(test_node_options(dir.path() / "node"));
    const auto sample = orders::sample_orders(dir.path() / "systems");
    for (const auto& o : sample) {
      perdure::start_options start;
      start.instance_id = o.id;
      host.client().start("FulfillOrder", json(o).dump(), start);
    }
    for (const auto& o : sample) {
      records[o.id] = host.client().wait_for_completion(o.id, wait_limit);
      histories[o.id] = host.client().history(o.id);
    }
    host.stop();
  }
  orders::order_result result(const std::string& id) { return json::parse(records.at(id).output).get<orders::order_result>(); }
  std::vector<std::string> steps(const std::string& id) {
    return json::parse(records.at(id).custom_status)["steps"].get<std::vector<std::string>>();
  }
  std::vector<std::string> activities(const std::string& id) { return scheduled(histories.at(id)); }
};

using steps_t = std::vector<std::string>;

}  // namespace

TEST_CASE("order fulfillment: every path of the saga") {
  saga_run run;
  orders::order_systems systems(run.dir.path() / "systems");
  auto ledger = systems.payments.ledger().rows();
  auto outbox = systems.outbox.sent().rows();
  auto shipping = systems.shipping.posts().rows();
  for (const auto& [id, record] : run.records) CHECK(record.status == perdure::runtime_status::completed);

  SUBCASE("success: charged, reserved, both notifications") {
    auto result = run.result("order-1001");
    CHECK(result.outcome == "fulfilled");
    CHECK(result.charge_id == "ch_order-1001");
    CHECK(run.steps("order-1001") == steps_t{"payment", "inventory", "notification", "fulfilled"});
    CHECK(run.activities("order-1001") ==
          steps_t{"ProcessPayment", "ReserveInventory", "SendOrderConfirmedEmail", "NotifyShipping"});
    CHECK(ledger.at("order-1001")["status"] == "charged");
    CHECK(outbox.contains("order-1001/order-confirmed"));
    CHECK(shipping.contains("order-1001"));
    CHECK(systems.stock.table().get("KB-01").value()["reserved"].contains("order-1001"));
  }
  SUBCASE("declined card: nothing to undo, a payment-failed email") {
    auto result = run.result("order-1002");
    CHECK(result.outcome == "cancelled");
    CHECK(result.reason == "card declined");
    CHECK(result.compensations.empty());
    CHECK(run.steps("order-1002") == steps_t{"payment", "compensation", "cancelled"});
    CHECK(run.activities("order-1002") == steps_t{"ProcessPayment", "SendPaymentFailedEmail"});
    CHECK(ledger.at("order-1002")["status"] == "declined");
    CHECK(outbox.contains("order-1002/payment-failed"));
    CHECK_FALSE(outbox.contains("order-1002/order-confirmed"));
  }
  SUBCASE("out of stock: the charge is refunded exactly once") {
    auto result = run.result("order-1003");
    CHECK(result.outcome == "cancelled");
    CHECK(result.reason.find("MUG-7") != std::string::npos);
    CHECK(result.compensations == steps_t{"RefundPayment"});
    CHECK(run.steps("order-1003") == steps_t{"payment", "inventory", "compensation", "cancelled"});
    CHECK(run.activities("order-1003") ==
          steps_t{"ProcessPayment", "ReserveInventory", "RefundPayment", "SendPaymentFailedEmail"});
    CHECK(count_kind(run.histories.at("order-1003"), "TaskFailed") == 1);
    int refunds = 0;
    for (const auto& line : systems.payments.ledger().log())
      refunds += line["order_id"] == "order-1003" && line["status"] == "refunded";
    CHECK(refunds == 1);
    CHECK(ledger.at("order-1003")["status"] == "refunded");
    CHECK(outbox.at("order-1003/payment-failed")["text"].get<std::string>().find("refunded") != std::string::npos);
    CHECK_FALSE(shipping.contains("order-1003"));
  }
  SUBCASE("flaky payment: two failed attempts, durable backoff, then fulfilled") {
    auto result = run.result("order-1004");
    CHECK(result.outcome == "fulfilled");
    const auto& history = run.histories.at("order-1004");
    CHECK(count(run.activities("order-1004"), "ProcessPayment") == 3);
    CHECK(count_kind(history, "TaskFailed") == 2);
    CHECK(count_kind(history, "TimerFired") == 2);
    CHECK(ledger.at("order-1004")["failed_attempts"] == 2);
    CHECK(ledger.at("order-1004")["status"] == "charged");
    CHECK(shipping.contains("order-1004"));
  }
  SUBCASE("undeliverable: shipping fails after payment; stock released and charge refunded") {
    auto result = run.result("order-1005");
    CHECK(result.outcome == "cancelled");
    CHECK(result.reason.find("no carrier") != std::string::npos);
    CHECK(result.compensations == steps_t{"ReleaseInventory", "RefundPayment"});
    CHECK(run.steps("order-1005") == steps_t{"payment", "inventory", "notification", "compensation", "cancelled"});
    CHECK(ledger.at("order-1005")["status"] == "refunded");
    CHECK_FALSE(systems.stock.table().get("KB-01").value()["reserved"].contains("order-1005"));
    CHECK(outbox.contains("order-1005/payment-failed"));
  }
}

TEST_CASE("order fulfillment: custom status shows the step while the payment is retried") {
  temp_dir dir;
  perdure::host host;
  orders::register_order_fulfillment(host, dir.path() / "systems");
  host.start(test_node_options(dir.path() / "node"));
  auto flaky = orders::sample_orders(dir.path() / "systems").at(3);
  const auto id = host.client().start("FulfillOrder", json(flaky).dump());
  std::string seen;
  for (int i = 0; i < 200 && seen.empty(); ++i) {
    auto record = host.client().status(id);
    if (record && !record->custom_status.empty() && !perdure::is_terminal(record->status))
      seen = json::parse(record->custom_status)["step"];
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(seen == "payment");  // the backoff (200 + 400 ms) keeps it there
  auto record = host.client().wait_for_completion(id, wait_limit);
  CHECK(json::parse(record.custom_status)["step"] == "fulfilled");
}
