// The classic patterns on a real node: outputs and histories.
#include "history_helpers.hpp"
#include "runtime/node_fixture.hpp"

#include "examples/common/jsonl_table.hpp"
#include "examples/patterns/patterns.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <fstream>
#include <thread>

using namespace examples_test;
using namespace std::chrono_literals;
using nlohmann::json;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;
using perdure::testing_support::wait_limit;

namespace {

struct patterns_node {
  temp_dir dir;
  perdure::host host;
  patterns_node() {
    patterns::register_patterns(host, dir.path() / "systems");
    auto options = test_node_options(dir.path() / "node");
    options.http_port = 0;
    host.start(options);
  }
  perdure::client& client() { return host.client(); }
  perdure::instance_record finish(const std::string& id) { return client().wait_for_completion(id, wait_limit); }
};

}  // namespace

TEST_CASE("patterns: function chaining") {
  patterns_node node;
  const auto id = node.client().start("PriceChain", "1999");
  CHECK(node.finish(id).output == R"("EUR 21.88")");  // 1999 * 0.92 = 1839, plus 19% = 2188
  CHECK(scheduled(node.client().history(id)) == std::vector<std::string>{"ToEuros", "AddVat", "FormatEuros"});
}

TEST_CASE("patterns: fan-out/fan-in") {
  patterns_node node;
  const auto files = node.dir.path() / "files";
  std::filesystem::create_directories(files / "sub");
  for (int i = 1; i <= 20; ++i) std::ofstream(files / ("f" + std::to_string(i))) << std::string(i, 'x');
  std::ofstream(files / "sub" / "g") << std::string(1000, 'y');
  const auto id = node.client().start("DirectorySize", json(files.string()).dump());
  const auto size = json::parse(node.finish(id).output).get<patterns::directory_size>();
  CHECK(size.files == 21);
  CHECK(size.bytes == 20 * 21 / 2 + 1000);
  CHECK(count(scheduled(node.client().history(id)), "FileSize") == 21);
}

TEST_CASE("patterns: async HTTP API, start then poll the status URL") {
  patterns_node node;
  httplib::Client http("127.0.0.1", node.host.http_port());
  auto started = http.Post("/api/orchestrations/SlowReport", "2", "application/json");
  REQUIRE(started);
  CHECK(started->status == 202);
  const std::string url = json::parse(started->body)["statusQueryGetUri"];
  CHECK(started->get_header_value("Location") == url);
  const std::string path = url.substr(url.find("/api/"));
  int accepted = 0;
  json body;
  for (int i = 0; i < 200; ++i) {
    auto poll = http.Get(path);
    REQUIRE(poll);
    body = json::parse(poll->body);
    if (poll->status == 200) break;
    CHECK(poll->status == 202);
    ++accepted;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(accepted > 0);
  CHECK(body["runtimeStatus"] == "Completed");
  CHECK(body["output"] == "[section 1][section 2]");
}

TEST_CASE("patterns: monitor until done, and until the deadline") {
  patterns_node node;
  examples::jsonl_table jobs(node.dir.path() / "systems" / "jobs.jsonl", "job_id");
  jobs.put({{"job_id", "etl"}, {"state", "running"}});
  jobs.put({{"job_id", "stuck"}, {"state", "running"}});
  const auto etl = node.client().start("WatchJob", json(patterns::watch{"etl", 100, 0, 20'000, 0}).dump());
  const auto stuck = node.client().start("WatchJob", json(patterns::watch{"stuck", 100, 0, 500, 0}).dump());
  std::this_thread::sleep_for(400ms);
  jobs.put({{"job_id", "etl"}, {"state", "done"}});

  const auto done = node.finish(etl);
  CHECK(done.output.starts_with(R"("done after )"));
  CHECK(json::parse(done.custom_status)["checks"].get<int>() >= 2);
  // continue-as-new: the final history is one round, not all of them
  CHECK(count(scheduled(node.client().history(etl)), "CheckJob") == 1);

  const auto late = node.finish(stuck);
  CHECK(late.output.starts_with(R"("deadline passed)"));
  CHECK(scheduled(node.client().history(stuck)) == std::vector<std::string>{"CheckJob", "Alert"});
  bool alerted = false;
  for (const auto& message : examples::jsonl_table(node.dir.path() / "systems" / "inbox.jsonl", "message_id").log())
    alerted |= message["to"] == "on-call" && message["text"].get<std::string>().find("stuck") != std::string::npos;
  CHECK(alerted);
}

TEST_CASE("patterns: human interaction, answered and escalated") {
  patterns_node node;
  auto& c = node.client();
  const auto answered = c.start("Approval", json(patterns::approval_request{"po-1", "alice", "carol", 30'000}).dump());
  c.raise_event(answered, "Approval", "true");
  CHECK(node.finish(answered).output == R"("approved")");

  const auto escalated = c.start("Approval", json(patterns::approval_request{"po-2", "bob", "carol", 800}).dump());
  for (int i = 0; i < 500 && c.status(escalated)->custom_status.find("escalated") == std::string::npos; ++i)
    std::this_thread::sleep_for(10ms);
  c.raise_event(escalated, "Approval", "false");
  const auto record = node.finish(escalated);
  CHECK(record.output == R"("rejected")");
  const auto history = c.history(escalated);
  CHECK(count(scheduled(history), "AskForApproval") == 2);
  CHECK(count_kind(history, "TimerFired") >= 1);

  const auto ignored = c.start("Approval", json(patterns::approval_request{"po-3", "dan", "erin", 100}).dump());
  CHECK(node.finish(ignored).output == R"("rejected: nobody answered")");
}

TEST_CASE("patterns: a shopping cart entity, changed concurrently and checked out once") {
  patterns_node node;
  auto& c = node.client();
  const perdure::entity_id cart{"Cart", "bob"};
  // 8 clients add 25 pens each at once: operations on one entity run one at a time.
  std::vector<std::thread> shoppers;
  for (int t = 0; t < 8; ++t)
    shoppers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) c.signal_entity(cart, "add", json(patterns::cart_item{"pen", 1, 150}).dump());
    });
  for (auto& s : shoppers) s.join();
  c.signal_entity(cart, "add", json(patterns::cart_item{"book", 2, 2'500}).dump());
  c.signal_entity(cart, "add", json(patterns::cart_item{"book", 0, 2'500}).dump());  // refused: the state stays
  c.signal_entity(cart, "fly", "{}");                                                 // unknown: the same
  c.signal_entity(cart, "add", json(patterns::cart_item{"mug", 1, 900}).dump());
  c.signal_entity(cart, "remove", json("mug").dump());
  std::vector<patterns::cart_item> items;
  for (int i = 0; i < 1000; ++i) {
    if (auto entity = c.get_entity(cart)) {
      items = json::parse(entity->state).get<std::vector<patterns::cart_item>>();
      if (items.size() == 2 && items[1].quantity == 2) break;  // the book is in, the mug out
    }
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(items.size() == 2);
  CHECK(items[0].sku == "pen");
  CHECK(items[0].quantity == 200);
  CHECK(items[1].sku == "book");

  const auto id = c.start("Checkout", json("bob").dump());
  const auto order = json::parse(node.finish(id).output).get<patterns::order_summary>();
  CHECK(order.lines == 2);
  CHECK(order.total_cents == 200 * 150 + 2 * 2'500);
  const auto history = c.history(id);
  CHECK(count_kind(history, "EntityCalled") == 1);
  CHECK(count_kind(history, "EntitySignaled") == 1);
  CHECK(scheduled(history) == std::vector<std::string>{"ChargeCard"});
  for (int i = 0; i < 500 && c.get_entity(cart); ++i) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(c.get_entity(cart));  // cleared
  const auto charges = examples::jsonl_table(node.dir.path() / "systems" / "charges.jsonl", "charge_id").log();
  REQUIRE(charges.size() == 1);
  CHECK(charges[0]["cents"] == order.total_cents);

  // The cart is gone: a second checkout fails, saying why.
  const auto again = node.finish(c.start("Checkout", json("bob").dump()));
  CHECK(again.status == perdure::runtime_status::failed);
  CHECK(again.failure->message.find("cart 'bob' is empty") != std::string::npos);
}
