// The systems an order touches, as small local stores under one directory (JSON-lines files you
// can read): a payment gateway, an inventory, an email outbox and the shipping team's channel.
//
// Every operation is idempotent per order id, because activities run at least once: charging an
// order twice returns the first charge, a second refund or email changes nothing.
#pragma once

#include "examples/common/jsonl_table.hpp"
#include "order_types.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace orders {

// Test cards, as in Stripe's test mode.
inline constexpr const char* card_ok = "4242424242424242";
inline constexpr const char* card_declined = "4000000000000002";
inline constexpr const char* card_flaky = "4000000000000119";  // fails twice (processing error), then succeeds

/// A transient failure: worth retrying.
class gateway_unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class out_of_stock : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class no_carrier : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class payment_gateway {
 public:
  explicit payment_gateway(const std::filesystem::path& dir) : ledger_(dir / "payments.jsonl", "order_id") {}
  /// A declined card is an answer (approved = false), not a failure; throws gateway_unavailable.
  payment charge(const order& o);
  void refund(const std::string& order_id);
  examples::jsonl_table& ledger() { return ledger_; }

 private:
  examples::jsonl_table ledger_;
};

class inventory {
 public:
  explicit inventory(const std::filesystem::path& dir) : stock_(dir / "inventory.jsonl", "sku") {}
  /// Sets the quantity on hand of an item that has none recorded yet.
  void stock(const std::string& sku, int on_hand);
  /// Throws out_of_stock when fewer than the quantity are on hand and not reserved.
  void reserve(const order& o);
  void release(const order& o);
  examples::jsonl_table& table() { return stock_; }

 private:
  examples::jsonl_table stock_;
};

class email_outbox {
 public:
  explicit email_outbox(const std::filesystem::path& dir) : sent_(dir / "outbox.jsonl", "message_id") {}
  void send(const std::string& order_id, const std::string& to, const std::string& kind, const std::string& text);
  examples::jsonl_table& sent() { return sent_; }

 private:
  examples::jsonl_table sent_;
};

class shipping_channel {
 public:
  explicit shipping_channel(const std::filesystem::path& dir) : posts_(dir / "shipping-channel.jsonl", "order_id") {}
  /// Throws no_carrier for a destination the shipping team does not serve.
  void post(const order& o);
  examples::jsonl_table& posts() { return posts_; }

 private:
  examples::jsonl_table posts_;
};

struct order_systems {
  explicit order_systems(const std::filesystem::path& dir)
      : payments(dir), stock(dir), outbox(dir), shipping(dir) {}
  payment_gateway payments;
  inventory stock;
  email_outbox outbox;
  shipping_channel shipping;
};

}  // namespace orders
