#include "patterns.hpp"

#include <perdure/entity.hpp>

#include <algorithm>
#include <stdexcept>

namespace patterns {

void cart(perdure::entity_context& ctx) {
  auto items = ctx.state<std::vector<cart_item>>();
  const auto& op = ctx.operation();
  if (op == "add") {
    const auto added = ctx.input<cart_item>();
    if (added.quantity <= 0) throw std::invalid_argument("add needs a positive quantity");
    auto same = std::find_if(items.begin(), items.end(), [&](const cart_item& i) { return i.sku == added.sku; });
    if (same == items.end())
      items.push_back(added);
    else
      same->quantity += added.quantity;
  } else if (op == "remove") {
    const auto sku = ctx.input<std::string>();
    std::erase_if(items, [&](const cart_item& i) { return i.sku == sku; });
  } else if (op == "get") {
    ctx.return_value(items);
    return;
  } else if (op == "clear") {
    ctx.delete_state();  // an emptied cart is no entity at all: listings do not show it
    return;
  } else {
    throw std::invalid_argument("Cart has no operation '" + op + "'");
  }
  ctx.set_state(items);
}

perdure::task<order_summary> checkout(perdure::orchestration_context& ctx, std::string cart_key) {
  const perdure::entity_id cart_id{"Cart", cart_key};
  // A call, not a read of the store: it is ordered after every operation the cart received
  // before it, and recorded in history, so a replay sees the same items.
  const auto items = co_await ctx.call_entity<std::vector<cart_item>>(cart_id, "get");
  if (items.empty()) throw std::runtime_error("cart '" + cart_key + "' is empty");
  order_summary order{cart_key, static_cast<int>(items.size()), 0};
  for (const auto& item : items) order.total_cents += item.quantity * item.price_cents;
  co_await ctx.call_activity("ChargeCard", order);
  ctx.signal_entity(cart_id, "clear");  // one-way: sent once this step is committed
  co_return order;
}

}  // namespace patterns
