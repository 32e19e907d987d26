// Security automation on a real node: a listed IP probing an admin path is blocked, a repeat
// offender's block is extended, and the block list entity's scheduled signal lifts the block,
// across a node restart. In the tester: the firewall's changes keep the block list's order.
#include "history_helpers.hpp"
#include "runtime/node_fixture.hpp"

#include "examples/security/defenses.hpp"
#include "examples/security/ip_guard.hpp"

#include <doctest/doctest.h>
#include <perdure/testing.hpp>

#include <fstream>
#include <functional>
#include <thread>

using namespace examples_test;
using namespace std::chrono_literals;
using nlohmann::json;
using perdure::testing_support::eventually;
using perdure::testing_support::temp_dir;
using perdure::testing_support::test_node_options;

namespace {

constexpr auto block_for = 1000ms;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct security_node {
  temp_dir dir;
  std::unique_ptr<perdure::host> host;
  security::firewall firewall{dir.path()};

  security_node() {
    std::ofstream(dir.path() / "threat-feed.txt") << "# feed\n203.0.113.7\n198.51.100.23  # scanner\n";
    start();
  }
  void start() {
    host = std::make_unique<perdure::host>();
    security::register_security(*host, dir.path());
    host->start(test_node_options(dir.path() / "node"));
  }
  perdure::client& client() { return host->client(); }
  std::optional<json> rule(const std::string& ip) { return firewall.rules().get(ip); }
};

}  // namespace

TEST_CASE("security: block, extend for a repeat offender, unblock by a scheduled signal across a restart") {
  security_node node;
  auto& c = node.client();

  security::report_404(c, {"192.0.2.10", "/.env"}, block_for);           // probing, not listed
  security::report_404(c, {"198.51.100.23", "/favicon.ico"}, block_for);  // listed, ordinary 404
  const auto watched_first_execution = c.status(security::guard_id("192.0.2.10")).value().execution_id;

  security::report_404(c, {"203.0.113.7", "/wp-admin/"}, block_for);
  REQUIRE(eventually([&] { return node.firewall.blocks("203.0.113.7"); }, std::chrono::seconds(10)));
  const auto first = node.rule("203.0.113.7").value();
  CHECK(first["offenses"] == 1);

  security::report_404(c, {"203.0.113.7", "/phpmyadmin/"}, block_for);
  REQUIRE(eventually([&] { return node.rule("203.0.113.7").value()["offenses"] == 2; }, std::chrono::seconds(10)));
  const auto extended = node.rule("203.0.113.7").value();
  CHECK(extended["action"] == "block");
  CHECK(extended["until_ms"].get<int64_t>() - first["until_ms"].get<int64_t>() == block_for.count());

  // The expiry is a scheduled signal to the block list: it is durable, and arrives after a restart.
  node.host->stop();
  node.start();
  REQUIRE(eventually([&] { return !node.firewall.blocks("203.0.113.7"); }, std::chrono::seconds(10)));
  CHECK(now_ms() >= extended["until_ms"].get<int64_t>());

  std::vector<std::string> actions;
  for (const auto& line : node.firewall.rules().log())
    if (line["ip"] == "203.0.113.7") actions.push_back(line["action"]);
  CHECK(actions == std::vector<std::string>{"block", "block", "allow"});

  // The block list entity keeps the IP, lifted, with its offenses; the expiry of the first block
  // (which the second extended) changed nothing.
  const auto listed = [&] {
    const auto entity = node.client().get_entity(security::block_list_id());
    return entity ? json::parse(entity->state) : json::object();
  };
  REQUIRE(eventually([&] { return listed()["203.0.113.7"]["until_ms"] == 0; }, std::chrono::seconds(10)));
  CHECK(listed()["203.0.113.7"]["offenses"] == 2);

  // The guard lives on, with a short history (continue-as-new) and its state in the custom status.
  const auto guard_state = [&] { return json::parse(node.client().status(security::guard_id("203.0.113.7")).value().custom_status); };
  REQUIRE(eventually([&] { return guard_state()["offenses"] == 2; }, std::chrono::seconds(10)));
  CHECK(node.client().status(security::guard_id("203.0.113.7")).value().status == perdure::runtime_status::running);
  CHECK(node.client().history(security::guard_id("203.0.113.7")).size() < 10);

  // Not in the feed: analyzed (the guard moved on to a new execution) but never blocked.
  CHECK(eventually([&] {
    return node.client().status(security::guard_id("192.0.2.10")).value().execution_id != watched_first_execution;
  }, std::chrono::seconds(10)));
  CHECK_FALSE(node.rule("192.0.2.10"));
  // An ordinary 404 never reaches a guard.
  CHECK_FALSE(node.client().status(security::guard_id("198.51.100.23")));
}

// A block's expiry lifts it (UnblockIp) while the same IP probes again (BlockIp). Whatever the
// order, the firewall must end as the block list says: an unblock still under way when the new
// block is sent could reach the firewall after it and leave a blocked IP open. The critical
// section on the block list holds the new block back until the unblock is done.
TEST_CASE("security: a new block of an IP waits for its unblock under way, so the firewall ends blocked") {
  temp_dir dir;
  perdure::host host;
  security::register_security(host, dir.path());
  perdure::orchestration_tester tester(host.functions());
  constexpr auto unblock_takes = 500ms;
  std::vector<std::pair<std::string, perdure::time_point>> firewall_calls;
  tester.stub_activity("AnalyzeRequest", [](perdure::activity_context&, const security::request& r) {
    return security::verdict{true, "probed " + r.path};
  });
  tester.stub_activity("BlockIp", [&](perdure::activity_context&, const security::block_rule&) {
    firewall_calls.emplace_back("block", tester.now());
  });
  tester.stub_activity("UnblockIp", [&](perdure::activity_context&, const std::string&) {
    firewall_calls.emplace_back("unblock", tester.now());
  });
  tester.activity_duration("UnblockIp", unblock_takes);
  tester.raise_event("NotFound", security::request{"203.0.113.7", "/wp-admin/"});
  // The first block ends at 1 s; its unblock is under way from then until 1.5 s.
  tester.raise_event("NotFound", security::request{"203.0.113.7", "/.env"}, 1200ms);
  const auto& guard = tester.run("GuardIp", security::guard_state{"203.0.113.7", 1000, 0}, security::guard_id("203.0.113.7"));
  CHECK(guard.status == perdure::runtime_status::running);

  std::vector<std::string> order;
  for (const auto& [call, at] : firewall_calls) order.push_back(call);
  CHECK(order == std::vector<std::string>{"block", "unblock", "block", "unblock"});
  REQUIRE(firewall_calls.size() == 4);
  CHECK(firewall_calls[2].second >= firewall_calls[1].second + unblock_takes);
}

TEST_CASE("security: admin probes are recognized") {
  CHECK(security::is_admin_probe("/wp-admin/install.php"));
  CHECK(security::is_admin_probe("/.env"));
  CHECK(security::is_admin_probe("/phpmyadmin/"));
  CHECK_FALSE(security::is_admin_probe("/favicon.ico"));
  CHECK_FALSE(security::is_admin_probe("/products/42"));
}
