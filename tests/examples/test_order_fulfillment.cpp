// The order-fulfillment saga on a real node: every path's output, history, custom status and the
// effects on the external systems.
#include "runtime/node_fixture.hpp"
#include "saga_checks.hpp"

#include "examples/order_fulfillment/order_workflow.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace examples_test;
using nlohmann::json;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;
using perdure::testing_support::wait_limit;

namespace {

// The five sample orders, run to their end on an embedded node.
examples_test::saga_outcome run_sample_orders(const std::filesystem::path& dir) {
  perdure::host host;
  orders::register_order_fulfillment(host, dir / "systems");
  host.start(test_node_options(dir / "node"));
  const auto sample = orders::sample_orders(dir / "systems");
  for (const auto& o : sample) {
    perdure::start_options start;
    start.instance_id = o.id;
    host.client().start("FulfillOrder", json(o).dump(), start);
  }
  examples_test::saga_outcome outcome;
  for (const auto& o : sample) {
    outcome.records[o.id] = host.client().wait_for_completion(o.id, wait_limit);
    outcome.histories[o.id] = host.client().history(o.id);
  }
  host.stop();
  return outcome;
}

}  // namespace

TEST_CASE("order fulfillment: every path of the saga") {
  temp_dir dir;
  check_every_saga_path(run_sample_orders(dir.path()), dir.path() / "systems");
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
