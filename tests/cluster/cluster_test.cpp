// Real 3-node clusters of examples/cluster's node program on 127.0.0.1: routing, cross-node
// sub-orchestrations, activities on every node, kill -9 and restart, a lost worker node's leases,
// and the errors of a misconfigured node.
#include "local_cluster.hpp"
#include "runtime/node_fixture.hpp"
#include "support/instance_report.hpp"
#include "support/prometheus_sample.hpp"

#include <keys.hpp>

#include <doctest/doctest.h>
#include <httplib.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <sstream>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::child_process;
using testing_support::local_cluster;
using testing_support::wait_through_restarts;

namespace {

int expected_output(int seed) { return 6 * seed + 12; }  // examples/cluster: fan_and_child

// Every scheduled task and sub-orchestration has exactly one result; returns the problem or "".
std::string check_history(const history& events) {
  std::map<int32_t, int> tasks, subs;
  int started = 0;
  for (const auto& e : events) {
    if (std::holds_alternative<events::execution_started>(e.payload)) ++started;
    if (auto* s = std::get_if<events::task_scheduled>(&e.payload)) tasks.try_emplace(s->task_id, 0);
    if (auto* c = std::get_if<events::task_completed>(&e.payload)) ++tasks[c->task_id];
    if (auto* f = std::get_if<events::task_failed>(&e.payload)) ++tasks[f->task_id];
    if (auto* s = std::get_if<events::sub_orchestration_created>(&e.payload)) subs.try_emplace(s->task_id, 0);
    if (auto* c = std::get_if<events::sub_orchestration_completed>(&e.payload)) ++subs[c->task_id];
    if (auto* f = std::get_if<events::sub_orchestration_failed>(&e.payload)) ++subs[f->task_id];
  }
  if (started != 1) return std::to_string(started) + " execution_started events";
  for (auto [task, count] : tasks)
    if (count != 1) return "task " + std::to_string(task) + " has " + std::to_string(count) + " results";
  for (auto [task, count] : subs)
    if (count != 1) return "sub-orchestration " + std::to_string(task) + " has " + std::to_string(count) + " results";
  return {};
}

std::string child_of(const history& events) {
  for (const auto& e : events)
    if (auto* s = std::get_if<events::sub_orchestration_created>(&e.payload)) return s->instance_id;
  return {};
}

std::string id_of(int i) { return "o-" + std::to_string(i); }

void start_instances(std::vector<std::unique_ptr<cluster_client>>& clients, const std::string& name, int n) {
  for (int i = 0; i < n; ++i) {
    start_options options;
    options.instance_id = id_of(i);
    clients[i % clients.size()]->start(name, std::to_string(i), options);
  }
}

// Waits for every instance and checks its output, its history and its child's history. Returns
// how many parent/child pairs have their partitions on different nodes.
int verify_all(cluster_client& c, int n, uint32_t partitions, size_t members) {
  int cross_node = 0;
  for (int i = 0; i < n; ++i) {
    instance_record record;
    try {
      record = wait_through_restarts(c, id_of(i), 120s);
    } catch (const std::exception&) {
      MESSAGE(testing_support::describe_instance(c, id_of(i)));
      for (auto& s : c.cluster_stats())
        MESSAGE("node ", s.node_id, ": up ", s.members_up.size(), ", activities executed ", s.activities_executed,
                ", leased out ", s.activities_leased_out, ", re-dispatched ", s.activities_redispatched);
      throw;
    }
    REQUIRE_MESSAGE(record.status == runtime_status::completed, id_of(i), " ", to_string(record.status), " ",
                    record.failure ? record.failure->message : "");
    CHECK(record.output == std::to_string(expected_output(i)));
    auto events = c.history(id_of(i));
    auto problem = check_history(events);
    CHECK_MESSAGE(problem.empty(), id_of(i), ": ", problem);
    auto child = child_of(events);
    REQUIRE(!child.empty());
    auto child_problem = check_history(c.history(child));
    CHECK_MESSAGE(child_problem.empty(), child, ": ", child_problem);
    const auto parent_owner = storage::keys::partition_of(id_of(i), partitions) % members;
    const auto child_owner = storage::keys::partition_of(child, partitions) % members;
    cross_node += parent_owner != child_owner ? 1 : 0;
  }
  return cross_node;
}

// A client connected to each of the cluster's first `members` nodes, in member order.
std::vector<std::unique_ptr<cluster_client>> clients_of(const local_cluster& cluster, size_t members) {
  std::vector<std::unique_ptr<cluster_client>> clients;
  for (size_t i = 0; i < members; ++i) clients.push_back(cluster.client(i));
  return clients;
}

std::map<std::string, node_stats> stats_by_node(cluster_client& c) {
  std::map<std::string, node_stats> out;
  for (auto& s : c.cluster_stats()) out[s.node_id] = s;
  return out;
}

}  // namespace

TEST_CASE("a 3-node cluster runs 1000 orchestrations with fan-out and cross-node sub-orchestrations") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "4"}};
  cluster.start_all();
  auto clients = clients_of(cluster, 3);

  constexpr int n = 1000;
  start_instances(clients, "FanAndChild", n);
  const int cross_node = verify_all(*clients[1], n, 6, 3);
  MESSAGE("parent/child pairs on different nodes: ", cross_node);
  CHECK(cross_node > n / 3);

  auto stats = stats_by_node(*clients[0]);
  REQUIRE(stats.size() == 3);
  uint64_t executed = 0;
  for (auto& [id, s] : stats) {
    MESSAGE("node ", id, ": partitions ", s.partitions_owned, ", activities executed ", s.activities_executed,
            ", leased out ", s.activities_leased_out, ", messages out ", s.messages_out, " in ", s.messages_in);
    CHECK(s.activities_executed > 0);
    CHECK(s.partitions_owned == 2);
    CHECK(s.members_up.size() == 2);
    executed += s.activities_executed;
  }
  CHECK(executed >= 5 * n);  // 4 + 1 per parent/child pair (more only if some ran twice)

  // Reads are routed too: a merged, ordered listing of every node's instances, page by page.
  instance_query query;
  query.page_size = 250;
  std::set<std::string> seen;
  std::optional<std::pair<time_point, std::string>> previous;
  do {
    auto page = clients[2]->list(query);
    for (const auto& r : page.records) {
      auto key = std::make_pair(r.created_at, r.instance_id);
      if (previous) CHECK(*previous < key);
      previous = key;
      CHECK(seen.insert(r.instance_id).second);
    }
    query.continuation_token = page.continuation_token;
  } while (!query.continuation_token.empty());
  CHECK(seen.size() == 2 * n);

  // Errors cross the network with their type.
  CHECK_THROWS_AS(clients[0]->wait_for_completion("no-such-instance", 1s), instance_not_found);
  CHECK_THROWS_AS(clients[1]->start("NoSuchOrchestration", "1"), unknown_function_error);
  start_options again;
  again.instance_id = "already";
  // Slow on purpose: the second start must find the first one still running.
  clients[2]->start("SlowFanAndChild", "1", again);
  CHECK_THROWS_AS(clients[0]->start("SlowFanAndChild", "1", again), instance_already_exists);
  // The asynchronous start (the HTTP API's) delivers the same errors, found by the owning node.
  const auto failure_of_async_start = [](cluster_client& c, const std::string& name, const start_options& options) {
    std::promise<start_result> promise;
    auto delivered = promise.get_future();
    c.start_async(name, "1", options, [&promise](start_result r) { promise.set_value(std::move(r)); });
    REQUIRE(delivered.wait_for(60s) == std::future_status::ready);
    const start_result r = delivered.get();
    REQUIRE(std::holds_alternative<std::exception_ptr>(r));
    return std::get<std::exception_ptr>(r);
  };
  CHECK_THROWS_AS(std::rethrow_exception(failure_of_async_start(*clients[1], "NoSuchOrchestration", {})),
                  unknown_function_error);
  CHECK_THROWS_AS(std::rethrow_exception(failure_of_async_start(*clients[0], "SlowFanAndChild", again)),
                  instance_already_exists);
  CHECK(clients[1]->wait_for_completion("already", 60s).status == runtime_status::completed);
  CHECK(clients[0]->purge("already"));
  CHECK_FALSE(clients[1]->status("already"));
}

TEST_CASE("kill -9 of a node mid-run: after its restart everything finishes, exactly once") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "4"}};
  cluster.start_all();
  std::vector<std::unique_ptr<cluster_client>> clients;
  clients.push_back(cluster.client(0));
  clients.push_back(cluster.client(2));

  constexpr int n = 300;
  start_instances(clients, "SlowFanAndChild", n);
  std::this_thread::sleep_for(1500ms);
  cluster.restart(1, 1500ms);
  const int cross_node = verify_all(*clients[0], n, 6, 3);
  CHECK(cross_node > 0);
  for (auto& [id, s] : stats_by_node(*clients[1]))
    MESSAGE("node ", id, ": activities executed ", s.activities_executed, ", re-dispatched ", s.activities_redispatched);
}

TEST_CASE("activities with a heartbeat timeout are leased to other nodes too, where their heartbeats keep them alive") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "1"}};
  cluster.start_all();
  auto clients = clients_of(cluster, 3);

  // Each activity runs 8 s, longer than its 6 s heartbeat timeout: it completes only if its
  // heartbeats reach its partition. One worker per node: four activities of one instance cannot
  // all run on its partition's node.
  constexpr int n = 3;
  for (int i = 0; i < n; ++i) {
    start_options options;
    options.instance_id = id_of(i);
    clients[i]->start("BeatingFanOut", "4", options);  // four activities each
  }
  for (int i = 0; i < n; ++i) {
    auto record = wait_through_restarts(*clients[0], id_of(i), 300s);
    CHECK_MESSAGE(record.status == runtime_status::completed, testing_support::describe_instance(*clients[0], id_of(i)));
    CHECK(record.output == "10");  // 1 + 2 + 3 + 4, none timed out
  }
  uint64_t leased_out = 0;
  for (auto& [id, s] : stats_by_node(*clients[0])) leased_out += s.activities_leased_out;
  CHECK(leased_out > 0);
}

// What examples/cluster's AwaitCancellation printed for `instance_id`: "STARTED" or "CANCELLED",
// as "<node id>: <task id>" per attempt.
std::set<std::string> attempts_that_said(local_cluster& cluster, const std::string& what, const std::string& instance_id) {
  std::set<std::string> attempts;
  const auto marker = what + " " + instance_id + " ";
  for (const auto& line : cluster.output())
    if (auto at = line.find(marker); at != std::string::npos)
      attempts.insert(line.substr(0, line.find(':')) + ": " + line.substr(at + marker.size()));
  return attempts;
}

// True if an attempt of the instance ran on another node than its partition's (static ownership).
bool ran_elsewhere(const std::set<std::string>& attempts, const std::string& instance_id) {
  const std::string owner = std::string(1, static_cast<char>('a' + storage::keys::partition_of(instance_id, 6) % 3));
  return std::any_of(attempts.begin(), attempts.end(), [&](const std::string& a) { return a.rfind(owner + ":", 0) != 0; });
}

TEST_CASE("attempts leased to other nodes are cancelled when their instance ends and when they time out") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "1"}};
  cluster.start_all();
  auto clients = clients_of(cluster, 3);

  // Three attempts, one worker per node: two run on other nodes than the instance's partition's.
  clients[0]->start("WaitsForTermination", "3", start_options{"ended"});
  REQUIRE(testing_support::eventually([&] { return attempts_that_said(cluster, "STARTED", "ended").size() == 3; }));
  const auto started = attempts_that_said(cluster, "STARTED", "ended");
  CHECK(ran_elsewhere(started, "ended"));
  clients[1]->terminate("ended", "enough");
  CHECK(testing_support::eventually([&] { return attempts_that_said(cluster, "CANCELLED", "ended") == started; }));

  clients[0]->start("TimesOut", "3", start_options{"timed"});
  const auto record = wait_through_restarts(*clients[0], "timed", 120s);
  CHECK(record.output == "3");
  const auto timed_started = attempts_that_said(cluster, "STARTED", "timed");
  CHECK(ran_elsewhere(timed_started, "timed"));
  CHECK(testing_support::eventually([&] { return attempts_that_said(cluster, "CANCELLED", "timed") == timed_started; }));
}

TEST_CASE("an activity completed asynchronously is heartbeated and completed by its token through a node that does "
          "not own it") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "4"}};
  cluster.start_all();
  auto clients = clients_of(cluster, 3);

  // The activities run wherever a worker is free (leased to other nodes too) and print their tokens.
  constexpr int n = 6;
  for (int i = 0; i < n; ++i) clients[0]->start("Approval", "\"please\"", start_options{id_of(i)});
  std::map<std::string, std::string> tokens;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (tokens.size() < n && std::chrono::steady_clock::now() < deadline) {
    for (const auto& line : cluster.output())
      if (auto at = line.find("TASK TOKEN "); at != std::string::npos) {
        std::istringstream fields{line.substr(at + 11)};
        std::string id, token;
        fields >> id >> token;
        tokens[id] = token;
      }
  }
  REQUIRE(tokens.size() == n);

  for (int i = 0; i < n; ++i) {
    const auto owner = storage::keys::partition_of(id_of(i), 6) % 3;
    auto& elsewhere = *clients[(owner + 1) % 3];
    elsewhere.heartbeat_activity(tokens[id_of(i)], "{\"step\":1}");  // the external worker is alive
    elsewhere.complete_activity(tokens[id_of(i)], "\"yes " + std::to_string(i) + "\"");
    // The result ended the instance (it returns it): a second completion, through the third node, is too late.
    CHECK_THROWS_AS(clients[(owner + 2) % 3]->complete_activity(tokens[id_of(i)], "\"again\""), instance_finished);
    CHECK_THROWS_AS(clients[(owner + 2) % 3]->heartbeat_activity(tokens[id_of(i)], ""), instance_finished);
  }
  for (int i = 0; i < n; ++i) {
    auto record = wait_through_restarts(*clients[0], id_of(i), 60s);
    CHECK(record.status == runtime_status::completed);
    CHECK(record.output == "\"yes " + std::to_string(i) + "\"");
  }
  CHECK_THROWS_AS(clients[1]->complete_activity("not-a-token", "1"), invalid_argument_error);
}

TEST_CASE("a 5-node cluster spreads partitions and activities, and survives a kill -9 of a node") {
  local_cluster cluster{{"a", "b", "c", "d", "e"}, 10, {"--workers", "4"}};
  cluster.start_all();
  auto clients = clients_of(cluster, 5);

  constexpr int n = 100;
  start_instances(clients, "SlowFanAndChild", n);
  std::this_thread::sleep_for(1s);
  cluster.restart(3, 1s);
  const int cross_node = verify_all(*clients[4], n, 10, 5);
  CHECK(cross_node > n / 2);

  auto stats = stats_by_node(*clients[0]);
  REQUIRE(stats.size() == 5);
  for (auto& [id, s] : stats) {
    MESSAGE("node ", id, ": partitions ", s.partitions_owned, ", activities executed ", s.activities_executed,
            ", re-dispatched ", s.activities_redispatched);
    CHECK(s.partitions_owned == 2);
    CHECK(s.members_up.size() == 4);
    if (id != "d") CHECK(s.activities_executed > 0);  // d's counters restarted with it
  }
}

TEST_CASE("a node that only runs activities dies: its leased activities run elsewhere after the lease") {
  // Two partitions over three members: 'c' owns none and only runs the others' activities.
  local_cluster cluster{{"a", "b", "c"}, 2, {"--workers", "4", "--lease", "1500", "--heartbeat-timeout", "1000"}};
  cluster.start_all();
  std::vector<std::unique_ptr<cluster_client>> clients;
  clients.push_back(cluster.client(0));
  auto& client = clients[0];

  constexpr int n = 60;
  start_instances(clients, "SlowFanAndChild", n);
  // Kill 'c' while it holds leased work.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto stats = stats_by_node(*client);
    if (stats.count("c") && stats["c"].activities_executed >= 4) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
  cluster.kill(2);
  verify_all(*client, n, 2, 3);
  auto stats = stats_by_node(*client);
  CHECK(stats.size() == 2);
  CHECK(stats["a"].activities_redispatched + stats["b"].activities_redispatched > 0);
  CHECK(stats["a"].partitions_owned == 1);
}

TEST_CASE("a cluster node's /metrics counts members up and node-to-node traffic") {
  local_cluster cluster{{"a", "b", "c"}, 6, {"--workers", "2"}};
  cluster.enable_http();
  cluster.start_all();
  std::vector<std::unique_ptr<cluster_client>> clients;
  clients.push_back(cluster.client(0));
  start_instances(clients, "FanAndChild", 30);
  verify_all(*clients[0], 30, 6, 3);

  httplib::Client http("127.0.0.1", cluster.http_port(0));
  auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  const auto value = [&](const std::string& name) { return testing_support::sample_value(metrics->body, name); };
  CHECK(value("perdure_cluster_members_up") == 2);
  CHECK(value("perdure_cluster_messages_out_total") > 0);
  CHECK(value("perdure_cluster_messages_in_total") > 0);
  // A static hub: no replication, and a's partitions (0 and 3 of 6) run on a for good, in epoch 0.
  for (const char* name : {"perdure_cluster_takeovers_total", "perdure_cluster_leaderships_lost_total",
                           "perdure_cluster_assignments_changed_total", "perdure_cluster_log_records_followed_total",
                           "perdure_cluster_follower_lag_records", "perdure_cluster_coordinator"})
    CHECK_MESSAGE(value(name) == 0, name);
  for (int p = 0; p < 6; ++p) {
    const std::string label = "{partition=\"" + std::to_string(p) + "\"}";
    CHECK(value("perdure_partition_epoch" + label) == 0);
    CHECK_MESSAGE(value("perdure_partition_led_here" + label) == (p % 3 == 0 ? 1 : 0), p);
  }
  CHECK(metrics->body.find("# TYPE perdure_partition_led_here gauge\n") != std::string::npos);

  cluster.kill(2);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    metrics = http.Get("/metrics");
    REQUIRE(metrics);
    if (value("perdure_cluster_members_up") == 1) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(100ms);
  }
}

// Runs a node program to its exit; returns the exit code and its output (stdout and stderr).
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args) {
  std::string command = "exec";
  for (const auto& a : args) command += " '" + a + "'";
  child_process node{{"/bin/sh", "-c", command + " 2>&1"}};
  std::string output;
  while (auto line = node.read_line(60'000)) output += *line + "\n";
  return {node.wait(), output};
}

TEST_CASE("a node started with another partition count is refused with a clear error") {
  local_cluster cluster{{"a", "b"}, 4};
  cluster.launch(0);  // waits for b to join
  auto [code, output] = run_to_exit(cluster.args(1, 8));
  CHECK(code == 1);
  CHECK_MESSAGE(output.find("partition count mismatch") != std::string::npos, output);
  CHECK_MESSAGE(output.find("has 4") != std::string::npos, output);  // whichever side refused first
  CHECK_MESSAGE(output.find("has 8") != std::string::npos, output);
}

TEST_CASE("a node whose members do not answer, or that is not a member, gets a clear error") {
  local_cluster cluster{{"a", "b"}, 4};
  auto [code, output] = run_to_exit(cluster.args(0, 0, 1500));  // b never starts
  CHECK(code == 1);
  CHECK_MESSAGE(output.find("cannot join the hub: no other member answered in time") != std::string::npos, output);
  CHECK_MESSAGE(output.find("b@127.0.0.1:" + std::to_string(cluster.port(1))) != std::string::npos, output);

  auto args = cluster.args(0);
  args[2] = "stranger";
  auto [code2, output2] = run_to_exit(args);
  CHECK(code2 == 1);
  CHECK_MESSAGE(output2.find("'stranger' is not in --members") != std::string::npos, output2);
}

TEST_CASE("a call forwarded to a member that dies is answered at once as unavailable, not at its timeout") {
  local_cluster cluster{{"a", "b"}, 2, {"--workers", "2"}};
  cluster.start_all();
  auto through_a = cluster.client(0);
  std::string id;  // an instance of b's partition (partition p belongs to member p mod 2)
  for (int i = 0; storage::keys::partition_of(id = "held-" + std::to_string(i), 2) % 2 != 1; ++i) {
  }
  start_options options;
  options.instance_id = id;
  through_a->start("SlowFanAndChild", "1", options);
  through_a->suspend(id, "held, so that a wait for it stays open");
  // a forwards the wait to b; b dies while it is open. CAF does not fail a request whose remote
  // receiver's node dies, so before, the wait ran into its timeout (timeout_error after 60 s).
  std::jthread killer([&] {
    std::this_thread::sleep_for(1s);
    cluster.kill(1);
  });
  CHECK_THROWS_AS(through_a->wait_for_completion(id, 60s), unavailable_error);
}

TEST_CASE("a client's call under way when its own node dies fails at once as unavailable, as do its later calls") {
  local_cluster cluster{{"a", "b"}, 2, {"--workers", "2"}};
  cluster.start_all();
  auto through_b = cluster.client(1);
  start_options options;
  options.instance_id = "held-by-b";
  through_b->start("SlowFanAndChild", "1", options);
  through_b->suspend(options.instance_id, "held, so that a wait for it stays open");
  // The client's own connection drops: CAF leaves a request to a proxy whose node is gone
  // unanswered, so before, this wait ran into its timeout (timeout_error after 60 s). So did an
  // asynchronous wait under way.
  std::promise<wait_result> waited;
  through_b->wait_for_completion_async(options.instance_id, 60s,
                                       [&](wait_result result) { waited.set_value(std::move(result)); });
  std::jthread killer([&] {
    std::this_thread::sleep_for(1s);
    cluster.kill(1);
  });
  CHECK_THROWS_AS(through_b->wait_for_completion(options.instance_id, 60s), unavailable_error);
  killer.join();
  const auto waited_result = waited.get_future().get();
  REQUIRE(std::holds_alternative<std::exception_ptr>(waited_result));
  CHECK_THROWS_AS(std::rethrow_exception(std::get<std::exception_ptr>(waited_result)), unavailable_error);
  CHECK_THROWS_AS(through_b->status(options.instance_id), unavailable_error);
  std::promise<start_result> answer;
  through_b->start_async("SlowFanAndChild", "1", {}, [&](start_result result) { answer.set_value(std::move(result)); });
  const auto result = answer.get_future().get();
  REQUIRE(std::holds_alternative<std::exception_ptr>(result));
  CHECK_THROWS_AS(std::rethrow_exception(std::get<std::exception_ptr>(result)), unavailable_error);
}

TEST_CASE("restart and rewind are routed to the owning node, and their refusals cross the network with their type") {
  local_cluster cluster{{"a", "b"}, 4, {"--workers", "2"}};
  cluster.start_all();
  auto a = cluster.client(0);
  auto b = cluster.client(1);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {  // spread over both nodes' partitions
    start_options options;
    options.instance_id = "restart-" + std::to_string(i);
    ids.push_back(a->start("Chain", std::to_string(i), options));
  }
  for (const auto& id : ids) REQUIRE(a->wait_for_completion(id, 60s).status == runtime_status::completed);
  for (const auto& id : ids) {
    const auto before = b->status(id)->execution_id;
    b->restart(id);
    CHECK(b->status(id)->execution_id != before);  // durable when acknowledged, wherever it lives
  }
  for (const auto& id : ids) {
    const auto done = a->wait_for_completion(id, 60s);
    CHECK(done.status == runtime_status::completed);
    CHECK(done.output == id.substr(8));  // Noop returns its input
    bool restarted = false;
    for (const auto& e : a->history(id)) restarted = restarted || std::holds_alternative<events::execution_restarted>(e.payload);
    CHECK(restarted);
    CHECK_THROWS_AS(a->rewind(id, "not failed"), instance_status_conflict);
    CHECK_THROWS_AS(b->restart(id, restart_options{1}), invalid_argument_error);
  }
  CHECK_THROWS_AS(b->rewind("no-such-instance", "x"), instance_not_found);
}
