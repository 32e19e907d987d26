// `perdure schedule ...` against the real test node: create, list, describe, pause, trigger,
// update, resume, delete, and the exit codes of mistakes.
#include "node_process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using perdure::cli_test::cli_result;
using perdure::cli_test::run_cli;
using perdure::cli_test::test_node;

constexpr int ok = 0, usage = 2, not_found = 3, conflict = 6;

cli_result cli(const test_node& node, std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoint", node.endpoint()});
  return run_cli(args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json describe(const test_node& node, const std::string& id) {
  const cli_result r = cli(node, {"schedule", "describe", id, "-o", "json"});
  REQUIRE_MESSAGE(r.exit_code == ok, r.err);
  return json::parse(r.out);
}

// Commands take effect in the schedule's next episode: poll its description.
void eventually(const test_node& node, const std::string& id, const std::string& what,
                const std::function<bool(const json&)>& holds) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (json d = describe(node, id); !holds(d); d = describe(node, id)) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, id << " never showed " << what << ": " << d.dump());
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

TEST_CASE("schedule create, describe, pause, trigger, update, resume, list and delete through the CLI") {
  test_node node;
  {
    const cli_result r = cli(node, {"schedule", "create", "nightly", "--cron", "0 3 * * *", "--tz", "Europe/Berlin",
                                    "--orchestration", "Chain", "--input", "\"night\""});
    REQUIRE_MESSAGE(r.exit_code == ok, r.err);
    CHECK(contains(r.out, "created schedule nightly"));
  }
  {
    const json d = describe(node, "nightly");
    CHECK(d["cron"] == "0 3 * * *");
    CHECK(d["timeZone"] == "Europe/Berlin");
    CHECK(d["overlap"] == "skip");
    REQUIRE(d["nextFireTimes"].size() == 5);
    for (const auto& t : d["nextFireTimes"]) {
      const std::string text = t.get<std::string>();
      CHECK_MESSAGE((contains(text, "T02:00:00") || contains(text, "T01:00:00")), text);  // 03:00 in Berlin
    }
    const cli_result table = cli(node, {"schedule", "describe", "nightly"});
    CHECK(table.exit_code == ok);
    CHECK(contains(table.out, "cron \"0 3 * * *\" in Europe/Berlin"));
    CHECK(contains(table.out, "next"));
  }

  {
    const cli_result r = cli(node, {"schedule", "create", "fast", "--every", "1s", "--orchestration", "Chain",
                                    "--input", "\"tick\"", "--overlap", "allowAll"});
    REQUIRE_MESSAGE(r.exit_code == ok, r.err);
  }
  eventually(node, "fast", "two completed runs", [](const json& d) {
    int completed = 0;
    for (const auto& run : d["recentRuns"]) completed += run["runtimeStatus"] == "Completed";
    return completed >= 2;
  });
  {
    const json d = describe(node, "fast");
    const std::string run = d["recentRuns"][0]["instanceId"];
    CHECK(run.rfind("fast@", 0) == 0);
    const cli_result status = cli(node, {"status", run, "-o", "json"});
    CHECK(status.exit_code == ok);
    CHECK(json::parse(status.out)["output"] == "Hello, Hello, Hello, tick");
  }

  CHECK(cli(node, {"schedule", "pause", "fast"}).exit_code == ok);
  eventually(node, "fast", "paused", [](const json& d) { return d["paused"] == true && d["nextFireTimes"].empty(); });

  CHECK(cli(node, {"schedule", "trigger", "fast"}).exit_code == ok);
  eventually(node, "fast", "a triggered run", [](const json& d) {
    for (const auto& run : d["recentRuns"])
      if (run["triggered"] == true && contains(run["instanceId"].get<std::string>(), "-trigger1")) return true;
    return false;
  });

  CHECK(cli(node, {"schedule", "update", "fast", "--every", "2s"}).exit_code == ok);
  eventually(node, "fast", "the new interval", [](const json& d) { return d["intervalSeconds"] == 2; });
  CHECK(describe(node, "fast")["paused"] == true);  // update changes only what it names

  CHECK(cli(node, {"schedule", "resume", "fast"}).exit_code == ok);
  eventually(node, "fast", "running again", [](const json& d) { return d["paused"] == false; });

  {
    const cli_result r = cli(node, {"schedule", "list", "-o", "json"});
    REQUIRE(r.exit_code == ok);
    const json list = json::parse(r.out)["schedules"];
    REQUIRE(list.size() == 2);
    const cli_result table = cli(node, {"schedule", "list"});
    CHECK(contains(table.out, "nightly"));
    CHECK(contains(table.out, "every 2s"));
  }

  CHECK(cli(node, {"schedule", "delete", "fast"}).exit_code == ok);
  CHECK(cli(node, {"schedule", "describe", "fast"}).exit_code == not_found);
  CHECK(cli(node, {"schedule", "delete", "fast"}).exit_code == not_found);
  CHECK(cli(node, {"schedule", "list", "-o", "json"}).out.find("fast") == std::string::npos);
}

TEST_CASE("schedule mistakes get the CLI's exit codes and say what is wrong") {
  test_node node;
  const std::vector<std::string> create{"schedule", "create", "s", "--cron", "0 3 * * *", "--orchestration", "Chain"};
  REQUIRE(cli(node, create).exit_code == ok);
  {
    const cli_result r = cli(node, create);
    CHECK(r.exit_code == conflict);
    CHECK(contains(r.err, "already exists"));
  }
  {
    const cli_result r = cli(node, {"schedule", "create", "t", "--cron", "0 25 * * *", "--orchestration", "Chain"});
    CHECK(r.exit_code == usage);
    CHECK(contains(r.err, "hour field '25': 25 is out of range 0-23"));
  }
  {
    const cli_result r = cli(node, {"schedule", "create", "t", "--cron", "0 3 * * *", "--tz", "Mars/Base",
                                    "--orchestration", "Chain"});
    CHECK(r.exit_code == usage);
    CHECK(contains(r.err, "unknown time zone 'Mars/Base'"));
  }
  {
    const cli_result r = cli(node, {"schedule", "create", "t", "--every", "soon", "--orchestration", "Chain"});
    CHECK(r.exit_code == usage);
    CHECK(contains(r.err, "--every must be a positive duration"));
  }
  CHECK(cli(node, {"schedule", "create", "t", "--orchestration", "Chain"}).exit_code == usage);
  CHECK(cli(node, {"schedule", "pause", "missing"}).exit_code == not_found);
  CHECK(cli(node, {"schedule", "trigger", "missing"}).exit_code == not_found);
  CHECK(cli(node, {"schedule", "describe", "missing"}).exit_code == not_found);
}
