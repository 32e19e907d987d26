// Rewind and restart on a real node (RocksDB on disk, CAF actors, the management API and the CLI):
// an activity with a bug fails an instance, the fix is deployed (the node starts again with the
// fixed code, as a deploy does), the rewind completes it and its history shows the rewind; restarts
// from the start and from a prefix; the errors of bad requests. Across kill -9: rewind_node.cpp.
#include "http_node.hpp"
#include "support/child_process.hpp"
#include "support/verdict.hpp"

#include <perdure/history_json.hpp>
#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>

using namespace perdure;
using namespace std::chrono_literals;
using nlohmann::json;
using testing_support::child_process;
using testing_support::read_verdict;
using testing_support::temp_dir;
using testing_support::http_node;
using testing_support::test_node_options;

namespace {

constexpr auto limit = std::chrono::seconds(20);

std::atomic<int> reserve_runs{0};
std::atomic<int> charge_runs{0};

task<int> order(orchestration_context& ctx, int amount) {
  int reserved = co_await ctx.call_activity<int>("Reserve", amount);
  int charged = co_await ctx.call_activity<int>("Charge", reserved);
  co_return charged;
}

task<int> waits(orchestration_context& ctx, int) { co_return co_await ctx.wait_for_event<int>("go"); }

// Charge fails the parent while its child still waits for "go".
task<int> parent_of_waiting_child(orchestration_context& ctx, int amount) {
  auto child = ctx.call_sub_orchestration<int>("Waits", amount, "child-1");
  int charged = co_await ctx.call_activity<int>("Charge", amount);
  co_return charged + co_await child;
}

// A node process's life on the hub's data dir, with Charge's code as deployed then.
struct node_with : http_node {
  node_with(const std::filesystem::path& data, bool charge_fixed) {
    h.add_orchestration("Order", order);
    h.add_orchestration("Waits", waits);
    h.add_orchestration("ParentOfWaitingChild", parent_of_waiting_child);
    h.add_activity("Reserve", [](activity_context&, int amount) {
      ++reserve_runs;
      return amount + 1;
    });
    h.add_activity("Charge", [charge_fixed](activity_context&, int amount) {
      ++charge_runs;
      if (!charge_fixed) throw std::runtime_error("Charge has a bug");
      return amount * 10;
    });
    start(test_node_options(data));
  }
};

struct cli_result {
  int exit_code = -1;
  std::string out;
};

// Runs the perdure CLI against the node.
cli_result cli(const std::string& endpoint, const std::string& args) {
  const std::string command = std::string(PERDURE_CLI_PATH) + " --endpoint " + endpoint + " " + args + " 2>&1";
  cli_result result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) result.out.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

size_t count_kind(const history& events, const char* kind) {
  size_t n = 0;
  for (const auto& e : events) n += std::string(event_kind_name(e.payload)) == kind ? 1 : 0;
  return n;
}

std::string error_of(const httplib::Result& r) { return json::parse(r->body).at("error").get<std::string>(); }

}  // namespace

TEST_CASE("a failed activity fixed by a deploy: rewind completes the instance and the history shows the rewind") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {  // Deploy 1: Charge has a bug.
    node_with buggy(data, false);
    buggy.c().start("Order", "5", start_options{"o-1"});
    CHECK(buggy.c().wait_for_completion("o-1", limit).status == runtime_status::failed);
    CHECK_THROWS_AS(buggy.c().rewind("nobody", "x"), instance_not_found);
  }
  reserve_runs = 0;
  charge_runs = 0;
  // Deploy 2: the fix. The rewind runs Charge again, not Reserve.
  node_with fixed(data, true);
  fixed.c().rewind("o-1", "Charge fixed in 1.2.1");
  const auto done = fixed.c().wait_for_completion("o-1", limit);
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output == "60");
  CHECK(reserve_runs == 0);
  CHECK(charge_runs == 1);

  const auto events = fixed.c().history("o-1");
  CHECK(count_kind(events, "ExecutionFailed") == 1);
  CHECK(count_kind(events, "ExecutionRewound") == 1);
  CHECK(count_kind(events, "ExecutionCompleted") == 1);

  // The management API marks the failure superseded, and the export round-trips the rewind.
  auto http = fixed.http();
  auto shown = http.Get("/api/instances/o-1/history");
  REQUIRE(shown);
  REQUIRE(shown->status == 200);
  size_t superseded = 0;
  bool rewind_shown = false;
  const json body = json::parse(shown->body);
  for (const auto& e : body.at("events")) {
    if (e.value("superseded", false)) ++superseded;
    if (e.at("kind") == "ExecutionRewound") rewind_shown = e.at("reason") == "Charge fixed in 1.2.1";
  }
  CHECK(superseded == 2);  // the TaskFailed and the ExecutionFailed
  CHECK(rewind_shown);
  auto exported = http.Get("/api/instances/o-1/history?format=export");
  REQUIRE(exported);
  CHECK(read_history_json(exported->body) == events);

  // The CLI shows it too.
  const auto timeline = cli(fixed.endpoint(), "history o-1");
  CHECK(timeline.exit_code == 0);
  CHECK(timeline.out.find("ExecutionRewound") != std::string::npos);
  CHECK(timeline.out.find("superseded by a rewind") != std::string::npos);

  // A rewind of what has not failed is a conflict, in every client.
  CHECK_THROWS_AS(fixed.c().rewind("o-1", "again"), instance_status_conflict);
  auto again = http.Post("/api/instances/o-1/rewind?reason=again", "", "application/json");
  REQUIRE(again);
  CHECK(again->status == 409);
  CHECK(error_of(again) == "InstanceStatusConflict");
  CHECK(cli(fixed.endpoint(), "rewind o-1 --reason again").exit_code == 6);
  CHECK(http.Post("/api/instances/nobody/rewind", "", "application/json")->status == 404);
  CHECK(count_kind(fixed.c().history("o-1"), "ExecutionRewound") == 1);
}

TEST_CASE("a child that answered its Failed parent: the answer is kept across a deploy and completes the rewound parent") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::string child_execution;
  {  // Deploy 1: Charge has a bug and fails the parent; its child answers afterwards.
    node_with buggy(data, false);
    buggy.c().start("ParentOfWaitingChild", "5", start_options{"p-1"});
    CHECK(buggy.c().wait_for_completion("p-1", limit).status == runtime_status::failed);
    REQUIRE(testing_support::eventually([&] { return buggy.c().status("child-1").has_value(); }));
    buggy.c().raise_event("child-1", "go", "7");
    const auto child = buggy.c().wait_for_completion("child-1", limit);
    REQUIRE(child.status == runtime_status::completed);
    child_execution = child.execution_id;
    CHECK(testing_support::eventually([&] {
      const auto events = buggy.c().history("p-1");
      return std::string(event_kind_name(events.back().payload)) == "SubOrchestrationCompleted";
    }));
    CHECK(buggy.c().status("p-1")->status == runtime_status::failed);
  }
  // Deploy 2: the fix. The rewound parent takes the child's kept answer: the child does not run again.
  node_with fixed(data, true);
  fixed.c().rewind("p-1", "Charge fixed");
  const auto done = fixed.c().wait_for_completion("p-1", limit);
  REQUIRE(done.status == runtime_status::completed);
  CHECK(done.output == "57");
  const auto child = fixed.c().status("child-1");
  REQUIRE(child);
  CHECK(child->execution_id == child_execution);
  CHECK(count_kind(fixed.c().history("child-1"), "ExecutionStarted") == 1);
}

TEST_CASE("restart from the start and from a prefix, through C++, HTTP and the CLI, and bad requests are clear errors") {
  temp_dir dir;
  node_with node(dir.path() / "data", true);
  auto& c = node.c();
  c.start("Order", "1", start_options{"r-1"});
  REQUIRE(c.wait_for_completion("r-1", limit).status == runtime_status::completed);
  const auto first = c.history("r-1");
  const auto first_execution = c.status("r-1")->execution_id;

  // From the start, from C++: a new execution, same input.
  reserve_runs = 0;
  charge_runs = 0;
  c.restart("r-1");
  REQUIRE(testing_support::eventually([&] { return c.status("r-1")->execution_id != first_execution; }));
  CHECK(c.wait_for_completion("r-1", limit).output == "20");
  CHECK(reserve_runs == 1);
  CHECK(charge_runs == 1);
  CHECK(count_kind(c.history("r-1"), "ExecutionRestarted") == 1);

  // From a prefix, over HTTP: the episode after Reserve's result; only Charge runs again.
  int32_t n = -1;
  const auto before = c.history("r-1");
  for (size_t p = 0, seen = 0; p < before.size() && n < 0; ++p) {
    seen += std::holds_alternative<events::task_completed>(before[p].payload) ? 1 : 0;
    if (seen && std::holds_alternative<events::episode_started>(before[p].payload)) n = static_cast<int32_t>(p);
  }
  REQUIRE(n > 0);
  const auto second_execution = c.status("r-1")->execution_id;
  auto http = node.http();
  auto restarted = http.Post("/api/instances/r-1/restart?fromEvent=" + std::to_string(n), "", "application/json");
  REQUIRE(restarted);
  CHECK(restarted->status == 202);
  REQUIRE(testing_support::eventually([&] { return c.status("r-1")->execution_id != second_execution; }));
  CHECK(c.wait_for_completion("r-1", limit).output == "20");
  CHECK(reserve_runs == 1);
  CHECK(charge_runs == 2);
  const auto after = c.history("r-1");
  REQUIRE(after.size() > static_cast<size_t>(n));
  for (int32_t p = 2; p < n; ++p) CHECK(after[static_cast<size_t>(p)] == before[static_cast<size_t>(p)]);

  // From the CLI, and its errors.
  const auto third_execution = c.status("r-1")->execution_id;
  const auto by_cli = cli(node.endpoint(), "restart r-1 --from " + std::to_string(n));
  CHECK(by_cli.exit_code == 0);
  CHECK(by_cli.out.find("restart of r-1 from event") != std::string::npos);
  REQUIRE(testing_support::eventually([&] { return c.status("r-1")->execution_id != third_execution; }));
  CHECK(c.wait_for_completion("r-1", limit).output == "20");

  const auto size = std::to_string(c.history("r-1").size());
  auto post = [&](const std::string& query) { return http.Post("/api/instances/r-1/restart" + query, "", "application/json"); };
  CHECK(post("?fromEvent=" + size)->status == 400);  // past the end
  CHECK(post("?fromEvent=1")->status == 400);          // inside the first episode
  CHECK(post("?fromEvent=abc")->status == 400);        // garbage
  CHECK(post("?fromEvent=-3")->status == 400);
  CHECK(post("?version=9")->status == 404);            // a version not registered
  CHECK(http.Post("/api/instances/nobody/restart", "", "application/json")->status == 404);
  CHECK_THROWS_AS(c.restart("r-1", restart_options{1}), invalid_argument_error);
  CHECK_THROWS_AS(c.restart("r-1", restart_options{-1}), invalid_argument_error);
  CHECK(cli(node.endpoint(), "restart r-1 --from 1").exit_code == 2);
  CHECK(cli(node.endpoint(), "restart nobody").exit_code == 3);
  const auto garbage = cli(node.endpoint(), "restart r-1 --from abc");
  CHECK(garbage.exit_code == 2);
}

TEST_CASE("restart refuses a running instance until it is terminated") {
  temp_dir dir;
  host h;
  h.add_orchestration("Waits", waits);
  h.start(test_node_options(dir.path() / "data"));
  auto& c = h.client();
  c.start("Waits", "0", start_options{"w"});
  CHECK_THROWS_AS(c.restart("w"), instance_status_conflict);
  CHECK_THROWS_AS(c.rewind("w", "no"), instance_status_conflict);
  c.terminate("w", "to restart it");
  REQUIRE(c.wait_for_completion("w", limit).status == runtime_status::terminated);
  c.restart("w");
  c.raise_event("w", "go", "7");
  CHECK(c.wait_for_completion("w", limit).output == "7");
}

TEST_CASE("restart and rewind acknowledged, then kill -9: nothing lost, nothing done twice") {
  temp_dir dir;
  {
    child_process node{{REWIND_NODE_PATH, "run", dir.path().string()}};
    REQUIRE(node.wait_for_line("ACKNOWLEDGED", 120'000));
    node.kill(SIGKILL);
    CHECK(node.wait() == 128 + SIGKILL);
  }
  child_process finisher{{REWIND_NODE_PATH, "finish", dir.path().string()}};
  const auto found = read_verdict(finisher, 120'000);
  for (const auto& p : found.problems) MESSAGE(p);
  CHECK(found.problems.empty());
  CHECK(found.verified);
  CHECK(found.exit_code == 0);
}
