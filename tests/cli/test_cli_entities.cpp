// `perdure entity ...` against the real test node (its Counter entity adds each "add" input to its
// state): signal, get, list with paging, delete, and the exit codes of mistakes.
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
using perdure::cli_test::test_node;

constexpr int ok = 0, usage = 2, not_found = 3;

cli_result cli(const test_node& node, std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoint", node.endpoint()});
  return run_cli(args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Signals run after they are queued: polls `entity get` until it exits with `exit_code` (and, for
// ok, shows `state`), failing after 30 s.
void eventually(const test_node& node, const std::string& key, int exit_code, const json& state = {}) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    const cli_result r = cli(node, {"entity", "get", "Counter", key, "-o", "json"});
    if (r.exit_code == exit_code && (exit_code != ok || json::parse(r.out)["state"] == state)) return;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "Counter " << key << ": " << r.exit_code << " " << r.out << r.err);
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST_CASE("cli: entity signal, get, list and delete") {
  test_node node;
  for (const char* key : {"b", "a", "c"}) {
    const cli_result r = cli(node, {"entity", "signal", "Counter", key, "add", "2"});
    REQUIRE_MESSAGE(r.exit_code == ok, r.err);
    CHECK(contains(r.out, std::string("signalled add to entity Counter ") + key));
  }
  REQUIRE(cli(node, {"entity", "signal", "Counter", "a", "add", "40"}).exit_code == ok);
  eventually(node, "a", ok, 42);
  eventually(node, "b", ok, 2);
  eventually(node, "c", ok, 2);

  const cli_result shown = cli(node, {"entity", "get", "Counter", "a"});
  REQUIRE_MESSAGE(shown.exit_code == ok, shown.err);
  CHECK(contains(shown.out, "Entity:         Counter a"));
  CHECK(contains(shown.out, "State:          42"));
  CHECK(contains(shown.out, "Last modified:"));

  const cli_result table = cli(node, {"entity", "list"});
  REQUIRE_MESSAGE(table.exit_code == ok, table.err);
  CHECK(contains(table.out, "NAME"));
  CHECK(table.out.find("Counter  a") < table.out.find("Counter  b"));

  // One page of two, then every page.
  const cli_result first = cli(node, {"entity", "list", "--name", "Counter", "--page-size", "2", "-o", "json"});
  REQUIRE_MESSAGE(first.exit_code == ok, first.err);
  const json page = json::parse(first.out);
  CHECK(page["entities"].size() == 2);
  CHECK(page["continuationToken"].is_string());
  const cli_result all = cli(node, {"entity", "list", "--name", "Counter", "--page-size", "2", "--all", "-o", "json"});
  REQUIRE_MESSAGE(all.exit_code == ok, all.err);
  const json every = json::parse(all.out);
  REQUIRE(every["entities"].size() == 3);
  CHECK(every["entities"][2]["key"] == "c");
  CHECK(every["continuationToken"].is_null());
  const json prefixed = json::parse(cli(node, {"entity", "list", "--name", "Counter", "--key-prefix", "b", "-o", "json"}).out);
  REQUIRE(prefixed["entities"].size() == 1);
  CHECK(prefixed["entities"][0]["state"] == 2);

  const cli_result deleted = cli(node, {"entity", "delete", "Counter", "b"});
  REQUIRE_MESSAGE(deleted.exit_code == ok, deleted.err);
  CHECK(contains(deleted.out, "delete queued for entity Counter b"));
  eventually(node, "b", not_found);

  // A scheduled signal: one whose time has passed runs at once; one far ahead waits.
  const cli_result far = cli(node, {"entity", "signal", "Counter", "d", "add", "100", "--at", "2200-01-01T00:00:00Z"});
  REQUIRE_MESSAGE(far.exit_code == ok, far.err);
  CHECK(contains(far.out, "for delivery at 2200-01-01T00:00:00Z"));
  REQUIRE(cli(node, {"entity", "signal", "Counter", "d", "add", "3", "--at", "2001-01-01T00:00:00Z"}).exit_code == ok);
  eventually(node, "d", ok, 3);
}

TEST_CASE("cli: entity mistakes exit 2 before anything is sent, an unknown entity 3") {
  test_node node;
  CHECK(cli(node, {"entity", "signal", "Count@er", "k", "add"}).exit_code == usage);
  CHECK(cli(node, {"entity", "signal", "Counter", "k", "$delete"}).exit_code == usage);
  const cli_result bad_json = cli(node, {"entity", "signal", "Counter", "k", "add", "{nope"});
  CHECK(bad_json.exit_code == usage);
  CHECK(contains(bad_json.err, "not valid JSON"));
  CHECK(cli(node, {"entity", "list", "--key-prefix", "a"}).exit_code == usage);
  CHECK(cli(node, {"entity", "list", "--page-size", "0"}).exit_code == usage);
  CHECK(cli(node, {"entity", "get", "Counter"}).exit_code == usage);
  const cli_result bad_time = cli(node, {"entity", "signal", "Counter", "k", "add", "1", "--at", "soon"});
  CHECK(bad_time.exit_code == usage);
  CHECK(contains(bad_time.err, "--at is not an ISO 8601 time"));
  const cli_result missing = cli(node, {"entity", "get", "Counter", "nobody"});
  CHECK(missing.exit_code == not_found);
  CHECK(contains(missing.err, "no state"));
}
