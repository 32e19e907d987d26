// The order-fulfillment saga's expected outcome for each of orders::sample_orders' paths, checked
// on its records, histories and external systems: shared by the single-node and the cluster tests.
#pragma once

#include "history_helpers.hpp"

#include "examples/order_fulfillment/order_systems.hpp"
#include "examples/order_fulfillment/order_types.hpp"

#include <perdure/instance.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace examples_test {

struct saga_outcome {
  std::map<std::string, perdure::instance_record> records;
  std::map<std::string, perdure::history> histories;

  orders::order_result result(const std::string& id) const {
    return nlohmann::json::parse(records.at(id).output).get<orders::order_result>();
  }
  std::vector<std::string> steps(const std::string& id) const {
    return nlohmann::json::parse(records.at(id).custom_status)["steps"].get<std::vector<std::string>>();
  }
  std::vector<std::string> activities(const std::string& id) const { return scheduled(histories.at(id)); }
};

inline void check_every_saga_path(const saga_outcome& run, const std::filesystem::path& systems_dir) {
  using steps_t = std::vector<std::string>;
  orders::order_systems systems(systems_dir);
  auto ledger = systems.payments.ledger().rows();
  auto outbox = systems.outbox.sent().rows();
  auto shipping = systems.shipping.posts().rows();
  REQUIRE(run.records.size() == 5);
  for (const auto& [id, record] : run.records) REQUIRE_MESSAGE(record.status == perdure::runtime_status::completed, id);

  INFO("success: charged, reserved, both notifications");
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

  INFO("declined card: nothing to undo, a payment-failed email");
  result = run.result("order-1002");
  CHECK(result.outcome == "cancelled");
  CHECK(result.reason == "card declined");
  CHECK(result.compensations.empty());
  CHECK(run.steps("order-1002") == steps_t{"payment", "compensation", "cancelled"});
  CHECK(run.activities("order-1002") == steps_t{"ProcessPayment", "SendPaymentFailedEmail"});
  CHECK(ledger.at("order-1002")["status"] == "declined");
  CHECK(outbox.contains("order-1002/payment-failed"));
  CHECK_FALSE(outbox.contains("order-1002/order-confirmed"));

  INFO("out of stock: the charge is refunded exactly once");
  result = run.result("order-1003");
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

  INFO("flaky payment: two failed attempts, durable backoff, then fulfilled");
  result = run.result("order-1004");
  CHECK(result.outcome == "fulfilled");
  const auto& history = run.histories.at("order-1004");
  CHECK(count(run.activities("order-1004"), "ProcessPayment") == 3);
  CHECK(count_kind(history, "TaskFailed") == 2);
  CHECK(count_kind(history, "TimerFired") == 2);
  CHECK(ledger.at("order-1004")["failed_attempts"] == 2);
  CHECK(ledger.at("order-1004")["status"] == "charged");
  CHECK(shipping.contains("order-1004"));

  INFO("undeliverable: shipping fails after payment; stock released and charge refunded");
  result = run.result("order-1005");
  CHECK(result.outcome == "cancelled");
  CHECK(result.reason.find("no carrier") != std::string::npos);
  CHECK(result.compensations == steps_t{"ReleaseInventory", "RefundPayment"});
  CHECK(run.steps("order-1005") == steps_t{"payment", "inventory", "notification", "compensation", "cancelled"});
  CHECK(ledger.at("order-1005")["status"] == "refunded");
  CHECK_FALSE(systems.stock.table().get("KB-01").value()["reserved"].contains("order-1005"));
  CHECK(outbox.contains("order-1005/payment-failed"));
}

}  // namespace examples_test
