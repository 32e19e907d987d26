#include "order_workflow.hpp"

#include "order_systems.hpp"

#include <perdure/combinators.hpp>

#include <memory>
#include <optional>

namespace orders {

namespace {

using namespace std::chrono_literals;

perdure::retry_policy retry(int attempts, std::chrono::milliseconds first_interval) {
  perdure::retry_policy policy;  // backoff doubles each time
  policy.max_attempts = attempts;
  policy.first_interval = first_interval;
  return policy;
}

// Transient gateway errors are retried with durable backoff timers: 200 ms, 400 ms, 800 ms.
const perdure::retry_policy payment_retry = retry(4, 200ms);
// A compensation must not give up easily: the customer's money is at stake.
const perdure::retry_policy compensation_retry = retry(10, 500ms);

// The custom status: the current step and every step taken, so the progression is visible.
class progress {
 public:
  explicit progress(perdure::orchestration_context& ctx) : ctx_(ctx) {}
  void enter(std::string step) {
    steps_.push_back(step);
    ctx_.set_custom_status(nlohmann::json{{"step", std::move(step)}, {"steps", steps_}});
  }

 private:
  perdure::orchestration_context& ctx_;
  std::vector<std::string> steps_;
};

}  // namespace

perdure::task<order_result> fulfill_order(perdure::orchestration_context& ctx, order o) {
  progress status(ctx);
  std::string charge_id;
  bool reserved = false;
  std::string failure;
  // C++ forbids co_await in a catch block: remember the failure, compensate after the try.
  try {
    status.enter("payment");
    auto paid = co_await ctx.call_activity<payment>("ProcessPayment", o, payment_retry);
    if (paid.approved) {
      charge_id = paid.charge_id;
      status.enter("inventory");
      co_await ctx.call_activity("ReserveInventory", o);
      reserved = true;
      status.enter("notification");
      co_await perdure::when_all(ctx.call_activity("SendOrderConfirmedEmail", o),
                                 ctx.call_activity("NotifyShipping", o));
      status.enter("fulfilled");
      co_return order_result{o.id, "fulfilled", charge_id, {}, {}};
    }
    failure = paid.decline_reason;
  } catch (const perdure::task_failed& e) {
    failure = e.failure().message;
  }

  status.enter("compensation");
  std::vector<std::string> undone;
  if (reserved) {
    co_await ctx.call_activity("ReleaseInventory", o, compensation_retry);
    undone.push_back("ReleaseInventory");
  }
  if (!charge_id.empty()) {
    co_await ctx.call_activity("RefundPayment", o.id, compensation_retry);
    undone.push_back("RefundPayment");
  }
  // Named, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
  const failure_notice notice{o.id, o.email, failure, !charge_id.empty()};
  co_await ctx.call_activity("SendPaymentFailedEmail", notice, compensation_retry);
  status.enter("cancelled");
  co_return order_result{o.id, "cancelled", charge_id, failure, undone};
}

void register_order_fulfillment(perdure::host& host, const std::filesystem::path& systems_dir) {
  auto systems = std::make_shared<order_systems>(systems_dir);
  host.add_orchestration("FulfillOrder", fulfill_order);
  host.add_activity("ProcessPayment", [systems](perdure::activity_context&, const order& o) {
    return systems->payments.charge(o);
  });
  host.add_activity("ReserveInventory", [systems](perdure::activity_context&, const order& o) {
    systems->stock.reserve(o);
  });
  host.add_activity("SendOrderConfirmedEmail", [systems](perdure::activity_context&, const order& o) {
    systems->outbox.send(o.id, o.email, "order-confirmed", "Your order " + o.id + " is confirmed.");
  });
  host.add_activity("NotifyShipping", [systems](perdure::activity_context&, const order& o) {
    systems->shipping.post(o);
  });
  host.add_activity("ReleaseInventory", [systems](perdure::activity_context&, const order& o) {
    systems->stock.release(o);
  });
  host.add_activity("RefundPayment", [systems](perdure::activity_context&, const std::string& order_id) {
    systems->payments.refund(order_id);
  });
  host.add_activity("SendPaymentFailedEmail", [systems](perdure::activity_context&, const failure_notice& n) {
    systems->outbox.send(n.order_id, n.email, "payment-failed",
                         "We could not complete order " + n.order_id + ": " + n.reason +
                             (n.refunded ? ". Your payment was refunded." : "."));
  });
}

std::vector<order> sample_orders(const std::filesystem::path& systems_dir) {
  inventory stock(systems_dir);
  stock.stock("KB-01", 50);  // keyboards
  stock.stock("MUG-7", 0);   // mugs: sold out
  return {
      {"order-1001", "ada@example.com", "KB-01", 1, 8900, card_ok, "US"},
      {"order-1002", "bob@example.com", "KB-01", 1, 8900, card_declined, "DE"},
      {"order-1003", "cy@example.com", "MUG-7", 2, 2400, card_ok, "FR"},
      {"order-1004", "dee@example.com", "KB-01", 2, 17800, card_flaky, "CA"},
      {"order-1005", "eve@example.com", "KB-01", 1, 8900, card_ok, "AQ"},
  };
}

}  // namespace orders
