// Order fulfillment as a saga: charge, reserve, then notify the customer and the shipping team in
// parallel; any failure undoes what was done (release the stock, refund the charge) and tells the
// customer. The instance id is the order id, so submitting an order twice starts it once.
#pragma once

#include "order_types.hpp"

#include <perdure/host.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <filesystem>
#include <vector>

namespace orders {

perdure::task<order_result> fulfill_order(perdure::orchestration_context& ctx, order o);

/// Registers "FulfillOrder" and its activities, which work on the systems under `systems_dir`.
void register_order_fulfillment(perdure::host& host, const std::filesystem::path& systems_dir);

/// Stocks the sample items (once) and returns one order per path: fulfilled, declined card, out of
/// stock, flaky payment fulfilled after retries, undeliverable (shipping fails after payment).
std::vector<order> sample_orders(const std::filesystem::path& systems_dir);

}  // namespace orders
