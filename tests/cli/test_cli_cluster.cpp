// `perdure cluster members` and `perdure cluster partitions`: the real CLI binary against real
// cluster_node processes (a static hub: owners fixed at p mod N, epoch 0, no followers) and against
// a single node.
#include "cluster/local_cluster.hpp"
#include "node_process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::cli_result;
using perdure::cli_test::run_cli;
using perdure::testing_support::local_cluster;

constexpr int ok = 0, usage = 2;

std::string endpoint(const local_cluster& cluster, size_t i) {
  return "http://127.0.0.1:" + std::to_string(cluster.http_port(i));
}

cli_result cli(const std::string& endpoint, std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoint", endpoint});
  return run_cli(args);
}

// Runs the command until it prints `expected` (members are reached one by one after the start, and
// a kill is noticed after the heartbeat timeout); returns the last run.
cli_result until_printed(const std::string& endpoint, const std::vector<std::string>& args, const std::string& expected) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    cli_result r = cli(endpoint, args);
    if ((r.exit_code == ok && r.out == expected) || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace

TEST_CASE("cli: cluster members and partitions of a static 3-node hub, from any node, with one down") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "2", "--heartbeat-timeout", "1000"}};
  cluster.enable_http();
  cluster.start_all();

  const std::string all_up =
      "MEMBER  REACHABLE  STATE   OWNED  PARTITIONS\n"
      "a       yes        active  2      0,3\n"
      "b       yes        active  2      1,4\n"
      "c       yes        active  2      2,5\n";
  const std::string partitions =
      "PARTITION  OWNER  EPOCH  FOLLOWERS  MOVING TO  LAG  PINNED\n"
      "0          a      0      -          -          -    -\n"
      "1          b      0      -          -          -    -\n"
      "2          c      0      -          -          -    -\n"
      "3          a      0      -          -          -    -\n"
      "4          b      0      -          -          -    -\n"
      "5          c      0      -          -          -    -\n";
  for (size_t node = 0; node < 3; ++node) {
    const cli_result members = until_printed(endpoint(cluster, node), {"cluster", "members"}, all_up);
    CHECK_MESSAGE(members.exit_code == ok, members.err);
    CHECK(members.out == all_up);
    const cli_result owners = cli(endpoint(cluster, node), {"cluster", "partitions"});
    CHECK_MESSAGE(owners.exit_code == ok, owners.err);
    CHECK(owners.out == partitions);
  }

  // -o json (a global option may follow the subcommand): what the table shows, for scripts.
  const cli_result members_json = cli(endpoint(cluster, 1), {"cluster", "members", "-o", "json"});
  REQUIRE_MESSAGE(members_json.exit_code == ok, members_json.err);
  const json m = json::parse(members_json.out);
  CHECK(m["nodeId"] == "b");
  CHECK(m["replicated"] == false);
  CHECK(m["members"] == json::parse(R"([{"nodeId": "a", "reachable": true, "state": "active", "partitionsOwned": [0, 3]},
                                         {"nodeId": "b", "reachable": true, "state": "active", "partitionsOwned": [1, 4]},
                                         {"nodeId": "c", "reachable": true, "state": "active", "partitionsOwned": [2, 5]}])"));
  const cli_result partitions_json = cli(endpoint(cluster, 1), {"-o", "json", "cluster", "partitions"});
  REQUIRE_MESSAGE(partitions_json.exit_code == ok, partitions_json.err);
  const json p = json::parse(partitions_json.out);
  REQUIRE(p["partitions"].size() == 6);
  CHECK(p["partitions"][4] == json{{"partition", 4}, {"owner", "b"}, {"epoch", 0}, {"followers", json::array()},
                                   {"ledHere", true}, {"movingTo", nullptr}, {"moveLag", nullptr}, {"pinned", false}});
  CHECK(p["partitions"][5]["ledHere"] == false);

  // A static hub keeps c's partitions on c while it is down: only its reachability changes.
  cluster.kill(2);
  const std::string c_down =
      "MEMBER  REACHABLE  STATE   OWNED  PARTITIONS\n"
      "a       yes        active  2      0,3\n"
      "b       yes        active  2      1,4\n"
      "c       no         active  2      2,5\n";
  const cli_result down = until_printed(endpoint(cluster, 0), {"cluster", "members"}, c_down);
  CHECK_MESSAGE(down.exit_code == ok, down.err);
  CHECK(down.out == c_down);
  const cli_result owners = cli(endpoint(cluster, 0), {"cluster", "partitions"});
  CHECK_MESSAGE(owners.exit_code == ok, owners.err);
  CHECK(owners.out == partitions);
}

TEST_CASE("cli: cluster commands on a single node, and without a subcommand") {
  perdure::cli_test::test_node node;
  for (const char* what : {"members", "partitions"}) {
    const cli_result r = cli(node.endpoint(), {"cluster", what});
    CHECK_MESSAGE(r.exit_code == ok, r.err);
    CHECK(r.out == "the node at " + node.endpoint() + " is a hub of its own (started without --members): no cluster\n");
    const cli_result j = cli(node.endpoint(), {"cluster", what, "-o", "json"});
    CHECK_MESSAGE(j.exit_code == ok, j.err);
    CHECK(json::parse(j.out)["status"] == "SingleNode");
  }
  const cli_result bare = cli(node.endpoint(), {"cluster"});
  CHECK(bare.exit_code == usage);
  CHECK(node.stop() == 0);
}
