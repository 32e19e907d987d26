// Enrichment: clicks over the HTTP API and from the client are enriched once each; the real
// program, killed with SIGKILL mid-stream and run again, leaves exactly one warehouse row per event,
// whether it reads the clicks from a file or consumes them from a NATS JetStream subject.
#include "runtime/node_fixture.hpp"
#include "support/child_process.hpp"
#include "support/nats_cluster.hpp"

#include "examples/enrichment/enrich_workflow.hpp"
#include "examples/enrichment/stores.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <fstream>
#include <set>
#include <thread>

using nlohmann::json;
using perdure::testing_support::child_process;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;
using perdure::testing_support::wait_limit;

namespace {

size_t line_count(const std::filesystem::path& file) {
  std::ifstream in(file);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) lines += !line.empty();
  return lines;
}

bool wait_for_rows(const std::filesystem::path& sink, size_t rows, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (line_count(sink) < rows && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return line_count(sink) >= rows;
}

void check_one_row_per_event(const std::filesystem::path& stores_dir, size_t events) {
  enrichment::stores stores(stores_dir);
  const auto lines = stores.warehouse.log();
  std::set<std::string> ids;
  for (const auto& line : lines) ids.insert(line["event_id"].get<std::string>());
  CHECK(lines.size() == events);
  CHECK(ids.size() == events);
}

}  // namespace

TEST_CASE("enrichment: clicks from the HTTP API and the client, each enriched and stored once") {
  temp_dir dir;
  perdure::host host;
  enrichment::register_enrichment(host, dir.path() / "stores");
  auto options = test_node_options(dir.path() / "node");
  options.http_port = 0;
  host.start(options);

  httplib::Client http("127.0.0.1", host.http_port());
  const enrichment::click over_http{"web-1", "u-0003", "p-0007"};
  auto response = http.Post("/api/orchestrations/EnrichClick?instanceId=web-1", json(over_http).dump(), "application/json");
  REQUIRE(response);
  CHECK(response->status == 202);

  auto clicks = enrichment::generate_clicks(200, 7);
  clicks.push_back({"guest-1", "u-9999", "p-0001"});  // not in the profile store
  CHECK(enrichment::submit(host.client(), clicks, 4) == clicks.size());
  clicks.push_back(over_http);
  for (const auto& c : clicks)
    CHECK(host.client().wait_for_completion(c.event_id, wait_limit).status == perdure::runtime_status::completed);
  CHECK(enrichment::submit(host.client(), clicks, 4) == 0);  // all done: nothing starts again

  enrichment::stores stores(dir.path() / "stores");
  CHECK(stores.warehouse.log().size() == clicks.size());
  auto row = stores.warehouse.get("web-1").value().get<enrichment::enriched_click>();
  CHECK(row.loyalty_tier == stores.profile("u-0003").loyalty_tier);
  CHECK(row.location == stores.profile("u-0003").location);
  CHECK(row.category == stores.item("p-0007").category);
  CHECK(row.price_cents == stores.item("p-0007").price_cents);
  CHECK(stores.warehouse.get("guest-1").value()["loyalty_tier"] == "guest");
  CHECK(json::parse(host.client().status("web-1")->output) == json(row));
}

TEST_CASE("enrichment: kill -9 mid-stream and a restart leave exactly one warehouse row per event") {
  temp_dir dir;
  const auto clicks_file = dir.path() / "clicks.jsonl";
  const size_t events = 1500;
  enrichment::write_clicks(clicks_file, enrichment::generate_clicks(events, 1));
  const std::vector<std::string> run{ENRICHMENT_PATH, "run", "--data", dir.path().string(), "--file", clicks_file.string()};
  const auto sink = dir.path() / "stores" / "warehouse.jsonl";

  size_t at_kill = 0;
  {
    child_process first(run);
    REQUIRE(first.wait_for_line("node started", 30'000));
    wait_for_rows(sink, events / 10, std::chrono::seconds(60));
    first.kill(SIGKILL);
    CHECK(first.wait() == 128 + SIGKILL);
    at_kill = line_count(sink);
  }
  MESSAGE("warehouse rows when killed: " << at_kill << " of " << events);
  REQUIRE(at_kill >= events / 10);
  REQUIRE(at_kill < events);  // really mid-stream

  child_process second(run);
  std::string report;
  while (auto line = second.read_line(120'000)) report += *line + "\n";
  CHECK(second.wait() == 0);
  MESSAGE(report);
  CHECK(report.find("events/s") != std::string::npos);
  check_one_row_per_event(dir.path() / "stores", events);
}

TEST_CASE("enrichment over NATS: the consumer killed with -9 mid-stream and restarted enriches each click once") {
  perdure::testing_support::nats_cluster nats(1);
  temp_dir dir;
  const auto clicks_file = dir.path() / "clicks.jsonl";
  const size_t events = 1500;
  enrichment::write_clicks(clicks_file, enrichment::generate_clicks(events, 3));
  {
    child_process publish({ENRICHMENT_PATH, "publish", "--nats", nats.url(0), "--file", clicks_file.string()});
    CHECK(publish.wait_for_line("published 1500 clicks on clicks", 60'000));
    REQUIRE(publish.wait() == 0);
  }
  const std::vector<std::string> consume{ENRICHMENT_PATH, "consume", "--data", dir.path().string(), "--nats", nats.url(0)};
  const auto sink = dir.path() / "stores" / "warehouse.jsonl";

  size_t at_kill = 0;
  {
    child_process first(consume);
    REQUIRE(first.wait_for_line("consuming clicks from", 30'000));
    wait_for_rows(sink, events / 10, std::chrono::seconds(60));
    first.kill(SIGKILL);
    CHECK(first.wait() == 128 + SIGKILL);
    at_kill = line_count(sink);
  }
  MESSAGE("warehouse rows when killed: " << at_kill << " of " << events);
  REQUIRE(at_kill >= events / 10);
  REQUIRE(at_kill < events);  // really mid-stream

  child_process second(consume);
  REQUIRE(second.wait_for_line("consuming clicks from", 30'000));
  // The messages the killed node held come back after the trigger's ack wait (30 s).
  CHECK(wait_for_rows(sink, events, std::chrono::seconds(180)));
  second.kill(SIGTERM);
  CHECK(second.wait() == 0);
  check_one_row_per_event(dir.path() / "stores", events);
}
