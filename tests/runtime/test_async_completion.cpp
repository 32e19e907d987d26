// Async activity completion on a real node process (RocksDB on disk, its management API, the
// perdure CLI): an activity that returns pending is completed, failed or heartbeated by its task
// token over HTTP and the CLI; a kill -9 while it is pending does not run it again; a pending
// attempt whose heartbeats stop times out and is retried; a second completion, a malformed or
// unknown token and a timed-out attempt are refused in the one error model.
#include "cli/node_process.hpp"
#include "node_fixture.hpp"
#include "support/child_process.hpp"

#include <partition/activity_token.hpp>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <sstream>

using namespace perdure;
using namespace std::chrono_literals;
using nlohmann::json;
using testing_support::child_process;
using testing_support::eventually;
using testing_support::temp_dir;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// tests/runtime/async_node.cpp on `dir`, until destroyed or killed.
struct async_node {
  std::filesystem::path dir;
  std::unique_ptr<child_process> process;
  int port = -1;

  explicit async_node(std::filesystem::path d) : dir(std::move(d)) {
    process = std::make_unique<child_process>(std::vector<std::string>{ASYNC_NODE_PATH, dir.string()});
    auto line = process->wait_for_line("PORT ", 120'000);
    REQUIRE(line);
    port = std::stoi(line->substr(5));
  }

  httplib::Client http() const { return httplib::Client("127.0.0.1", port); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port); }

  void start(const std::string& id, const std::string& activity) {
    auto r = http().Post("/api/orchestrations/Approval?instanceId=" + id, "\"" + activity + "\"", "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 202, r->body);
  }

  // The token the instance's activity handed out, once it has.
  std::string token_of(const std::string& id) const {
    const auto file = dir / (id + ".token");
    REQUIRE(eventually([&] { return std::filesystem::exists(file); }));
    return read_file(file);
  }

  size_t runs_of(const std::string& id) const {
    const auto text = read_file(dir / (id + ".runs"));
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }

  httplib::Result complete(const std::string& token, const std::string& result) {
    return http().Post("/api/activities/" + token + "/complete", result, "application/json");
  }

  httplib::Result heartbeat(const std::string& token, const std::string& details) {
    return http().Post("/api/activities/" + token + "/heartbeat", details, "application/json");
  }

  httplib::Result fail(const std::string& token, const json& failure) {
    return http().Post("/api/activities/" + token + "/fail", failure.dump(), "application/json");
  }

  json history(const std::string& id) {
    auto r = http().Get("/api/instances/" + id + "/history");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return json::parse(r->body)["events"];
  }

  bool has_event(const std::string& id, const std::string& type) {
    for (const auto& e : history(id))
      if (e["kind"] == type) return true;
    return false;
  }

  // Closes the instance and returns its record once it ended.
  json close_and_wait(const std::string& id) {
    auto raised = http().Post("/api/instances/" + id + "/raiseEvent/close", "1", "application/json");
    REQUIRE(raised);
    REQUIRE(raised->status == 202);
    json record;
    REQUIRE(eventually([&] {
      auto r = http().Get("/api/instances/" + id);
      if (!r || r->status != 200) return false;
      record = json::parse(r->body);
      return record["runtimeStatus"] != "Running" && record["runtimeStatus"] != "Pending";
    }));
    return record;
  }
};

void check_error(const httplib::Result& r, int status, const std::string& code) {
  REQUIRE(r);
  CHECK_MESSAGE(r->status == status, r->body);
  const json body = json::parse(r->body, nullptr, false);
  REQUIRE_MESSAGE(body.is_object(), r->body);
  CHECK(body["error"] == code);
  CHECK(body["message"].is_string());
}

void check_accepted(const httplib::Result& r) {
  REQUIRE(r);
  CHECK_MESSAGE(r->status == 202, r->body);
}

}  // namespace

TEST_CASE("an activity pending at a kill -9 is not run again, and its token completes it after the restart") {
  temp_dir dir;
  std::string token;
  {
    async_node node{dir.path()};
    node.start("a", "Ask");
    token = node.token_of("a");
    // The pending mark is committed before a later command to the partition: the worker sends it as
    // the activity returns, before this test has seen the token file and sent the event.
    auto ping = node.http().Post("/api/instances/a/raiseEvent/ping", "1", "application/json");
    REQUIRE(ping);
    REQUIRE(eventually([&] { return node.has_event("a", "EventRaised"); }));
    node.process->kill(SIGKILL);
    CHECK(node.process->wait() == 128 + SIGKILL);
  }
  async_node node{dir.path()};
  check_accepted(node.complete(token, "\"approved\""));
  // A second completion is refused, whatever its result; the instance still runs.
  check_error(node.complete(token, "\"approved\""), 409, "ActivityNotOpen");
  check_error(node.fail(token, json{{"errorType", "Late"}, {"message", "too late"}}), 409, "ActivityNotOpen");
  const auto record = node.close_and_wait("a");
  CHECK(record["runtimeStatus"] == "Completed");
  CHECK(record["output"] == "approved");
  CHECK(node.runs_of("a") == 1);
  size_t completions = 0;
  for (const auto& e : node.history("a")) completions += e["kind"] == "TaskCompleted" ? 1 : 0;
  CHECK(completions == 1);
  // The instance has ended: its token is gone with it.
  check_error(node.complete(token, "\"again\""), 410, "InstanceFinished");
}

TEST_CASE("a failure by token reaches the orchestration's co_await, and bad results, bodies and tokens are refused") {
  temp_dir dir;
  async_node node{dir.path()};
  node.start("b", "Ask");
  const auto token = node.token_of("b");

  check_error(node.complete(token, "{not json"), 400, "InvalidJson");
  check_error(node.fail(token, json{{"message", "no type"}}), 400, "InvalidArgument");
  check_error(node.http().Post("/api/activities/" + token + "/fail", "nope", "application/json"), 400, "InvalidJson");
  check_error(node.complete("zz", "1"), 400, "InvalidArgument");
  check_error(node.complete(token.substr(0, token.size() - 2), "1"), 400, "InvalidArgument");
  // A continuation token is a token of another kind.
  check_error(node.complete("0141", "1"), 400, "InvalidArgument");
  check_error(node.http().Post("/api/activities/" + token + "/finish", "1", "application/json"), 404, "NotFound");
  storage::activity_task nobody;
  nobody.instance_id = "nobody";
  nobody.execution_id = "e";
  nobody.task_id = 0;
  check_error(node.complete(partition::activity_task_token(nobody), "1"), 404, "InstanceNotFound");

  check_accepted(node.fail(token, json{{"errorType", "Declined"}, {"message", "over budget"}, {"nonRetriable", true}}));
  check_error(node.complete(token, "\"yes\""), 409, "ActivityNotOpen");
  const auto record = node.close_and_wait("b");
  CHECK(record["runtimeStatus"] == "Completed");
  CHECK(record["output"] == "failed: Declined: over budget");
}

TEST_CASE("a pending attempt times out like any other, and its token is refused after that") {
  temp_dir dir;
  async_node node{dir.path()};
  node.start("c", "AskBriefly");
  const auto token = node.token_of("c");
  REQUIRE(eventually([&] { return node.has_event("c", "TaskFailed"); }));
  check_error(node.complete(token, "\"too late\""), 409, "ActivityNotOpen");
  const auto record = node.close_and_wait("c");
  CHECK(record["output"].get<std::string>().rfind("failed: TimeoutError: ", 0) == 0);
}

TEST_CASE("heartbeats by token reach a pending attempt, and when they stop it times out, is retried with their details, "
          "and its token is refused") {
  temp_dir dir;
  async_node node{dir.path()};
  node.start("f", "AskWithHeartbeat");
  const auto first = node.token_of("f");
  check_accepted(node.heartbeat(first, "{\"step\":1}"));
  check_accepted(node.heartbeat(first, ""));  // alive, no new details
  check_error(node.heartbeat(first, "{not json"), 400, "InvalidJson");
  check_error(node.heartbeat("zz", ""), 400, "InvalidArgument");

  // Nothing heartbeats it any more: the heartbeat timeout fails it, and the retry policy runs it again.
  std::string second;
  REQUIRE(eventually([&] {
    second = read_file(dir.path() / "f.token");
    return second != first;
  }));
  CHECK(node.runs_of("f") == 2);
  CHECK(read_file(dir.path() / "f.runs") == "run \nrun {\"step\":1}\n");
  json timeout;
  for (const auto& e : node.history("f"))
    if (e["kind"] == "TaskFailed") timeout = e;
  REQUIRE_MESSAGE(timeout.is_object(), node.history("f").dump());
  CHECK(timeout.dump().find("TimeoutError") != std::string::npos);
  // The external worker of the first attempt learns it has to stop.
  check_error(node.heartbeat(first, "{\"step\":2}"), 409, "ActivityNotOpen");

  check_accepted(node.heartbeat(second, "{\"step\":2}"));
  check_accepted(node.complete(second, "\"approved\""));
  check_error(node.heartbeat(second, ""), 409, "ActivityNotOpen");
  CHECK(node.close_and_wait("f")["output"] == "approved");
  check_error(node.heartbeat(second, ""), 410, "InstanceFinished");
}

TEST_CASE("perdure activity complete, fail and heartbeat take a task token, and a second completion is a conflict") {
  temp_dir dir;
  async_node node{dir.path()};
  node.start("d", "Ask");
  node.start("e", "Ask");
  const auto completed = node.token_of("d");
  const auto failed = node.token_of("e");
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--endpoint", node.endpoint()});
    return cli_test::run_cli(args);
  };

  auto r = cli({"activity", "heartbeat", completed, "{\"step\":1}"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(cli({"activity", "heartbeat", completed}).exit_code == 0, r.err);
  CHECK(cli({"activity", "heartbeat", completed, "{not json"}).exit_code == 2);
  r = cli({"activity", "complete", completed, "--result", "\"by cli\""});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  r = cli({"activity", "complete", completed, "--result", "\"again\""});
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("ActivityNotOpen") != std::string::npos);
  r = cli({"activity", "heartbeat", completed});  // the worker on it learns to stop
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("ActivityNotOpen") != std::string::npos);
  CHECK(cli({"activity", "complete", "garbage"}).exit_code == 2);
  CHECK(cli({"activity", "complete", completed, "--result", "{not json"}).exit_code == 2);
  r = cli({"activity", "fail", failed, "--message", "by cli", "--type", "Declined"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);

  CHECK(node.close_and_wait("d")["output"] == "by cli");
  CHECK(node.close_and_wait("e")["output"] == "failed: Declined: by cli");
  CHECK(cli({"activity", "heartbeat", failed}).exit_code == 7);  // its instance ended
}
