// The payloads of the order-fulfillment saga (JSON through nlohmann::json).
#pragma once

#include <perdure/codec.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace orders {

struct order {
  std::string id;
  std::string email;
  std::string sku;
  int quantity = 1;
  int amount_cents = 0;
  std::string card;     // a test card number picks the payment path (order_systems.hpp)
  std::string country;  // ISO code of the destination
};
PERDURE_DEFINE_TYPE(order, id, email, sku, quantity, amount_cents, card, country)

struct payment {
  bool approved = false;
  std::string charge_id;
  std::string decline_reason;
};
PERDURE_DEFINE_TYPE(payment, approved, charge_id, decline_reason)

struct failure_notice {
  std::string order_id;
  std::string email;
  std::string reason;
  bool refunded = false;
};
PERDURE_DEFINE_TYPE(failure_notice, order_id, email, reason, refunded)

struct order_result {
  std::string order_id;
  std::string outcome;  // "fulfilled" or "cancelled"
  std::string charge_id;
  std::string reason;                       // why it was cancelled
  std::vector<std::string> compensations;   // what was undone, in order
};
PERDURE_DEFINE_TYPE(order_result, order_id, outcome, charge_id, reason, compensations)

}  // namespace orders
