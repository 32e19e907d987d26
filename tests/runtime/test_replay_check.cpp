// Shadow replay on a real node (RocksDB on disk, CAF actors, the management API and the perdure
// CLI) restarted with different code, as a deploy does: instances started by v1 code are checked
// against a compatible change (passes) and an incompatible one (each instance reported with the
// position and both sides), through C++, HTTP and the CLI, and nothing is changed by the check. A
// history exported through the CLI replays in a test as a user's unit test would replay it. A node
// started with check_before_serving refuses code that does not replay its running instances.
#include "http_node.hpp"

#include <perdure/activity_context.hpp>
#include <perdure/history_json.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/replay.hpp>
#include <perdure/replay_check.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using nlohmann::json;
using testing_support::eventually;
using testing_support::temp_dir;
using testing_support::http_node;
using testing_support::test_node_options;

namespace {

constexpr auto limit = std::chrono::seconds(20);

// Deployed first: reserve, wait for "go", ship.
task<std::string> order_v1(orchestration_context& ctx, std::string item) {
  const auto reserved = co_await ctx.call_activity<std::string>("Reserve", item);
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_return co_await ctx.call_activity<std::string>("Ship", reserved + ":" + go);
}

// Compatible: what it changes lies beyond every running instance's history (after the wait).
task<std::string> order_notifies(orchestration_context& ctx, std::string item) {
  const auto reserved = co_await ctx.call_activity<std::string>("Reserve", item);
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_await ctx.call_activity<std::string>("Notify", reserved);
  co_return co_await ctx.call_activity<std::string>("Ship", reserved + ":" + go);
}

// Incompatible: a new first action where every history holds Reserve.
task<std::string> order_checks_first(orchestration_context& ctx, std::string item) {
  const auto checked = co_await ctx.call_activity<std::string>("CheckStock", item);
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_return co_await ctx.call_activity<std::string>("Ship", checked + ":" + go);
}

task<std::string> legacy(orchestration_context& ctx, std::string) {
  co_return co_await ctx.wait_for_event<std::string>("go");
}

using orchestration = task<std::string> (*)(orchestration_context&, std::string);

// A node process's life on the hub's data dir, with this code for "Order" (and "Legacy", which only
// the first deploy has).
struct node_with : http_node {
  node_with(const std::filesystem::path& data, orchestration order, bool with_legacy, bool check_before_serving = false) {
    h.add_orchestration("Order", order);
    if (with_legacy) h.add_orchestration("Legacy", legacy);
    for (const char* activity : {"Reserve", "Ship", "Notify", "CheckStock"})
      h.add_activity(activity, [](activity_context&, std::string in) { return in + "!"; });
    auto options = test_node_options(data);
    options.check_before_serving = check_before_serving;
    start(options);
  }
};

bool reserved(client& c, const std::string& id) {
  for (const auto& e : c.history(id))
    if (std::holds_alternative<events::task_completed>(e.payload)) return true;
  return false;
}

struct cli_run {
  int exit_code = -1;
  std::string out;
};

// Runs the perdure CLI against the node (stderr joins stdout).
cli_run cli(const std::string& endpoint, const std::string& args) {
  const std::string command = std::string(PERDURE_CLI_PATH) + " --endpoint " + endpoint + " " + args + " 2>&1";
  cli_run run;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

const std::vector<std::string> running_orders{"order-1", "order-2", "order-3"};

// Every instance's history and record, to show that a check changed none of them.
std::map<std::string, std::pair<history, instance_record>> everything(client& c) {
  std::map<std::string, std::pair<history, instance_record>> all;
  instance_query q;
  q.page_size = 1000;
  for (const auto& r : c.list(q).records) all[r.instance_id] = {c.history(r.instance_id), r};
  return all;
}

}  // namespace

TEST_CASE("replay-check passes a compatible deploy and reports each instance an incompatible one breaks") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  const auto exported = dir.path() / "order-1.json";

  // Deploy 1: three orders wait for "go" after Reserve, one has finished, one Legacy waits.
  {
    node_with v1(data, order_v1, true);
    for (const auto& id : running_orders) v1.c().start("Order", R"("book")", start_options{id});
    v1.c().start("Order", R"("pen")", start_options{"order-done"});
    v1.c().start("Legacy", R"("x")", start_options{"legacy-1"});
    for (const auto& id : running_orders) REQUIRE(eventually([&] { return reserved(v1.c(), id); }, limit));
    REQUIRE(eventually([&] { return reserved(v1.c(), "order-done"); }, limit));
    v1.c().raise_event("order-done", "go", R"("now")");
    CHECK(v1.c().wait_for_completion("order-done", limit).status == runtime_status::completed);

    // The code that wrote the histories replays them all.
    const auto same_code = replay_check(v1.c(), v1.h.functions());
    CHECK(same_code.checked == 4);
    CHECK(same_code.passed());
    CHECK(same_code.not_registered.empty());

    // Exported through the CLI binary, the history comes back exactly as the node holds it.
    const auto run = cli(v1.endpoint(), "history order-1 --export " + exported.string());
    INFO(run.out);
    REQUIRE(run.exit_code == 0);
    CHECK(read_history_file(exported) == v1.c().history("order-1"));
    const auto unwritable = cli(v1.endpoint(), "history order-1 --export " + (dir.path() / "no-such-dir" / "x.json").string());
    CHECK(unwritable.exit_code == 2);
    CHECK(unwritable.out.find("cannot write") != std::string::npos);
    CHECK(cli(v1.endpoint(), "history nobody --export " + exported.string()).exit_code == 3);
    CHECK(read_history_file(exported) == v1.c().history("order-1"));  // left as it was
  }

  // Deploy 2, compatible: every running order replays; Legacy is not in this code.
  {
    node_with compatible(data, order_notifies, false);
    const auto before = everything(compatible.c());
    const auto report = replay_check(compatible.c(), compatible.h.functions());
    CHECK(report.checked == 3);
    CHECK(report.passed());
    REQUIRE(report.not_registered.size() == 1);
    CHECK(report.not_registered[0].instance_id == "legacy-1");
    CHECK(report.not_registered[0].name == "Legacy");
    CHECK(report.not_registered[0].reason.find("Legacy") != std::string::npos);

    auto http = compatible.http();
    const auto res = http.Get("/api/replay-check");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const json body = json::parse(res->body);
    CHECK(body.at("checked") == 3);
    CHECK(body.at("passed") == true);
    CHECK(body.at("mismatches").empty());
    CHECK(body.at("notRegistered").size() == 1);

    const auto run = cli(compatible.endpoint(), "replay-check");
    INFO(run.out);
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("checked 3 instance(s): 0 no longer replay, 1 not registered in this code") != std::string::npos);
    CHECK(run.out.find("NOT REGISTERED legacy-1 (Legacy v0)") != std::string::npos);

    // Code that has Order only in another version cannot check the version 0 instances: reported
    // as not registered, each with the reason, rather than as mismatches.
    registry only_v2;
    only_v2.add_orchestration("Order", order_notifies, {.version = 2});
    const auto other_version = replay_check(compatible.c(), only_v2);
    CHECK(other_version.checked == 0);
    CHECK(other_version.passed());
    REQUIRE(other_version.not_registered.size() == 4);
    CHECK(other_version.not_registered[0].instance_id == "order-1");
    CHECK(other_version.not_registered[0].reason.find("version 0 is not registered") != std::string::npos);

    // A user's unit test over the exported history, with this code.
    CHECK_FALSE(check_replay(read_history_file(exported), compatible.h.functions()));
    CHECK(everything(compatible.c()) == before);
  }

  // Deploy 3, incompatible: each running order is reported with where and both sides.
  {
    node_with incompatible(data, order_checks_first, false);
    const auto before = everything(incompatible.c());
    const auto report = replay_check(incompatible.c(), incompatible.h.functions());
    CHECK(report.checked == 3);
    CHECK_FALSE(report.passed());
    REQUIRE(report.mismatches.size() == 3);
    for (size_t i = 0; i < report.mismatches.size(); ++i) {
      const auto& m = report.mismatches[i];
      CAPTURE(m.instance_id);
      CHECK(m.instance_id == running_orders[i]);  // listed oldest first
      CHECK(m.name == "Order");
      CHECK(m.version == 0);
      CHECK(std::holds_alternative<events::task_scheduled>(before.at(m.instance_id).first.at(m.position).payload));
      CHECK(m.in_history.find("Reserve") != std::string::npos);
      CHECK(m.in_code.find("CheckStock") != std::string::npos);
    }

    // A filter narrows the check.
    instance_query one = instances_to_replay_check();
    one.instance_id_prefix = "order-2";
    CHECK(replay_check(incompatible.c(), incompatible.h.functions(), one).mismatches.size() == 1);

    auto http = incompatible.http();
    const auto res = http.Get("/api/replay-check?name=Order");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const json body = json::parse(res->body);
    CHECK(body.at("passed") == false);
    REQUIRE(body.at("mismatches").size() == 3);
    const json& first = body.at("mismatches")[0];
    CHECK(first.at("instanceId") == "order-1");
    CHECK(first.at("position") == report.mismatches[0].position);
    CHECK(first.at("inHistory") == report.mismatches[0].in_history);
    CHECK(first.at("inCode") == report.mismatches[0].in_code);
    CHECK(http.Get("/api/replay-check?runtimeStatus=Bogus")->status == 400);

    const auto table = cli(incompatible.endpoint(), "replay-check --name Order");
    INFO(table.out);
    CHECK(table.exit_code == 9);
    for (const auto& id : running_orders)
      CHECK(table.out.find("MISMATCH " + id + " (Order v0) at history position " +
                           std::to_string(report.mismatches[0].position)) != std::string::npos);
    CHECK(table.out.find("history: " + report.mismatches[0].in_history) != std::string::npos);
    CHECK(table.out.find("code:    " + report.mismatches[0].in_code) != std::string::npos);
    // Finished instances are checked when asked for: the one that ended before the change breaks too.
    const auto finished = cli(incompatible.endpoint(), "-o json replay-check --status Completed");
    INFO(finished.out);
    CHECK(finished.exit_code == 9);
    const json finished_report = json::parse(finished.out);
    CHECK(finished_report.at("checked") == 1);
    CHECK(finished_report.at("mismatches")[0].at("instanceId") == "order-done");

    const auto fixture = check_replay(read_history_file(exported), incompatible.h.functions());
    REQUIRE(fixture);
    CHECK(fixture->position() == report.mismatches[0].position);
    CHECK(fixture->in_code() == report.mismatches[0].in_code);

    CHECK(everything(incompatible.c()) == before);
  }
}

TEST_CASE("a node started with check_before_serving refuses code that no longer replays its running instances") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  history waiting;
  {
    node_with v1(data, order_v1, true);
    for (const auto& id : running_orders) v1.c().start("Order", R"("book")", start_options{id});
    for (const auto& id : running_orders) REQUIRE(eventually([&] { return reserved(v1.c(), id); }, limit));
    waiting = v1.c().history("order-2");
  }

  std::string refusal;
  try {
    node_with incompatible(data, order_checks_first, false, true);
  } catch (const error& e) {
    CHECK(e.code() == make_error_code(errc::nondeterminism));
    refusal = e.what();
  }
  INFO(refusal);
  CHECK(refusal.find("this code no longer replays the history of 3 of the 3 running instance(s) checked") == 0);
  for (const auto& id : running_orders)
    CHECK(refusal.find(id + " (Order v0) at history position 2: the history holds TaskScheduled 'Reserve' (task 0) "
                            "but the code did TaskScheduled 'CheckStock' (task 0)") != std::string::npos);
  CHECK(refusal.find("perdure replay-check") != std::string::npos);

  // Compatible code starts, and the refused start changed nothing.
  node_with compatible(data, order_notifies, false, true);
  CHECK(compatible.c().history("order-2") == waiting);
  compatible.c().raise_event("order-2", "go", R"("now")");
  CHECK(compatible.c().wait_for_completion("order-2", limit).output == R"("book!:now!")");
}
