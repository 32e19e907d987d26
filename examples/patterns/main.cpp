// The classic patterns on an embedded single node, one subcommand each.
//
//   patterns [chaining|fan-out|async-http|monitor|human|cart|all] [--data DIR]
//
// Each prints what it does, the instance's status and its history.
#include "examples/common/jsonl_table.hpp"
#include "examples/common/show.hpp"
#include "patterns.hpp"

#include <perdure/host.hpp>

#include <CLI/CLI.hpp>

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

void show(perdure::client& client, const std::string& id) {
  examples::print_instance(std::cout, client, client.wait_for_completion(id, 60s));
  std::cout << "\n";
}

void wait_until(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("timed out waiting");
    std::this_thread::sleep_for(20ms);
  }
}

void chaining(perdure::host& host, const std::filesystem::path&) {
  std::cout << "== function chaining: USD 19.99 -> euros -> plus VAT -> formatted\n";
  show(host.client(), host.client().start("PriceChain", "1999"));
}

void fan_out(perdure::host& host, const std::filesystem::path& data) {
  const auto files = data / "files";
  std::filesystem::create_directories(files / "nested");
  for (int i = 1; i <= 5; ++i) std::ofstream(files / ("file-" + std::to_string(i) + ".txt")) << std::string(1000 * i, 'x');
  std::ofstream(files / "nested" / "deep.txt") << std::string(4096, 'y');
  std::cout << "== fan-out/fan-in: the size of " << files.string() << ", one activity per file\n";
  show(host.client(), host.client().start("DirectorySize", json(files.string()).dump()));
}

void async_http(perdure::host& host, const std::filesystem::path&) {
  std::cout << "== async HTTP API: POST to start, then poll the status URL until it answers 200\n";
  httplib::Client http("127.0.0.1", host.http_port());
  auto started = http.Post("/api/orchestrations/SlowReport", "3", "application/json");
  if (!started) throw std::runtime_error("cannot reach the management API");
  const std::string status_url = json::parse(started->body)["statusQueryGetUri"];
  std::cout << "POST /api/orchestrations/SlowReport -> " << started->status << ", Location: " << status_url << "\n";
  const std::string path = status_url.substr(status_url.find("/api/"));
  for (;;) {
    auto poll = http.Get(path);
    if (!poll) throw std::runtime_error("status poll failed");
    const auto body = json::parse(poll->body);
    std::cout << "GET " << path << " -> " << poll->status << " " << body["runtimeStatus"].get<std::string>()
              << " customStatus=" << body["customStatus"].dump() << "\n";
    if (poll->status == 200) {
      std::cout << "output: " << body["output"].dump() << "\n\n";
      return;
    }
    std::this_thread::sleep_for(250ms);
  }
}

void monitor(perdure::host& host, const std::filesystem::path& data) {
  std::cout << "== monitor: poll a job every 300 ms until it is done, or alert at the deadline\n";
  examples::jsonl_table jobs(data / "jobs.jsonl", "job_id");
  jobs.put({{"job_id", "nightly-etl"}, {"state", "running"}});
  jobs.put({{"job_id", "stuck-export"}, {"state", "running"}});
  auto& client = host.client();
  const auto etl = client.start("WatchJob", json(patterns::watch{"nightly-etl", 300, 0, 10'000, 0}).dump());
  const auto stuck = client.start("WatchJob", json(patterns::watch{"stuck-export", 300, 0, 1'000, 0}).dump());
  std::this_thread::sleep_for(1s);
  jobs.put({{"job_id", "nightly-etl"}, {"state", "done"}});
  show(client, etl);
  show(client, stuck);
}

void human(perdure::host& host, const std::filesystem::path& data) {
  std::cout << "== human interaction: wait for approval; after the timeout, escalate to the manager\n";
  auto& client = host.client();
  const auto answered = client.start("Approval", json(patterns::approval_request{"po-1", "alice", "carol", 2'000}).dump());
  client.raise_event(answered, "Approval", "true");
  show(client, answered);

  const auto escalated = client.start("Approval", json(patterns::approval_request{"po-2", "bob", "carol", 700}).dump());
  wait_until([&] { return client.status(escalated)->custom_status.find("escalated") != std::string::npos; });
  std::cout << "bob did not answer; carol rejects\n";
  client.raise_event(escalated, "Approval", "false");
  show(client, escalated);
  std::cout << "inbox (" << (data / "inbox.jsonl").string() << "):\n";
  for (const auto& message : examples::jsonl_table(data / "inbox.jsonl", "message_id").log())
    std::cout << "  " << message.dump() << "\n";
}

void shopping_cart(perdure::host& host, const std::filesystem::path& data) {
  std::cout << "== entity: a shopping cart changed by signals, then checked out by an orchestration\n";
  auto& client = host.client();
  const perdure::entity_id cart{"Cart", "alice"};
  client.signal_entity(cart, "add", json(patterns::cart_item{"book", 1, 2'500}).dump());
  client.signal_entity(cart, "add", json(patterns::cart_item{"pen", 3, 150}).dump());
  client.signal_entity(cart, "add", json(patterns::cart_item{"pen", 2, 150}).dump());
  client.signal_entity(cart, "add", json(patterns::cart_item{"mug", 1, 900}).dump());
  client.signal_entity(cart, "remove", json("mug").dump());
  // Signals are queued, not awaited: the cart holds them once its partition ran them.
  wait_until([&] {
    auto entity = client.get_entity(cart);
    return entity && json::parse(entity->state).size() == 2 && json::parse(entity->state)[1]["quantity"] == 5;
  });
  std::cout << "cart " << cart.instance_id() << ": " << client.get_entity(cart)->state << "\n";
  show(client, client.start("Checkout", json("alice").dump()));
  wait_until([&] { return !client.get_entity(cart); });
  std::cout << "after checkout the cart is gone (cleared); charges (" << (data / "charges.jsonl").string() << "):\n";
  for (const auto& charge : examples::jsonl_table(data / "charges.jsonl", "charge_id").log())
    std::cout << "  " << charge.dump() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  using demo_fn = void (*)(perdure::host&, const std::filesystem::path&);
  const std::vector<std::pair<std::string, demo_fn>> demos{
      {"chaining", chaining}, {"fan-out", fan_out}, {"async-http", async_http}, {"monitor", monitor}, {"human", human},
      {"cart", shopping_cart}};
  CLI::App app{"The classic patterns on an embedded single node"};
  std::string which = "all";
  std::vector<std::string> choices{"all"};
  for (const auto& demo : demos) choices.push_back(demo.first);
  app.add_option("pattern", which, "The pattern to show")->capture_default_str()->check(CLI::IsMember(choices));
  std::filesystem::path data = "patterns-data";
  app.add_option("--data", data, "The example's directory: DIR/node the node's store, DIR/systems its files")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  perdure::host host;
  patterns::register_patterns(host, data / "systems");
  perdure::node_options options;
  options.data_dir = data / "node";
  options.partitions = 4;
  options.log_level = "warn";
  options.http_port = 0;  // the async HTTP API demo talks to it
  host.start(options);
  for (const auto& [name, demo] : demos)
    if (which == "all" || which == name) demo(host, data / "systems");
  host.stop();
}
