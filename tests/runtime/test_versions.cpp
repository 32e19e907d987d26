// Orchestration versions on a real node (RocksDB on disk, CAF actors, the management API and the
// CLI), restarted with different code each time, as a deploy does: v1 instances keep running v1
// after v2 is registered while new ones start on v2; a node without v1 keeps them waiting and
// reports them; the node with v1 back finishes them.
#include "http_node.hpp"

#include <perdure/orchestration_context.hpp>
#include <perdure/task.hpp>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>
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

task<std::string> order_v1(orchestration_context& ctx, std::string item) {
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_return "v1:" + item + ":" + go;
}

task<std::string> order_v2(orchestration_context& ctx, std::string item) {
  const auto go = co_await ctx.wait_for_event<std::string>("go");
  co_return "v2:" + item + ":" + go;
}

// A node process's life: started on the hub's data dir with the versions of "Order" given.
struct node_with : http_node {
  node_with(const std::filesystem::path& data, std::vector<int32_t> versions) {
    for (int32_t v : versions) h.add_orchestration("Order", v == 1 ? order_v1 : order_v2, {.version = v});
    start(test_node_options(data));
  }
};

json get_json(httplib::Client& http, const std::string& path) {
  auto r = http.Get(path);
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  REQUIRE(r->status < 300);
  return json::parse(r->body);
}

std::set<std::string> ids_of(const json& listing) {
  std::set<std::string> ids;
  for (const auto& i : listing.at("instances")) ids.insert(i.at("instanceId").get<std::string>());
  return ids;
}

// Runs the perdure CLI against the node; its standard output.
std::string cli(const std::string& endpoint, const std::string& args) {
  const std::string command = std::string(PERDURE_CLI_PATH) + " --endpoint " + endpoint + " " + args;
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  CHECK(pclose(pipe) == 0);
  return out;
}

}  // namespace

TEST_CASE("v1 instances finish on v1 after v2 is deployed, wait on a node without v1, and finish when v1 is back") {
  temp_dir dir;
  const auto data = dir.path() / "data";

  // Deploy 1: only v1 (registered without a version it would be version 0; here it is 1).
  {
    node_with v1(data, {1});
    v1.c().start("Order", R"("a")", start_options{"old-a"});
    v1.c().start("Order", R"("b")", start_options{"old-b"});
    CHECK(v1.c().status("old-a")->version == 1);
  }

  // Deploy 2: v1 and v2 side by side. New instances start on v2, the old ones stay on v1.
  {
    node_with both(data, {1, 2});
    const auto fresh = both.c().start("Order", R"("c")", start_options{"new-c"});
    CHECK(both.c().status(fresh)->version == 2);
    both.c().start("Order", R"("d")", start_options{"pinned-d", if_running::fail, 1});
    CHECK(both.c().status("pinned-d")->version == 1);
    CHECK_THROWS_AS(both.c().start("Order", R"("e")", start_options{"missing-e", if_running::fail, 5}),
                    unknown_function_error);

    both.c().raise_event("old-a", "go", R"("go")");
    both.c().raise_event("new-c", "go", R"("go")");
    CHECK(both.c().wait_for_completion("old-a", limit).output == R"("v1:a:go")");
    CHECK(both.c().wait_for_completion("new-c", limit).output == R"("v2:c:go")");

    // The management API and the CLI show and filter the version.
    auto http = both.http();
    CHECK(get_json(http, "/api/instances/old-b").at("version") == 1);
    CHECK(get_json(http, "/api/instances/new-c").at("version") == 2);
    CHECK(ids_of(get_json(http, "/api/instances?version=2")) == std::set<std::string>{"new-c"});
    CHECK(ids_of(get_json(http, "/api/instances?version=1&runtimeStatus=Running")) ==
          std::set<std::string>{"old-b", "pinned-d"});
    CHECK(http.Get("/api/instances?version=-1")->status == 400);
    const json listed = json::parse(cli(both.endpoint(), "-o json list --version 1"));
    CHECK(ids_of(listed) == std::set<std::string>{"old-a", "old-b", "pinned-d"});
    const std::string table = cli(both.endpoint(), "status old-b");
    CHECK(table.find("Version:") != std::string::npos);
    const json started = json::parse(cli(both.endpoint(), "-o json start Order --input '\"f\"' --id cli-f --version 1"));
    CHECK(started.at("id") == "cli-f");
    CHECK(both.c().status("cli-f")->version == 1);
  }

  // Deploy 3: v2 only. The v1 instances wait (not fail) and are reported from the node's start;
  // v2 keeps working.
  {
    node_with v2(data, {2});
    const std::set<std::string> waiting_ids{"old-b", "pinned-d", "cli-f"};
    REQUIRE(eventually([&] {
      instance_query q;
      q.waiting_for_version = true;
      std::set<std::string> ids;
      for (const auto& r : v2.c().list(q).records) ids.insert(r.instance_id);
      return ids == waiting_ids;
    }, limit));
    v2.c().raise_event("old-b", "go", R"("go")");
    REQUIRE(eventually([&] {
      auto record = v2.c().status("old-b");
      return record && record->waiting_for_version();
    }, limit));
    const auto record = v2.c().status("old-b");
    CHECK(record->status == runtime_status::running);
    CHECK(record->failure->error_type == "VersionUnavailable");
    CHECK(record->failure->message.find("version 1 is not registered on this node") != std::string::npos);

    v2.c().start("Order", R"("g")", start_options{"new-g"});
    v2.c().raise_event("new-g", "go", R"("go")");
    CHECK(v2.c().wait_for_completion("new-g", limit).output == R"("v2:g:go")");

    auto http = v2.http();
    const json status = get_json(http, "/api/instances/old-b");
    CHECK(status.at("waitingForVersion") == true);
    CHECK(status.at("failureDetails").at("errorType") == "VersionUnavailable");
    CHECK(ids_of(get_json(http, "/api/instances?waitingForVersion=true")) == waiting_ids);
    const std::string metrics = http.Get("/metrics")->body;
    CHECK(metrics.find("perdure_instances_waiting_for_version 3\n") != std::string::npos);
    CHECK(metrics.find("perdure_instances_waiting_for_version_by_orchestration{name=\"Order\",version=\"1\"} 3\n") !=
          std::string::npos);
    CHECK(metrics.find("perdure_instance_waiting_for_version{instance_id=\"old-b\",name=\"Order\",version=\"1\"} 1\n") !=
          std::string::npos);
    const json waiting = json::parse(cli(v2.endpoint(), "-o json list --waiting-for-version"));
    CHECK(ids_of(waiting) == waiting_ids);
  }

  // Deploy 4: v1 is back. The waiting instance continues by itself, with the event it was sent.
  {
    node_with both(data, {1, 2});
    const auto done = both.c().wait_for_completion("old-b", limit);
    CHECK(done.status == runtime_status::completed);
    CHECK(done.output == R"("v1:b:go")");
    CHECK_FALSE(done.waiting_for_version());
    both.c().raise_event("pinned-d", "go", R"("go")");
    CHECK(both.c().wait_for_completion("pinned-d", limit).output == R"("v1:d:go")");
    auto http = both.http();
    REQUIRE(eventually([&] { return !both.c().status("cli-f")->waiting_for_version(); }, limit));
    CHECK(http.Get("/metrics")->body.find("perdure_instances_waiting_for_version 0\n") != std::string::npos);
  }
}
