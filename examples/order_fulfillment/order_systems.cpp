#include "order_systems.hpp"

#include <set>

namespace orders {

using json = nlohmann::json;

payment payment_gateway::charge(const order& o) {
  return ledger_.transact([&](examples::jsonl_table::view& ledger) {
    json row = ledger.get(o.id).value_or(json{{"order_id", o.id}, {"status", "new"}, {"failed_attempts", 0}});
    const std::string status = row["status"];
    if (status == "charged" || status == "refunded") return payment{true, row["charge_id"].get<std::string>(), {}};
    if (status == "declined") return payment{false, {}, row["reason"].get<std::string>()};
    if (o.card == card_declined) {
      row["status"] = "declined";
      row["reason"] = "card declined";
      ledger.put(row);
      return payment{false, {}, "card declined"};
    }
    if (o.card == card_flaky && row["failed_attempts"].get<int>() < 2) {
      row["failed_attempts"] = row["failed_attempts"].get<int>() + 1;
      ledger.put(row);
      throw gateway_unavailable("payment processor error, try again");
    }
    row["status"] = "charged";
    row["amount_cents"] = o.amount_cents;
    row["charge_id"] = "ch_" + o.id;
    ledger.put(row);
    return payment{true, row["charge_id"].get<std::string>(), {}};
  });
}

void payment_gateway::refund(const std::string& order_id) {
  ledger_.transact([&](examples::jsonl_table::view& ledger) {
    auto row = ledger.get(order_id);
    if (!row || (*row)["status"] != "charged") return;  // nothing to refund, or already refunded
    (*row)["status"] = "refunded";
    ledger.put(*row);
  });
}

void inventory::stock(const std::string& sku, int on_hand) {
  stock_.insert(json{{"sku", sku}, {"on_hand", on_hand}, {"reserved", json::object()}});
}

void inventory::reserve(const order& o) {
  stock_.transact([&](examples::jsonl_table::view& stock) {
    auto item = stock.get(o.sku);
    if (!item) throw out_of_stock("unknown item " + o.sku);
    json& reserved = (*item)["reserved"];
    if (reserved.contains(o.id)) return;
    int available = (*item)["on_hand"];
    for (const auto& [order_id, quantity] : reserved.items()) available -= quantity.get<int>();
    if (available < o.quantity)
      throw out_of_stock(o.sku + ": " + std::to_string(available) + " available, " +
                         std::to_string(o.quantity) + " ordered");
    reserved[o.id] = o.quantity;
    stock.put(*item);
  });
}

void inventory::release(const order& o) {
  stock_.transact([&](examples::jsonl_table::view& stock) {
    auto item = stock.get(o.sku);
    if (!item) return;
    (*item)["reserved"].erase(o.id);
    stock.put(*item);
  });
}

void email_outbox::send(const std::string& order_id, const std::string& to, const std::string& kind,
                        const std::string& text) {
  sent_.insert(json{{"message_id", order_id + "/" + kind}, {"order_id", order_id}, {"to", to}, {"kind", kind}, {"text", text}});
}

void shipping_channel::post(const order& o) {
  static const std::set<std::string> served{"US", "CA", "DE", "FR", "JP"};
  if (!served.contains(o.country)) throw no_carrier("no carrier ships to '" + o.country + "'");
  posts_.insert(json{{"order_id", o.id}, {"text", "Ship " + std::to_string(o.quantity) + " x " + o.sku + " to " + o.country}});
}

}  // namespace orders
