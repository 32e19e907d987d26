// Order fulfillment (saga) on an embedded single node.
//
//   order_fulfillment [--data DIR]
//
// Submits five orders, one per path (fulfilled, declined card, out of stock, flaky payment that
// succeeds on retry, undeliverable), waits for each and prints its status, custom status, output
// and history, then what the external systems saw. DIR/node holds the node's store, DIR/systems the
// payment ledger, inventory, email outbox and shipping channel (JSON lines). Running it again on the
// same DIR shows the same orders without running them twice.
#include "examples/common/show.hpp"
#include "order_systems.hpp"
#include "order_workflow.hpp"

#include <perdure/host.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"Order fulfillment (saga) on an embedded single node"};
  std::filesystem::path data = "order-fulfillment-data";
  app.add_option("--data", data, "The example's directory: DIR/node the node's store, DIR/systems the external systems")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  perdure::host host;
  orders::register_order_fulfillment(host, data / "systems");

  perdure::node_options options;
  options.data_dir = data / "node";
  options.partitions = 4;
  options.log_level = "warn";
  host.start(options);
  auto& client = host.client();

  const auto orders = orders::sample_orders(data / "systems");
  for (const auto& order : orders) {
    perdure::start_options start;
    start.instance_id = order.id;
    start.when_running = perdure::if_running::return_existing;
    if (!client.status(order.id)) client.start("FulfillOrder", nlohmann::json(order).dump(), start);
  }
  for (const auto& order : orders) {
    examples::print_instance(std::cout, client, client.wait_for_completion(order.id, std::chrono::seconds(60)));
    std::cout << "\n";
  }
  host.stop();

  orders::order_systems systems(data / "systems");
  std::cout << "payment ledger (" << (data / "systems" / "payments.jsonl").string() << "):\n";
  for (const auto& line : systems.payments.ledger().log()) std::cout << "  " << line.dump() << "\n";
  std::cout << "email outbox:\n";
  for (const auto& line : systems.outbox.sent().log()) std::cout << "  " << line["to"].get<std::string>() << " [" << line["kind"].get<std::string>() << "] " << line["text"].get<std::string>() << "\n";
  std::cout << "shipping channel:\n";
  for (const auto& line : systems.shipping.posts().log()) std::cout << "  " << line["text"].get<std::string>() << "\n";
  std::cout << "inventory:\n";
  for (const auto& [sku, item] : systems.stock.table().rows()) std::cout << "  " << item.dump() << "\n";
}
