// The management API of a cluster node (real cluster_node processes): health is about the node
// itself, /api/cluster about the members, and a request whose owner is down is a 503 that says
// when to retry.
#include "cluster/local_cluster.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::testing_support::local_cluster;

json cluster_view(httplib::Client& http) {
  const auto r = http.Get("/api/cluster");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return json::parse(r->body);
}

}  // namespace

TEST_CASE("a member down: the others stay healthy, and its instances answer 503 with Retry-After") {
  local_cluster cluster{{"a", "b"}, 4, {"--workers", "2"}};
  cluster.enable_http();
  cluster.start_all();
  httplib::Client http("127.0.0.1", cluster.http_port(0));
  http.set_read_timeout(70s);
  constexpr int instances = 12;  // enough that both members own some
  for (int i = 0; i < instances; ++i) {
    const auto r = http.Post("/api/orchestrations/Chain?instanceId=c-" + std::to_string(i), "\"x\"", "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 202, r->body);
  }
  json view = cluster_view(http);
  CHECK(view["status"] == "AllMembersUp");
  CHECK(view["members"] == json::array({{{"nodeId", "a"}, {"reachable", true}, {"state", "active"}},
                                              {{"nodeId", "b"}, {"reachable", true}, {"state", "active"}}}));
  // A static hub: partition p is member p mod 2's for good, in epoch 0, with no followers.
  CHECK(view["replicated"] == false);
  REQUIRE(view["partitions"].size() == 4);
  for (uint32_t p = 0; p < 4; ++p)
    CHECK(view["partitions"][p] == json{{"partition", p}, {"owner", p % 2 == 0 ? "a" : "b"}, {"epoch", 0},
                                        {"followers", json::array()}, {"ledHere", p % 2 == 0}, {"movingTo", nullptr},
                                        {"moveLag", nullptr},   {"pinned", false}});

  cluster.kill(1);
  // Until node a has noticed, calls for b's partitions may wait; then they are refused at once.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  int unavailable = 0;
  int answered = 0;
  while (unavailable == 0 && std::chrono::steady_clock::now() < deadline) {
    unavailable = answered = 0;
    for (int i = 0; i < instances; ++i) {
      const auto r = http.Get("/api/instances/c-" + std::to_string(i));
      REQUIRE(r);
      if (r->status == 503) {
        ++unavailable;
        CHECK(json::parse(r->body)["error"] == "Unavailable");
        CHECK(r->get_header_value("Retry-After") == "5");
      } else {
        CHECK_MESSAGE((r->status == 200 || r->status == 202 || r->status == 504), r->status << " " << r->body);
        answered += r->status != 504;
      }
    }
    if (unavailable == 0) std::this_thread::sleep_for(200ms);
  }
  CHECK(unavailable > 0);  // b's instances
  CHECK(answered > 0);     // a's still answer

  const auto health = http.Get("/api/health");
  REQUIRE(health);
  CHECK_MESSAGE(health->status == 200, health->body);  // a itself is fine
  view = cluster_view(http);
  CHECK(view["status"] == "MembersDown");
  CHECK(view["members"][1] == json{{"nodeId", "b"}, {"reachable", false}, {"state", "active"}});
  CHECK(view["partitions"][1]["owner"] == "b");  // no takeover without --nats
}

TEST_CASE("replay-check on a cluster node replays every member's instances against its code") {
  local_cluster cluster{{"a", "b"}, 4, {"--workers", "2"}};
  cluster.enable_http();
  cluster.start_all();
  httplib::Client http("127.0.0.1", cluster.http_port(1));
  http.set_read_timeout(70s);
  constexpr int instances = 12;  // enough that both members own some
  for (int i = 0; i < instances; ++i) {
    const auto r = http.Post("/api/orchestrations/Chain?instanceId=rc-" + std::to_string(i) + "&waitForCompletion=30s",
                             "3", "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body);
    REQUIRE_MESSAGE(json::parse(r->body)["runtimeStatus"] == "Completed", r->body);
  }
  // The listing gathers both members' pages and each history is read from its owner.
  const auto finished = http.Get("/api/replay-check?runtimeStatus=Completed");
  REQUIRE(finished);
  REQUIRE_MESSAGE(finished->status == 200, finished->body);
  const json report = json::parse(finished->body);
  CHECK(report["checked"] == instances);
  CHECK(report["passed"] == true);
  CHECK(report["mismatches"].empty());
  CHECK(report["notRegistered"].empty());

  // By default only running and suspended instances are checked: none here.
  const auto running = http.Get("/api/replay-check");
  REQUIRE(running);
  CHECK(json::parse(running->body)["checked"] == 0);
}
