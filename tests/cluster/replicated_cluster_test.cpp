// Replicated clusters (--nats) of examples/cluster's node program on real nats-server processes,
// all on 127.0.0.1: three JetStream servers (tests/support/nats_cluster.hpp) and three nodes a, b, c
// with 6 partitions, each test on a hub of its own. What is lost: a node with its data dir, an owner
// that is stopped (SIGSTOP) until its partitions moved and then wakes up, a nats-server that leads
// partition streams, the coordinator and then the next one. Each time every acknowledged instance
// must complete once with the right output, each activity result and child result applied once
// (the histories), and `list` must return each instance once through every live node.
//
// Figures (takeover times) are printed, never asserted: the machines running this are shared.
#include "cli/node_process.hpp"
#include "local_cluster.hpp"
#include "support/instance_report.hpp"
#include "support/jetstream_options.hpp"
#include "support/nats_cluster.hpp"

#include <codec.hpp>
#include <jetstream.hpp>
#include <jetstream_assignment_table.hpp>
#include <jetstream_log.hpp>
#include <keys.hpp>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::local_cluster;
using testing_support::nats_cluster;
using testing_support::options_for;
using testing_support::wait_through_restarts;
using steady = std::chrono::steady_clock;

namespace {

constexpr uint32_t partition_count = 6;
constexpr size_t no_node = static_cast<size_t>(-1);

uint32_t partition_of(const std::string& id) { return storage::keys::partition_of(id, partition_count); }

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", s);
  return text;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

// The hub's assignment table and coordinator lease, read on the servers as an operator would with
// the nats CLI: which node owns each partition in which epoch, and which node coordinates.
class hub_tables {
 public:
  hub_tables(const nats_cluster& nats, const std::string& hub) : js_(options_for(nats)), table_(js_, hub, 3) {
    const std::string bucket = "perdure_" + hub + "_coordinator";
    jsErrCode code{};
    const natsStatus s =
        storage::retry_transient(js_, code, [&] { return js_KeyValue(&lease_, js_.context(), bucket.c_str()); });
    if (s != NATS_OK) storage::fail_jetstream(s, code, "cannot open " + bucket);
  }
  ~hub_tables() { kvStore_Destroy(lease_); }
  hub_tables(const hub_tables&) = delete;
  hub_tables& operator=(const hub_tables&) = delete;

  storage::jetstream_connection& connection() { return js_; }
  /// Throws store_error while the table cannot be read.
  std::optional<storage::partition_assignment> assignment(uint32_t p) {
    auto entry = table_.get(p);
    return entry ? std::optional{entry->assignment} : std::nullopt;
  }
  /// The node id that holds the coordinator role, "" when none does (or the lease cannot be read).
  std::string coordinator() {
    kvEntry* entry = nullptr;
    if (kvStore_Get(&entry, lease_, "coordinator") != NATS_OK) return {};
    std::string holder(static_cast<const char*>(kvEntry_Value(entry)), static_cast<size_t>(kvEntry_ValueLen(entry)));
    kvEntry_Destroy(entry);
    return holder;
  }

 private:
  storage::jetstream_connection js_;
  storage::jetstream_assignment_table table_;
  kvStore* lease_ = nullptr;
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Three nats-servers and the nodes a, b, c on them (the servers outlive the nodes); more nodes
// may join later.
struct replicated_hub {
  nats_cluster nats{3};
  std::string name;
  // Outside every data dir: each run of AddOne and SlowAddOne on any node (examples/cluster --ledger).
  std::filesystem::path ledger;
  local_cluster nodes;
  std::unique_ptr<hub_tables> tables;  // once the nodes made them

  // `extra_args`: more node flags, after the ones every test uses; `joining`: more nodes, started by
  // the test, with --advertise instead of --members.
  explicit replicated_hub(const std::string& test, const std::vector<std::string>& extra_args = {},
                          std::vector<std::string> joining = {})
      : name(test + "_" + std::to_string(::getpid())),
        ledger(std::filesystem::temp_directory_path() / ("perdure-ledger-" + name)),
        nodes(ids_with(joining), partition_count,
              std::vector<std::string>{"--workers", "4", "--nats", joined(nats.urls()), "--hub", name,
                                       "--heartbeat-timeout", "2000", "--lease", "4000", "--ledger", ledger.string()} +
                  extra_args) {
    for (size_t i = 3; i < 3 + joining.size(); ++i) nodes.set_joining(i);
    nodes.enable_http();
    nodes.set_log_level("info");
    nodes.start_all();
    tables = std::make_unique<hub_tables>(nats, name);
    wait_until_served();
  }

  // A node is ready once every partition has an owner, which may still be taking it over (and
  // refuses calls for it meanwhile): waits until each node answers a read on every partition.
  void wait_until_served(std::chrono::seconds limit = 60s) {
    const auto deadline = steady::now() + limit;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes.running(i)) continue;
      auto c = nodes.client(i);
      for (uint32_t p = 0; p < partition_count; ++p) {
        std::string id;
        for (int k = 0; id.empty() || partition_of(id) != p; ++k)
          id = "no-such-instance-" + std::to_string(k);
        for (;;) {
          try {
            const auto record = c->status(id);  // outside REQUIRE, which would catch its refusal
            REQUIRE_FALSE(record);
            break;
          } catch (const error& e) {
            REQUIRE_MESSAGE(steady::now() < deadline, "node ", nodes.id(i), " cannot read partition ", p, ": ",
                            e.what());
            std::this_thread::sleep_for(50ms);
          }
        }
      }
    }
  }

  ~replicated_hub() {
    std::error_code ignored;
    std::filesystem::remove(ledger, ignored);
  }

  static std::vector<std::string> ids_with(std::vector<std::string> joining) {
    joining.insert(joining.begin(), {"a", "b", "c"});
    return joining;
  }

  size_t index_of(const std::string& id) const {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes.id(i) == id) return i;
    return no_node;
  }
};

// ---- What the nodes say about themselves: /metrics and their logs ----

std::optional<std::string> metrics_of(local_cluster& nodes, size_t i) {
  httplib::Client http("127.0.0.1", nodes.http_port(i));
  http.set_connection_timeout(1, 0);
  http.set_read_timeout(2, 0);
  auto response = http.Get("/metrics");
  if (!response || response->status != 200) return std::nullopt;
  return response->body;
}

std::optional<double> sample(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + name.size() + 2));
}

// A sample of node i's /metrics, nullopt when the node does not answer or has no such sample.
std::optional<double> sample_of(local_cluster& nodes, size_t i, const std::string& name) {
  auto text = metrics_of(nodes, i);
  return text ? sample(*text, name) : std::nullopt;
}

// The nodes' log lines (each prefixed "<id>: ") from `from` on that contain `text`; `node` keeps
// one node's lines only.
std::vector<std::string> lines_with(local_cluster& nodes, const std::string& text, const std::string& node = {},
                                    size_t from = 0) {
  std::vector<std::string> out;
  const auto all = nodes.output();
  for (size_t k = from; k < all.size(); ++k)
    if (all[k].find(text) != std::string::npos && (node.empty() || all[k].rfind(node + ": ", 0) == 0))
      out.push_back(all[k]);
  return out;
}

void print_lines(const std::string& title, const std::vector<std::string>& lines) {
  std::string text = title + " (" + std::to_string(lines.size()) + "):";
  for (const auto& line : lines) text += "\n  " + line;
  MESSAGE(text);
}

// ---- Ownership ----

// Who owns each partition, by the assignment table: a node index (no_node when none) and an epoch.
struct placement {
  std::vector<size_t> owner;
  std::vector<uint64_t> epoch;

  std::vector<uint32_t> partitions_of(size_t node) const {
    std::vector<uint32_t> out;
    for (uint32_t p = 0; p < owner.size(); ++p)
      if (owner[p] == node) out.push_back(p);
    return out;
  }
  std::string describe(const local_cluster& nodes) const {
    std::string text;
    for (uint32_t p = 0; p < owner.size(); ++p)
      text += " p" + std::to_string(p) + "=" + (owner[p] == no_node ? "none" : nodes.id(owner[p])) + "/" +
              std::to_string(epoch[p]);
    return text;
  }
};

placement read_placement(replicated_hub& hub) {
  placement out{std::vector<size_t>(partition_count, no_node), std::vector<uint64_t>(partition_count, 0)};
  for (uint32_t p = 0; p < partition_count; ++p)
    if (auto a = hub.tables->assignment(p)) {
      out.owner[p] = hub.index_of(a->owner);
      out.epoch[p] = a->epoch;
    }
  return out;
}

// Waits until the table gives every partition to one of the `live` nodes and each of them leads
// its partitions: for a partition that moved (epoch 2 and up), its owner logged that it leads it in
// that epoch (an owner of epoch 1 led it before it said it was ready). Fails the test after
// `limit`. Reading the nodes' output meanwhile keeps their stdout pipes from filling up.
placement wait_for_leaders(replicated_hub& hub, const std::vector<size_t>& live, std::chrono::seconds limit = 60s) {
  const auto deadline = steady::now() + limit;
  std::string problem;
  for (;;) {
    try {
      const auto now = read_placement(hub);
      problem.clear();
      for (uint32_t p = 0; p < partition_count && problem.empty(); ++p) {
        if (std::ranges::find(live, now.owner[p]) == live.end())
          problem = "partition " + std::to_string(p) + " is not owned by a live node";
        else if (now.epoch[p] > 1 && lines_with(hub.nodes,
                                                "partition " + std::to_string(p) + ": led by this node in epoch " +
                                                    std::to_string(now.epoch[p]) + " (",
                                                hub.nodes.id(now.owner[p]))
                                         .empty())
          problem = "partition " + std::to_string(p) + " is not led by its owner yet";
      }
      if (problem.empty()) return now;
      problem += ";" + now.describe(hub.nodes);
    } catch (const storage::store_error& e) {
      problem = e.what();
    }
    if (steady::now() >= deadline) {
      // What the nodes logged about the partitions and the cluster, to say why in CI's output.
      print_lines("the nodes' warnings and what they said about partitions", lines_with(hub.nodes, "partition "));
      print_lines("the nodes' errors", lines_with(hub.nodes, "[error]"));
      print_lines("the nats-servers' warnings and errors", hub.nats.warnings());
    }
    REQUIRE_MESSAGE(steady::now() < deadline, "after ", limit.count(), " s: ", problem);
    std::this_thread::sleep_for(50ms);
  }
}

// The node among `live` that holds the coordinator role; fails the test after `limit`.
size_t wait_for_coordinator(replicated_hub& hub, const std::vector<size_t>& live, std::chrono::seconds limit = 30s) {
  const auto deadline = steady::now() + limit;
  for (;;) {
    const size_t holder = hub.index_of(hub.tables->coordinator());
    if (std::ranges::find(live, holder) != live.end()) return holder;
    hub.nodes.output();
    REQUIRE_MESSAGE(steady::now() < deadline, "no live node holds the coordinator role after ", limit.count(), " s");
    std::this_thread::sleep_for(50ms);
  }
}

// ---- Instances ----

int expected_output(int seed) { return 6 * seed + 12; }  // examples/cluster: fan_and_child

struct instance_spec {
  std::string id;
  std::string name;  // FanAndChild or SlowFanAndChild
  int seed = 0;
};

// `count` specs whose ids hash to one of `partitions` (any partition when empty), seeds from
// `first_seed` on, alternating fast and slow fan-outs unless `name` is given.
std::vector<instance_spec> specs_on(const std::string& prefix, int count, int first_seed,
                                    const std::vector<uint32_t>& partitions = {}, const std::string& name = {}) {
  std::vector<instance_spec> out;
  for (int k = 0; static_cast<int>(out.size()) < count; ++k) {
    const std::string id = prefix + "-" + std::to_string(k);
    if (!partitions.empty() && std::ranges::find(partitions, partition_of(id)) == partitions.end()) continue;
    const int seed = first_seed + static_cast<int>(out.size());
    out.push_back({id, name.empty() ? (seed % 2 ? "SlowFanAndChild" : "FanAndChild") : name, seed});
  }
  return out;
}

// One attempt; true when the node acknowledged the start. A refused start (its partition's owner
// is unreachable or being replaced) or an unanswered one is unknown: the instance may exist.
bool try_start(cluster_client& c, const instance_spec& s, std::string* why = nullptr) {
  start_options options;
  options.instance_id = s.id;
  try {
    c.start(s.name, std::to_string(s.seed), options);
    return true;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return false;
  }
}

// Starts it while every node is up: it must be acknowledged at once.
void start_now(cluster_client& c, const instance_spec& s) {
  std::string why;
  REQUIRE_MESSAGE(try_start(c, s, &why), "cannot start ", s.id, ": ", why);
}

// Starts it, retrying until acknowledged; an attempt whose answer was lost may have started it,
// which its status tells before the next attempt (a second start of a finished instance would be
// a second execution).
void start_until_acknowledged(cluster_client& c, const instance_spec& s, std::chrono::seconds limit = 60s) {
  const auto deadline = steady::now() + limit;
  std::string why;
  while (!try_start(c, s, &why)) {
    try {
      if (c.status(s.id)) return;
    } catch (const std::exception&) {
    }
    REQUIRE_MESSAGE(steady::now() < deadline, "cannot start ", s.id, ": ", why);
    std::this_thread::sleep_for(100ms);
  }
}

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
  if (tasks.empty()) return "no task scheduled";
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

// Reads retried while a partition moves (refused as unavailable for a few seconds).
template <class Read>
auto read_retrying(Read read, std::chrono::seconds limit = 30s) {
  const auto deadline = steady::now() + limit;
  for (;;) {
    try {
      return read();
    } catch (const error&) {
      if (steady::now() > deadline) throw;
      std::this_thread::sleep_for(200ms);
    }
  }
}

// Waits for each instance through `c`; checks its output, that each activity result and its
// child's result were applied once (its history), and its child's history. Returns the ids of the
// instances and of their children: what `list` must return.
std::set<std::string> verify_instances(cluster_client& c, const std::vector<instance_spec>& specs) {
  std::set<std::string> ids;
  for (const auto& s : specs) {
    instance_record record;
    try {
      record = wait_through_restarts(c, s.id, 90s);
    } catch (const std::exception&) {
      MESSAGE(testing_support::describe_instance(c, s.id));
      throw;
    }
    REQUIRE_MESSAGE(record.status == runtime_status::completed, s.id, " ", to_string(record.status), " ",
                    record.failure ? record.failure->message : "");
    CHECK_MESSAGE(record.output == std::to_string(expected_output(s.seed)), s.id, " output ", record.output);
    const auto events = read_retrying([&] { return c.history(s.id); });
    const auto problem = check_history(events);
    CHECK_MESSAGE(problem.empty(), s.id, ": ", problem);
    const auto child = child_of(events);
    REQUIRE_MESSAGE(!child.empty(), s.id, " has no sub-orchestration");
    const auto child_problem = check_history(read_retrying([&] { return c.history(child); }));
    CHECK_MESSAGE(child_problem.empty(), child, ": ", child_problem);
    ids.insert(s.id);
    ids.insert(child);
  }
  return ids;
}

// Against the ledger of activity runs: every AddOne/SlowAddOne result in the histories of `ids`
// comes from a run that happened, and nothing ran for an instance that does not exist. A task runs
// again only when its node died with it in flight (or before its result was committed); the number
// of such runs is printed.
void check_ledger(cluster_client& c, const std::set<std::string>& ids, const std::filesystem::path& ledger) {
  std::map<std::pair<std::string, int32_t>, int> runs;
  std::ifstream in(ledger);
  std::string instance;
  int32_t task = 0;
  while (in >> instance >> task) ++runs[{instance, task}];
  size_t results = 0, reruns = 0;
  for (const auto& id : ids) {
    const auto events = read_retrying([&] { return c.history(id); });
    std::set<int32_t> counted;
    for (const auto& e : events)
      if (auto* s = std::get_if<events::task_scheduled>(&e.payload); s && s->name.find("AddOne") != std::string::npos)
        counted.insert(s->task_id);
    for (const auto& e : events) {
      auto* done = std::get_if<events::task_completed>(&e.payload);
      if (!done || !counted.contains(done->task_id)) continue;
      ++results;
      const auto it = runs.find({id, done->task_id});
      CHECK_MESSAGE(it != runs.end(), id, " has a result for task ", done->task_id, " that never ran");
      if (it != runs.end()) reruns += static_cast<size_t>(it->second - 1);
    }
  }
  for (const auto& [key, count] : runs)
    CHECK_MESSAGE(ids.contains(key.first), "task ", key.second, " ran for ", key.first, ", which does not exist");
  MESSAGE("ledger: ", results, " activity results, each from a run that happened; ", reruns,
          " runs again of a task whose node died with it in flight");
}

// The instances of `unknown` (starts that were not acknowledged) that exist after all.
std::vector<instance_spec> existing(cluster_client& c, const std::vector<instance_spec>& unknown) {
  std::vector<instance_spec> out;
  for (const auto& s : unknown)
    if (read_retrying([&] { return c.status(s.id); })) out.push_back(s);
  return out;
}

// Lists every instance through `c`, page by page: each of `expected` exactly once, nothing else.
void check_listing(cluster_client& c, const std::set<std::string>& expected, const std::string& through) {
  std::map<std::string, int> seen;
  instance_query query;
  query.page_size = 64;
  size_t pages = 0;
  do {
    auto page = read_retrying([&] { return c.list(query); });
    ++pages;
    for (const auto& r : page.records) ++seen[r.instance_id];
    query.continuation_token = page.continuation_token;
    REQUIRE(pages < 1000);
  } while (!query.continuation_token.empty());
  int missing = 0, twice = 0, unexpected = 0;
  std::string example;
  for (const auto& id : expected)
    if (!seen.contains(id)) {
      ++missing;
      if (example.empty()) example = "missing " + id;
    }
  for (const auto& [id, count] : seen) {
    if (count > 1) {
      ++twice;
      if (example.empty()) example = id + " listed " + std::to_string(count) + " times";
    }
    if (!expected.contains(id)) {
      ++unexpected;
      if (example.empty()) example = "unexpected " + id;
    }
  }
  CHECK_MESSAGE(missing + twice + unexpected == 0, "list through ", through, ": ", missing, " missing, ", twice,
                " listed more than once, ", unexpected, " unexpected of ", expected.size(), " (", example, ")");
}

void check_listing_everywhere(local_cluster& nodes, const std::vector<size_t>& live,
                              const std::set<std::string>& expected) {
  for (size_t i : live) check_listing(*nodes.client(i), expected, "node " + nodes.id(i));
}

// Starts `specs` through `c` in a thread of its own, recording which starts were acknowledged.
class starter {
 public:
  starter(std::unique_ptr<cluster_client> c, std::vector<instance_spec> specs,
          std::chrono::milliseconds pause = 0ms)
      : thread_([this, c = std::move(c), specs = std::move(specs), pause] {
          for (const auto& s : specs) {
            const auto begun = steady::now();
            std::string why;
            if (try_start(*c, s, &why)) {
              acknowledged.push_back(s);
            } else {
              unknown.push_back(s);
              if (reasons.size() < 3) reasons.push_back(s.id + ": " + why);
            }
            longest = std::max(longest, seconds_since(begun));
            if (pause > 0ms) std::this_thread::sleep_for(pause);
          }
        }) {}
  ~starter() {
    if (thread_.joinable()) thread_.join();
  }
  void join() { thread_.join(); }

  std::vector<instance_spec> acknowledged, unknown;  // read after join()
  std::vector<std::string> reasons;                   // of the first refusals
  double longest = 0;                                // the slowest start, in seconds

 private:
  std::thread thread_;
};

std::vector<instance_spec> operator+(std::vector<instance_spec> a, const std::vector<instance_spec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

// ---- The assignment table, read as the tests of moves and rebalancing wait on it ----

namespace {

using table_rows = std::vector<storage::partition_assignment>;

// Waits until the assignment table (every partition has an entry) satisfies `done`; fails the
// test with `what` after `limit`.
table_rows wait_for_table(replicated_hub& hub, const std::string& what, const std::function<bool(const table_rows&)>& done,
                          std::chrono::seconds limit = 90s) {
  const auto deadline = steady::now() + limit;
  std::string last;
  for (;;) {
    try {
      table_rows rows;
      for (uint32_t p = 0; p < partition_count; ++p)
        if (auto a = hub.tables->assignment(p)) rows.push_back(*a);
      if (rows.size() == partition_count && done(rows)) return rows;
      last.clear();
      for (uint32_t p = 0; p < rows.size(); ++p)
        last += " p" + std::to_string(p) + "=" + rows[p].owner + "/" + std::to_string(rows[p].epoch) +
                (rows[p].moving_to.empty() ? "" : "->" + rows[p].moving_to);
    } catch (const storage::store_error& e) {
      last = e.what();
    }
    hub.nodes.output();  // keeps the nodes' stdout pipes from filling up
    if (steady::now() >= deadline) print_lines("what the nodes said about partitions", lines_with(hub.nodes, "partition "));
    REQUIRE_MESSAGE(steady::now() < deadline, "after ", limit.count(), " s, not yet: ", what, ";", last);
    std::this_thread::sleep_for(100ms);
  }
}

size_t owned_by(const table_rows& rows, const std::string& node) {
  return static_cast<size_t>(std::ranges::count_if(rows, [&](const auto& a) { return a.owner == node; }));
}

bool no_move_under_way(const table_rows& rows) {
  return std::ranges::all_of(rows, [](const auto& a) { return a.moving_to.empty(); });
}

// Waits until the balancer is done with the nodes `live` (a node that came back owning nothing
// gets partitions one move at a time): no move under way, the load even to within one, every
// partition led, and every node's view past the last flip. A listing gathered across a flip can
// miss the moving partition (docs/architecture.md, "Reads"), so the listing checks run after it.
placement settle_rebalance(replicated_hub& hub, const std::vector<size_t>& live) {
  wait_for_table(hub, "the rebalance is done", [&](const table_rows& rows) {
    std::vector<size_t> counts;
    for (size_t i : live) counts.push_back(owned_by(rows, hub.nodes.id(i)));
    return no_move_under_way(rows) && std::ranges::max(counts) <= std::ranges::min(counts) + 1;
  });
  const auto settled = wait_for_leaders(hub, live);
  std::this_thread::sleep_for(1s);  // five replica manager rounds
  return settled;
}

}  // namespace

TEST_CASE("replicated cluster: a machine lost with its disks (a node and its nats-server) is taken over, rejoins "
          "empty, catches up from the logs and ends up serving every partition") {
  replicated_hub hub("lost_disk");
  auto& nodes = hub.nodes;
  constexpr size_t a = 0, b = 1, c = 2;
  const auto before = wait_for_leaders(hub, {a, b, c});
  const auto b_partitions = before.partitions_of(b);
  REQUIRE_MESSAGE(!b_partitions.empty(), before.describe(nodes));

  auto through_a = nodes.client(a);
  // 2,000 instances in all: 1,200 before the loss (60 of them with slow activities, in flight when
  // it happens), 800 during the takeover.
  auto acknowledged = specs_on("lost", 1140, 0, {}, "FanAndChild") + specs_on("lost-slow", 60, 5000, {}, "SlowFanAndChild");
  for (const auto& s : acknowledged) start_now(*through_a, s);
  std::this_thread::sleep_for(500ms);  // activities in flight everywhere

  // The machine of b goes, with both disks: the node's data dir and its nats-server's store.
  constexpr int b_server = 1;
  const auto killed_at = steady::now();
  nodes.kill(b);
  hub.nats.kill(b_server);
  nodes.wipe(b);
  hub.nats.wipe(b_server);
  // More starts through a meanwhile: those for b's partitions are refused until they moved.
  starter more(nodes.client(a), specs_on("lost-during", 800, 10000, {}, "FanAndChild"));

  const auto moved = wait_for_leaders(hub, {a, c});
  const double led_after = seconds_since(killed_at);
  // An instance on one of b's former partitions, started through a as soon as it is taken, completes.
  auto probes = specs_on("lost-probe", 1, 50000, {b_partitions[0]}, "FanAndChild");
  start_until_acknowledged(*through_a, probes[0]);
  const double probe_started_after = seconds_since(killed_at);
  // (A wait is answered "retry" when the partition's actor stops under it: the partition moved again.)
  CHECK(wait_through_restarts(*through_a, probes[0].id, 60s).output == std::to_string(expected_output(probes[0].seed)));
  const double probe_after = seconds_since(killed_at);
  MESSAGE("takeover after the kill -9 of b and of its nats-server (heartbeat timeout 2 s): its partitions led again "
          "by a and c after ",
          seconds_text(led_after), "; an instance on partition ", b_partitions[0], " (b's) started after ",
          seconds_text(probe_started_after), " and completed after ", seconds_text(probe_after),
          " (behind the queued activities);", moved.describe(nodes));
  for (uint32_t p : b_partitions) CHECK(moved.epoch[p] > before.epoch[p]);
  print_lines("the coordinator's moves", lines_with(nodes, "moving it to"));
  print_lines("takeovers", lines_with(nodes, "led by this node in epoch"));

  more.join();
  MESSAGE("starts through a during the takeover: ", more.acknowledged.size(), " acknowledged, ", more.unknown.size(),
          " refused (b's partitions)");
  acknowledged = acknowledged + more.acknowledged + probes;

  // A fresh machine in its place: a nats-server under a new name, the lost one removed as a
  // JetStream peer (an operator's step), and b, all empty.
  hub.nats.replace(b_server, "n3");
  hub.nats.remove_peer("n1");
  const auto restarted_at = steady::now();
  nodes.start(b);
  MESSAGE("b restarted on an empty data dir, its machine's nats-server as n3 on an empty store, ready after ",
          seconds_text(seconds_since(restarted_at)));
  // JetStream gives n1's replicas to n3: every partition's log, the assignment table and the
  // coordinator lease are on three servers again.
  std::vector<std::string> streams{"KV_perdure_" + hub.name + "_assignments", "KV_perdure_" + hub.name + "_coordinator"};
  for (uint32_t p = 0; p < partition_count; ++p) streams.push_back("perdure_" + hub.name + "_p" + std::to_string(p));
  for (const auto& stream : streams) {
    const std::vector<std::string> healed{"n0", "n2", "n3"};
    std::vector<std::string> replicas;
    const auto deadline = steady::now() + 60s;
    while (steady::now() < deadline && (replicas = hub.nats.current_replicas(stream)) != healed) {
      nodes.output();
      std::this_thread::sleep_for(200ms);
    }
    std::string names;
    for (const auto& r : replicas) names += " " + r;
    CHECK_MESSAGE(replicas == healed, "stream ", stream, " has current replicas", names);
  }
  MESSAGE("every partition's log and both KV buckets had three current replicas (n0 n2 n3) ",
          seconds_text(seconds_since(restarted_at)), " after n1's removal");
  auto all = acknowledged + existing(*through_a, more.unknown);
  const size_t started_anyway = all.size() - acknowledged.size();
  MESSAGE(started_anyway, " refused starts had started after all");
  const auto expected = verify_instances(*through_a, all);
  settle_rebalance(hub, {a, b, c});  // b came back owning nothing
  check_listing_everywhere(nodes, {a, b, c}, expected);
  check_ledger(*through_a, expected, hub.ledger);

  // c goes too: its partitions move to a or b; b, which took partitions over from the others when it
  // came back empty (the rebalance) and follows the rest, reads their logs.
  const auto c_killed_at = steady::now();
  nodes.kill(c);
  wait_for_leaders(hub, {a, b});
  MESSAGE("after the kill -9 of c, its partitions led by a after ", seconds_text(seconds_since(c_killed_at)));
  auto through_b = nodes.client(b);
  verify_instances(*through_b, all);
  check_listing_everywhere(nodes, {a, b}, expected);
  for (uint32_t p = 0; p < partition_count; ++p) {
    const auto entry = hub.tables->assignment(p);
    REQUIRE(entry);
    CHECK_MESSAGE((entry->owner == "b" || std::ranges::find(entry->followers, "b") != entry->followers.end()),
                  "b neither owns nor follows partition ", p);
  }
  // Until b applied the logs (by its /metrics; a fixed pause when it has no such figure).
  const auto deadline = steady::now() + 20s;
  std::optional<double> followed, lag;
  while (steady::now() < deadline) {
    followed = sample_of(nodes, b, "perdure_cluster_log_records_followed_total");
    lag = sample_of(nodes, b, "perdure_cluster_follower_lag_records");
    if (!followed || !lag) {
      std::this_thread::sleep_for(3s);
      break;
    }
    if (*followed > 0 && *lag == 0) break;
    nodes.output();
    std::this_thread::sleep_for(100ms);
  }
  if (followed && lag)
    MESSAGE("b applied ", *followed, " log records as a follower (lag ", *lag, ") ",
            seconds_text(seconds_since(c_killed_at)), " after the kill of c");

  // And a, the last node whose disk has the data: b serves everything from what it read in the logs.
  const auto a_killed_at = steady::now();
  nodes.kill(a);
  const auto last = wait_for_leaders(hub, {b});
  MESSAGE("after the kill -9 of a, b leads every partition after ", seconds_text(seconds_since(a_killed_at)), ";",
          last.describe(nodes));
  print_lines("b's takeovers (records it still had to apply first)", lines_with(nodes, "led by this node", "b"));
  verify_instances(*through_b, all);
  check_listing(*through_b, expected, "node b alone");
}

TEST_CASE("replicated cluster: a zombie owner woken after its partitions moved is fenced by the log and releases "
          "nothing") {
  replicated_hub hub("zombie");
  auto& nodes = hub.nodes;
  const auto owners = wait_for_leaders(hub, {0, 1, 2});
  const size_t coordinator = wait_for_coordinator(hub, {0, 1, 2});
  // The zombie is an owner that is not the coordinator (losing that is another test).
  size_t zombie = no_node;
  for (size_t i = 0; i < 3 && zombie == no_node; ++i)
    if (i != coordinator && !owners.partitions_of(i).empty()) zombie = i;
  REQUIRE(zombie != no_node);
  std::vector<size_t> live;
  for (size_t i = 0; i < 3; ++i)
    if (i != zombie) live.push_back(i);
  const auto zombie_partitions = owners.partitions_of(zombie);
  auto through = nodes.client(live[0]);

  // Slow instances on the zombie's partitions, so that it has activities in flight when it stops.
  auto before = specs_on("zombie-before", 40, 0, zombie_partitions, "SlowFanAndChild");
  for (const auto& s : before) start_now(*through, s);
  std::this_thread::sleep_for(700ms);
  const auto started = sample_of(nodes, zombie, "perdure_activities_started_total").value_or(-1);
  const auto completed = sample_of(nodes, zombie, "perdure_activities_completed_total").value_or(-1);
  const auto stopped_at = steady::now();
  nodes.stop_signal(zombie);
  const double in_flight = started - completed;
  MESSAGE("node ", nodes.id(zombie), " stopped with ", in_flight, " activities in flight on its workers;",
          owners.describe(nodes));

  const auto moved = wait_for_leaders(hub, live);
  MESSAGE("the stopped node's partitions led by the others after ", seconds_text(seconds_since(stopped_at)), ";",
          moved.describe(nodes));
  print_lines("the coordinator's moves", lines_with(nodes, "moving it to"));

  // More instances on its former partitions, committed by their new owners.
  auto after = specs_on("zombie-after", 20, 1000, zombie_partitions, "FanAndChild");
  for (const auto& s : after) start_until_acknowledged(*through, s);
  for (const auto& s : after) CHECK(through->wait_for_completion(s.id, 60s).status == runtime_status::completed);

  const size_t lines_before = nodes.output().size();
  const auto woken_at = steady::now();
  nodes.continue_signal(zombie);
  // It finds out that it no longer owns them: its appends are refused by the log (fenced), or its
  // replica manager reads the new owners first; either way it stops them and follows.
  const auto deadline = steady::now() + 30s;
  std::set<uint32_t> given_up;
  while (given_up.size() < zombie_partitions.size()) {
    // Either it learns the new owner from the table, or (acting first on the assignment it read
    // before the stop) it finds the new owner's epoch in the log and refuses to take it back.
    for (uint32_t p : zombie_partitions)
      for (const std::string said : {": now owned by", " was not taken over in epoch"})
        if (!lines_with(nodes, "partition " + std::to_string(p) + said, nodes.id(zombie), lines_before).empty())
          given_up.insert(p);
    if (steady::now() > deadline) break;
    std::this_thread::sleep_for(50ms);
  }
  MESSAGE("the woken node stopped leading its former partitions after ", seconds_text(seconds_since(woken_at)));
  CHECK_MESSAGE(given_up.size() == zombie_partitions.size(), "the woken node says it stopped leading only ",
                given_up.size(), " of its ", zombie_partitions.size(), " former partitions");
  const auto zombie_lines = lines_with(nodes, "", nodes.id(zombie), lines_before);
  print_lines("the woken node's log", zombie_lines);
  const auto refused = std::ranges::count_if(zombie_lines, [](const std::string& l) {
    return l.find("stopped being led here") != std::string::npos || l.find("not led by this node") != std::string::npos;
  });
  MESSAGE("commits of the woken node refused: ", refused);
  // Reported, not failed on (not about safety): a node that is a follower again is healthy, and its
  // fenced partitions count as leaderships lost.
  {
    httplib::Client http("127.0.0.1", nodes.http_port(zombie));
    auto health = http.Get("/api/health");
    REQUIRE(health);
    WARN_MESSAGE(health->status == 200, "the woken node's /api/health answers ", health->status, " ", health->body);
  }
  if (const auto lost = sample_of(nodes, zombie, "perdure_cluster_leaderships_lost_total"))
    WARN_MESSAGE(*lost >= static_cast<double>(refused), "perdure_cluster_leaderships_lost_total is ", *lost,
                 " after ", refused, " partitions of the node were fenced");

  // It does not take its former partitions back by itself: one it leads again was given to it by
  // the coordinator, in a newer epoch (the balancer moves partitions to the member owning none, and
  // picks those it follows first).
  // The balancer gives the woken node (owning none) partitions, one move at a time.
  const auto final_owners = settle_rebalance(hub, {0, 1, 2});
  for (uint32_t p : zombie_partitions)
    CHECK_MESSAGE((final_owners.owner[p] != zombie || final_owners.epoch[p] > moved.epoch[p]), "partition ", p,
                  " is led by the woken node in epoch ", final_owners.epoch[p], ", that of its takeover was ",
                  moved.epoch[p]);

  const auto expected = verify_instances(*through, before + after);
  check_listing_everywhere(nodes, {0, 1, 2}, expected);

  // The fence itself, read from the logs: after the new owner's epoch-start record no record of an
  // older epoch follows, so none of the woken node's appends landed.
  for (uint32_t p : zombie_partitions) {
    storage::jetstream_log log(hub.tables->connection(), hub.name, p, 3);
    std::map<uint64_t, size_t> records_by_epoch;
    uint64_t epoch = 0, stale = 0;
    std::string new_owner, buffer;
    for (uint64_t from = 1;;) {
      const auto records = log.read(from, 256);
      if (records.empty()) break;
      for (const auto& r : records) {
        const auto entry = storage::codec::decode_log_entry(r.bytes, {"log", std::to_string(r.seq)}, buffer);
        if (entry.epoch < epoch) ++stale;
        epoch = std::max(epoch, entry.epoch);
        if (entry.is_epoch_start() && entry.epoch > 1) new_owner = entry.epoch_start_owner;
        ++records_by_epoch[entry.epoch];
        from = r.seq + 1;
      }
    }
    std::string counts;
    for (auto [e, n] : records_by_epoch) counts += " epoch " + std::to_string(e) + ": " + std::to_string(n);
    MESSAGE("log of partition ", p, " (records per epoch):", counts);
    CHECK_MESSAGE(stale == 0, stale, " records of an older epoch follow a newer one in the log of partition ", p);
    CHECK(epoch >= moved.epoch[p]);
    CHECK(!new_owner.empty());
  }
}

TEST_CASE("replicated cluster: kill -9 of a JetStream stream leader (a nats-server, not a node) under load") {
  replicated_hub hub("stream_leader");
  auto& nodes = hub.nodes;
  const auto before = wait_for_leaders(hub, {0, 1, 2});

  // Which server leads each partition's stream.
  const auto stream_leader = [&](uint32_t p) {
    const std::string stream = "perdure_" + hub.name + "_p" + std::to_string(p);
    jsStreamInfo* info = nullptr;
    jsErrCode code{};
    std::string leader;
    if (js_GetStreamInfo(&info, hub.tables->connection().context(), stream.c_str(), nullptr, &code) == NATS_OK &&
        info->Cluster && info->Cluster->Leader)
      leader = info->Cluster->Leader;
    if (info) jsStreamInfo_Destroy(info);
    return leader;
  };
  const std::string victim = stream_leader(0);
  REQUIRE_MESSAGE(!victim.empty(), "no leader for the stream of partition 0");
  const int server = hub.nats.index_of(victim);
  REQUIRE(server >= 0);
  std::string led;
  for (uint32_t p = 0; p < partition_count; ++p)
    if (stream_leader(p) == victim) led += " p" + std::to_string(p);

  // Load through every node, paced so that it goes on across the kill and the elections after it.
  std::vector<std::unique_ptr<starter>> load;
  for (size_t i = 0; i < 3; ++i)
    load.push_back(std::make_unique<starter>(
        nodes.client(i), specs_on("leader-" + std::to_string(i), 50, 1000 * static_cast<int>(i)), 50ms));
  std::this_thread::sleep_for(1500ms);
  const auto killed_at = steady::now();
  hub.nats.kill(server);
  MESSAGE("killed nats-server ", victim, ", the leader of the partition streams", led);
  // An instance on partition 0 (its stream lost its leader) right after the kill.
  auto through = nodes.client(0);
  auto probe = specs_on("leader-probe", 1, 9000, {0}, "FanAndChild");
  start_until_acknowledged(*through, probe[0]);
  const double started_after = seconds_since(killed_at);
  CHECK(through->wait_for_completion(probe[0].id, 60s).status == runtime_status::completed);
  MESSAGE("an instance on partition 0 started ", seconds_text(started_after), " and completed ",
          seconds_text(seconds_since(killed_at)), " after the kill");

  std::vector<instance_spec> acknowledged = probe, unknown;
  std::string reasons;
  double longest = 0;
  for (auto& s : load) {
    s->join();
    acknowledged = acknowledged + s->acknowledged;
    unknown = unknown + s->unknown;
    longest = std::max(longest, s->longest);
    for (const auto& r : s->reasons) reasons += "\n  " + r;
  }
  MESSAGE("the slowest start under load took ", seconds_text(longest));
  CHECK_MESSAGE(unknown.empty(), unknown.size(), " starts failed while one of three nats-servers was down:", reasons);
  hub.nats.restart(server);

  const auto all = acknowledged + existing(*through, unknown);
  const auto expected = verify_instances(*through, all);
  check_listing_everywhere(nodes, {0, 1, 2}, expected);
  // No node was lost, so no partition should have moved, and none stopped for good. (A node that
  // misses heartbeats for 2 s on a loaded machine does lose its partitions: reported, not failed on.)
  const auto after = wait_for_leaders(hub, {0, 1, 2});
  MESSAGE("after the restart of ", victim, ":", after.describe(nodes));
  WARN_MESSAGE(after.epoch == before.epoch, "partitions moved although no node was lost: before", before.describe(nodes));
  if (after.epoch == before.epoch)
    for (size_t i = 0; i < 3; ++i)
      CHECK_MESSAGE(sample_of(nodes, i, "perdure_failed_partitions") == 0, "node ", nodes.id(i));
  print_lines("partitions that stopped being led", lines_with(nodes, "stopped being led here"));
}

TEST_CASE("replicated cluster: losing the coordinator and a follower leaves the last node coordinating, owning and "
          "serving every partition") {
  replicated_hub hub("coordinator");
  auto& nodes = hub.nodes;
  wait_for_leaders(hub, {0, 1, 2});
  const size_t first = wait_for_coordinator(hub, {0, 1, 2});
  std::vector<size_t> live;
  for (size_t i = 0; i < 3; ++i)
    if (i != first) live.push_back(i);

  auto through = nodes.client(live[0]);
  auto acknowledged = specs_on("coord", 60, 0);
  for (const auto& s : acknowledged) start_now(*through, s);
  std::this_thread::sleep_for(500ms);

  const auto first_killed_at = steady::now();
  nodes.kill(first);
  const size_t second = wait_for_coordinator(hub, live);
  const double role_after = seconds_since(first_killed_at);
  const auto moved = wait_for_leaders(hub, live);
  MESSAGE("kill -9 of the coordinator ", nodes.id(first), ": ", nodes.id(second), " holds the role after ",
          seconds_text(role_after), ", its partitions are led again after ", seconds_text(seconds_since(first_killed_at)),
          ";", moved.describe(nodes));

  // Then the new coordinator, which follows the partitions of the third node.
  const size_t last = live[0] == second ? live[1] : live[0];
  auto through_last = nodes.client(last);
  auto more = specs_on("coord-more", 30, 1000);
  for (const auto& s : more) start_until_acknowledged(*through_last, s);
  const auto second_killed_at = steady::now();
  nodes.kill(second);
  CHECK(wait_for_coordinator(hub, {last}) == last);
  const double last_role_after = seconds_since(second_killed_at);
  const auto owners = wait_for_leaders(hub, {last});
  MESSAGE("kill -9 of ", nodes.id(second), ": ", nodes.id(last), " holds the role after ", seconds_text(last_role_after),
          " and leads every partition after ", seconds_text(seconds_since(second_killed_at)), ";",
          owners.describe(nodes));
  CHECK(owners.partitions_of(last).size() == partition_count);

  // The last node serves: new instances on every partition, and everything started before.
  auto last_ones = specs_on("coord-last", 12, 2000);
  for (const auto& s : last_ones) start_until_acknowledged(*through_last, s);
  const auto expected = verify_instances(*through_last, acknowledged + more + last_ones);
  check_listing(*through_last, expected, "node " + nodes.id(last) + " alone");
  print_lines("the coordinators' moves", lines_with(nodes, "moving it to"));
}

TEST_CASE("replicated cluster: entities called from orchestrations across partitions count exactly once across kill -9s "
          "of nodes") {
  replicated_hub hub("entities");
  auto& nodes = hub.nodes;
  wait_for_leaders(hub, {0, 1, 2});
  // CountOnEntities(seed) calls "add" 1 on the counters c<(seed + i) mod 12>, i < 10, one call at a
  // time; the 12 counters' partitions are spread over the three nodes.
  constexpr int orchestrations = 60, calls = 10, counters = 12;
  std::vector<instance_spec> specs;
  std::map<std::string, int> expected;
  for (int seed = 0; seed < orchestrations; ++seed) {
    specs.push_back({"count-" + std::to_string(seed), "CountOnEntities", seed});
    for (int i = 0; i < calls; ++i) ++expected["c" + std::to_string((seed + i) % counters)];
  }
  // A third started through every node; the second third while b is killed and taken over; the
  // last third while b has come back and c is killed.
  // Each kill comes right after starts, with their calls in flight.
  for (int k = 0; k < 20; ++k) start_now(*nodes.client(static_cast<size_t>(k % 3)), specs[k]);
  nodes.kill(1);
  {
    auto through_a = nodes.client(0);
    auto through_c = nodes.client(2);
    for (int k = 20; k < 40; ++k) start_until_acknowledged(k % 2 ? *through_a : *through_c, specs[k]);
  }
  nodes.start(1);
  nodes.kill(2);
  {
    auto through_a = nodes.client(0);
    auto through_b = nodes.client(1);
    for (int k = 40; k < orchestrations; ++k) start_until_acknowledged(k % 2 ? *through_a : *through_b, specs[k]);
  }
  nodes.start(2);

  auto through = nodes.client(0);
  for (const auto& s : specs) {
    const auto record = read_retrying([&] { return through->wait_for_completion(s.id, 60s); });
    CHECK_MESSAGE(record.status == runtime_status::completed, s.id, " ended ", to_string(record.status), " ",
                  record.failure ? record.failure->message : "");
    CHECK_MESSAGE(record.output == std::to_string(calls), s.id, " output ", record.output);
  }
  // Every call applied once: a call re-sent after a takeover, or answered twice, would show here.
  for (const auto& [key, count] : expected) {
    const auto entity = read_retrying([&] { return through->get_entity(entity_id{"Counter", key}); });
    REQUIRE_MESSAGE(entity, "counter ", key, " does not exist");
    CHECK_MESSAGE(entity->state == std::to_string(count), "counter ", key, " holds ", entity->state, ", expected ",
                  count);
  }
  print_lines("the coordinators' moves", lines_with(nodes, "moving it to"));
}

// ---- Snapshots and trimming ----

namespace {

// What a partition's log stream holds now, as the servers say.
struct log_size {
  uint64_t first = 0, last = 0, messages = 0, bytes = 0;
};

log_size log_size_of(replicated_hub& hub, uint32_t p) {
  const std::string stream = "perdure_" + hub.name + "_p" + std::to_string(p);
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  const natsStatus s = storage::retry_transient(hub.tables->connection(), code, [&] {
    return js_GetStreamInfo(&info, hub.tables->connection().context(), stream.c_str(), nullptr, &code);
  });
  if (s != NATS_OK) storage::fail_jetstream(s, code, "cannot read the state of " + stream);
  const log_size out{info->State.FirstSeq, info->State.LastSeq, info->State.Msgs, info->State.Bytes};
  jsStreamInfo_Destroy(info);
  return out;
}

std::string describe(const log_size& size) {
  return "records " + std::to_string(size.first) + "-" + std::to_string(size.last) + ": " +
         std::to_string(size.messages) + " messages, " + std::to_string(size.bytes) + " bytes";
}

// Waits until the owner trimmed partition p's log (it stored a snapshot first); fails after `limit`.
log_size wait_for_trim(replicated_hub& hub, uint32_t p, std::chrono::seconds limit = 60s) {
  const auto deadline = steady::now() + limit;
  for (;;) {
    const auto size = log_size_of(hub, p);
    if (size.first > 1) return size;
    hub.nodes.output();
    REQUIRE_MESSAGE(steady::now() < deadline, "the log of partition ", p, " was not trimmed after ", limit.count(),
                    " s: ", describe(size));
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

TEST_CASE("replicated cluster: a partition whose owner and follower both lost their data dirs is rebuilt from its "
          "snapshot and the log's tail") {
  constexpr int snapshot_every = 40;
  replicated_hub hub("rebuilt", {"--snapshot-every", std::to_string(snapshot_every)});
  auto& nodes = hub.nodes;
  const auto before = wait_for_leaders(hub, {0, 1, 2});
  constexpr uint32_t p = 0;
  const size_t owner = before.owner[p];
  const auto entry = hub.tables->assignment(p);
  REQUIRE(entry);
  REQUIRE(entry->followers.size() == 1);
  const size_t follower = hub.index_of(entry->followers[0]);
  const size_t other = 3 - owner - follower;
  REQUIRE(other < 3);
  auto through_other = nodes.client(other);

  // Enough commits on partition p for several snapshots, the log trimmed below the newest.
  auto acknowledged = specs_on("rebuilt", 40, 0, {p}, "FanAndChild");
  for (const auto& s : acknowledged) start_now(*through_other, s);
  for (const auto& s : acknowledged) through_other->wait_for_completion(s.id, 60s);
  const auto trimmed = wait_for_trim(hub, p);
  MESSAGE("partition ", p, "'s log after ", acknowledged.size(), " instances: ", describe(trimmed));
  const auto taken = sample_of(nodes, owner, "perdure_cluster_snapshots_taken_total");
  REQUIRE(taken);
  CHECK(*taken >= 1);

  // Slow ones in flight when both copies go.
  const auto in_flight = specs_on("rebuilt-slow", 10, 1000, {p}, "SlowFanAndChild");
  for (const auto& s : in_flight) start_now(*through_other, s);
  acknowledged = acknowledged + in_flight;
  std::this_thread::sleep_for(300ms);
  const auto at_kill = log_size_of(hub, p);
  nodes.kill(owner);
  nodes.kill(follower);
  nodes.wipe(owner);
  nodes.wipe(follower);
  MESSAGE("killed ", nodes.id(owner), " (owner of partition ", p, ") and ", nodes.id(follower),
          " (its follower), deleted both data dirs; the log then held ", describe(at_kill));
  // Nobody keeps a copy of partition p: its next owner reads the log from record 1, which is gone.
  REQUIRE(at_kill.first > 1);
  nodes.start(owner);
  nodes.start(follower);
  const auto after = wait_for_leaders(hub, {0, 1, 2});
  MESSAGE("partition ", p, " led again by ", nodes.id(after.owner[p]), " in epoch ", after.epoch[p], ";",
          after.describe(nodes));

  const auto expected = verify_instances(*through_other, acknowledged);
  settle_rebalance(hub, {0, 1, 2});  // the restarted nodes may get partitions back
  check_listing_everywhere(nodes, {0, 1, 2}, expected);
  check_ledger(*through_other, expected, hub.ledger);
}

TEST_CASE("replicated cluster: the log of a busy partition stays bounded: snapshots and trims keep up with the load") {
  // Long form: PERDURE_SNAPSHOT_ROUNDS=200 (docs/reliability.md).
  const char* rounds_text = std::getenv("PERDURE_SNAPSHOT_ROUNDS");
  const int rounds = rounds_text ? std::max(1, std::atoi(rounds_text)) : 6;
  constexpr int snapshot_every = 50;
  replicated_hub hub("bounded", {"--snapshot-every", std::to_string(snapshot_every)});
  auto& nodes = hub.nodes;
  const auto owners = wait_for_leaders(hub, {0, 1, 2});
  constexpr uint32_t p = 1;
  auto through = nodes.client(owners.owner[p]);
  uint64_t largest = 0;
  std::vector<instance_spec> all;
  for (int round = 0; round < rounds; ++round) {
    const auto specs = specs_on("busy-" + std::to_string(round), 25, round * 100, {p}, "FanAndChild");
    for (const auto& s : specs) start_now(*through, s);
    for (const auto& s : specs) through->wait_for_completion(s.id, 60s);
    all = all + specs;
    const auto size = log_size_of(hub, p);
    largest = std::max(largest, size.messages);
    MESSAGE("round ", round + 1, "/", rounds, ": partition ", p, "'s log holds ", describe(size));
  }
  // Once the load stops, the owner's next snapshot leaves fewer than `snapshot_every` records after
  // it, and half as many before it.
  constexpr uint64_t bound = snapshot_every + snapshot_every / 2;
  const auto deadline = steady::now() + 30s;
  log_size size;
  while ((size = log_size_of(hub, p)).messages > bound && steady::now() < deadline) {
    nodes.output();
    std::this_thread::sleep_for(100ms);
  }
  MESSAGE("after the load: ", describe(size), "; at most ", largest, " messages during it");
  CHECK(size.first > 1);
  CHECK(size.messages <= bound);
  CHECK(size.last > largest);  // the records appended outnumber the most ever held
  // The owner's /metrics say what it stored and trimmed.
  const auto metrics = metrics_of(nodes, owners.owner[p]);
  REQUIRE(metrics);
  const auto snapshot_seq = sample(*metrics, "perdure_partition_snapshot_seq{partition=\"1\"}");
  const auto first_seq = sample(*metrics, "perdure_partition_log_first_seq{partition=\"1\"}");
  const auto taken = sample(*metrics, "perdure_cluster_snapshots_taken_total");
  REQUIRE((snapshot_seq && first_seq && taken));
  MESSAGE("the owner's /metrics: ", *taken, " snapshots taken, partition ", p, "'s newest at record ", *snapshot_seq,
          ", its log starting at ", *first_seq);
  CHECK(*taken >= 2);
  CHECK(*first_seq > 1);
  CHECK(*first_seq == *snapshot_seq - snapshot_every / 2);
  const auto expected = verify_instances(*through, all);
  check_ledger(*through, expected, hub.ledger);
}

// ---- Growing and shrinking: a node joins, another drains ----

namespace {

nlohmann::json cli_json(replicated_hub& hub, size_t node, const std::vector<std::string>& command) {
  std::vector<std::string> args{"--endpoint", "http://127.0.0.1:" + std::to_string(hub.nodes.http_port(node)), "-o",
                                "json"};
  args.insert(args.end(), command.begin(), command.end());
  const auto r = cli_test::run_cli(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out.empty() ? nlohmann::json{} : nlohmann::json::parse(r.out);
}

// The error output of a `perdure` command the node refuses as invalid (400: exit code 2).
std::string cli_refusal(replicated_hub& hub, size_t node, const std::vector<std::string>& command) {
  std::vector<std::string> args{"--endpoint", "http://127.0.0.1:" + std::to_string(hub.nodes.http_port(node))};
  args.insert(args.end(), command.begin(), command.end());
  const auto r = cli_test::run_cli(args);
  CHECK_MESSAGE(r.exit_code == 2, r.out, r.err);
  return r.err;
}

// Polls `perdure cluster members` on `node` until `done` holds for its answer; fails after 30 s.
nlohmann::json wait_for_members(replicated_hub& hub, size_t node, const std::string& what,
                                const std::function<bool(const nlohmann::json&)>& done) {
  const auto deadline = steady::now() + 30s;
  for (;;) {
    auto view = cli_json(hub, node, {"cluster", "members"});
    if (done(view)) return view;
    REQUIRE_MESSAGE(steady::now() < deadline, "node ", node, ": not ", what, " after 30 s: ", view.dump());
    std::this_thread::sleep_for(200ms);
  }
}

bool lists_member(const nlohmann::json& view, const std::string& id) {
  return std::ranges::any_of(view["members"], [&](const auto& m) { return m["nodeId"] == id; });
}

}  // namespace

TEST_CASE("replicated cluster: a node joins knowing only the NATS servers and takes partitions over, a drained node "
          "gives all of them away, stops, is removed and re-enrolls, and every instance completes once") {
  replicated_hub hub("elastic", {}, {"d"});
  auto& nodes = hub.nodes;
  constexpr size_t a = 0, b = 1, c = 2, d = 3;
  const auto before = wait_for_leaders(hub, {a, b, c});
  MESSAGE("before:", before.describe(nodes));

  auto through_a = nodes.client(a);
  const auto first = specs_on("elastic", 150, 0);  // fast and slow fan-outs with a sub-orchestration each
  for (const auto& s : first) start_now(*through_a, s);
  // More starts while partitions move (a start refused during a flip is retried).
  const auto while_joining = specs_on("elastic-join", 100, 1000);
  const auto while_draining = specs_on("elastic-drain", 100, 2000);

  // d: --advertise and --nats only. The coordinator moves partitions to it one at a time, through
  // a follower, until no member owns two more than another.
  const auto join_begun = steady::now();
  nodes.start(d);
  for (const auto& s : while_joining) start_until_acknowledged(*through_a, s);
  const auto joined = wait_for_table(hub, "d owns partitions and the load is even", [&](const table_rows& rows) {
    const auto counts = {owned_by(rows, "a"), owned_by(rows, "b"), owned_by(rows, "c"), owned_by(rows, "d")};
    return no_move_under_way(rows) && owned_by(rows, "d") > 0 && std::ranges::max(counts) <= std::ranges::min(counts) + 1;
  });
  MESSAGE("d owns ", owned_by(joined, "d"), " partitions after ", seconds_text(seconds_since(join_begun)));
  for (uint32_t p = 0; p < partition_count; ++p)
    if (joined[p].owner == "d") CHECK(joined[p].epoch == before.epoch[p] + 1);  // one flip, no failover
  wait_for_leaders(hub, {a, b, c, d});
  CHECK_MESSAGE(cli_refusal(hub, a, {"cluster", "remove", "c"}).find("member 'c' still owns partition") !=
                    std::string::npos,
                "c owns partitions: it is not removed");

  // Drain c through the CLI (a real `perdure` process, against the node that joined).
  const auto drain_begun = steady::now();
  cli_json(hub, d, {"cluster", "drain", "c"});
  for (const auto& s : while_draining) start_until_acknowledged(*through_a, s);
  const auto drained = wait_for_table(hub, "c owns and follows nothing", [&](const table_rows& rows) {
    return no_move_under_way(rows) && owned_by(rows, "c") == 0 &&
           std::ranges::none_of(rows, [](const auto& r) { return std::ranges::find(r.followers, "c") != r.followers.end(); });
  });
  MESSAGE("c drained after ", seconds_text(seconds_since(drain_begun)));
  for (const auto& node : {"a", "b", "d"}) CHECK(owned_by(drained, node) == 2);
  wait_for_leaders(hub, {a, b, d});
  CHECK_MESSAGE(cli_refusal(hub, b, {"cluster", "remove", "c"}).find("member 'c' is running") != std::string::npos,
                "c owns nothing but runs: it is not removed");
  nodes.terminate(c);

  // What `perdure cluster partitions` shows once c is gone: the table, unchanged by c's stop.
  nlohmann::json members;
  const auto deadline = steady::now() + 30s;
  do {
    members = cli_json(hub, a, {"cluster", "members"});
    const auto& list = members["members"];
    const auto it = std::ranges::find_if(list, [](const auto& m) { return m["nodeId"] == "c"; });
    REQUIRE(it != list.end());
    CHECK((*it)["state"] == "draining");
    if ((*it)["reachable"] == false) break;
    std::this_thread::sleep_for(200ms);
  } while (steady::now() < deadline);
  std::this_thread::sleep_for(3s);  // past the heartbeat timeout: a coordinator that lost c would act now
  const auto shown = cli_json(hub, d, {"cluster", "partitions"})["partitions"];
  REQUIRE(shown.size() == partition_count);
  for (uint32_t p = 0; p < partition_count; ++p) {
    const auto now = hub.tables->assignment(p).value();
    CHECK(now == drained[p]);
    CHECK(shown[p]["owner"] == now.owner);
    CHECK(shown[p]["epoch"] == now.epoch);
    CHECK(shown[p]["followers"] == nlohmann::json(now.followers));
    CHECK(shown[p]["movingTo"].is_null());
  }

  // c is gone for good: removed, every member forgets it and the hub is whole again. Until then
  // every member tries to reach the stopped c on each tick; after it, none does.
  const auto attempts = [&] {
    std::vector<double> out;
    for (const size_t node : {a, b, d})
      out.push_back(sample_of(nodes, node, "perdure_cluster_connection_attempts_total").value_or(-1));
    return out;
  };
  const auto tried_before = attempts();
  std::this_thread::sleep_for(1500ms);
  const auto tried_later = attempts();
  for (size_t i = 0; i < 3; ++i)
    CHECK_MESSAGE(tried_later[i] > tried_before[i], "a member does not retry the stopped c: ", tried_before[i], " -> ",
                  tried_later[i], " connection attempts");
  CHECK(cli_json(hub, b, {"cluster", "remove", "c"})["state"] == "removed");
  for (const size_t node : {a, b, d})
    wait_for_members(hub, node, "all up without c", [](const nlohmann::json& view) {
      return view["status"] == "AllMembersUp" && !lists_member(view, "c") && view["members"].size() == 3;
    });
  std::this_thread::sleep_for(500ms);  // an attempt under way when the roster came
  const auto forgotten = attempts();
  std::this_thread::sleep_for(2s);
  CHECK_MESSAGE(attempts() == forgotten, "a member still tries to reach the removed c");

  const auto all = first + while_joining + while_draining;
  const auto ids = verify_instances(*through_a, all);
  check_ledger(*through_a, ids, hub.ledger);
  check_listing_everywhere(nodes, {a, b, d}, ids);

  // c starts again with the same id: it enrolls, active, and every member lists it again.
  nodes.start(c);
  for (const size_t node : {a, b, d})
    wait_for_members(hub, node, "all up with c active", [](const nlohmann::json& view) {
      return view["status"] == "AllMembersUp" && std::ranges::any_of(view["members"], [](const auto& m) {
               return m["nodeId"] == "c" && m["state"] == "active" && m["reachable"] == true;
             });
    });
}

namespace {

// Polls the table until partition p's move to `target` is under way (its entry names the target),
// then returns; fails the test after `limit`.
void wait_for_move(replicated_hub& hub, uint32_t p, const std::string& target, std::chrono::seconds limit = 30s) {
  const auto deadline = steady::now() + limit;
  for (;;) {
    try {
      if (const auto a = hub.tables->assignment(p); a && a->moving_to == target) return;
    } catch (const storage::store_error&) {
    }
    REQUIRE_MESSAGE(steady::now() < deadline, "partition ", p, " is not moving to ", target, " after ", limit.count(), " s");
    std::this_thread::sleep_for(10ms);
  }
}

// Kills node i at once; says whether the move of p was still under way then (not flipped yet).
bool kill_during_move(replicated_hub& hub, size_t i, uint32_t p) {
  hub.nodes.kill(i);
  const auto a = read_retrying([&] { return hub.tables->assignment(p).value(); });
  return !a.moving_to.empty();
}

std::vector<size_t> all_but(size_t lost) {
  std::vector<size_t> out;
  for (size_t i = 0; i < 3; ++i)
    if (i != lost) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("replicated cluster: kill -9 of a move's source, of a move's target and of the coordinator during a "
          "rebalance, and every instance completes once") {
  replicated_hub hub("moves");
  auto& nodes = hub.nodes;
  constexpr size_t a = 0, b = 1, c = 2;
  auto placed = wait_for_leaders(hub, {a, b, c});
  const auto through_b = nodes.client(b), through_c = nodes.client(c);
  cluster_client* through = through_b.get();
  auto specs = specs_on("moves", 150, 0);
  for (const auto& s : specs) start_now(*through, s);
  const auto more = [&](const std::string& prefix, int seed) {
    const auto batch = specs_on(prefix, 60, seed);
    for (const auto& s : batch) start_until_acknowledged(*through, s);
    specs = specs + batch;
  };

  // The source dies during the move: its first live follower takes the partition over, as after
  // any loss, and the move ends.
  const uint32_t p = placed.partitions_of(a).front();
  cli_json(hub, b, {"cluster", "move", std::to_string(p), "c"});
  wait_for_move(hub, p, "c");
  MESSAGE("source killed before the flip: ", kill_during_move(hub, a, p));
  more("moves-source", 1000);
  placed = wait_for_leaders(hub, all_but(a));
  CHECK(placed.epoch[p] > 1);
  nodes.start(a);
  more("moves-back", 2000);

  // a is back with nothing: the coordinator moves partitions to it. The target dies during one of
  // those moves: the move ends, the partition stays with its owner.
  const auto rebalancing = wait_for_table(hub, "a move to a is under way", [](const table_rows& rows) {
    return std::ranges::any_of(rows, [](const auto& r) { return r.moving_to == "a"; });
  });
  const auto q = static_cast<uint32_t>(std::ranges::find_if(rebalancing, [](const auto& r) { return r.moving_to == "a"; }) -
                                       rebalancing.begin());
  const auto q_owner = rebalancing[q].owner;
  MESSAGE("target killed before the flip: ", kill_during_move(hub, a, q));
  const auto after_target = wait_for_table(hub, "the move to the lost a has ended", [](const table_rows& rows) {
    return no_move_under_way(rows);
  });
  CHECK((after_target[q].owner == q_owner || after_target[q].owner == "a"));  // "a": it flipped before the kill
  more("moves-target", 3000);
  placed = wait_for_leaders(hub, all_but(a));

  // The coordinator dies while a rebalance moves partitions to the restarted a.
  nodes.start(a);
  wait_for_table(hub, "a rebalance to a is under way", [](const table_rows& rows) {
    return std::ranges::any_of(rows, [](const auto& r) { return r.moving_to == "a"; });
  });
  const size_t coordinator = wait_for_coordinator(hub, {a, b, c});
  nodes.kill(coordinator);
  if (coordinator == b) through = through_c.get();
  MESSAGE("coordinator ", nodes.id(coordinator), " killed during the rebalance");
  more("moves-coordinator", 4000);
  std::vector<size_t> live = all_but(coordinator);
  const auto settled = wait_for_table(hub, "the rebalance ends on the live nodes with an even load", [&](const table_rows& rows) {
    std::vector<size_t> counts;
    for (size_t i : live) counts.push_back(owned_by(rows, nodes.id(i)));
    return no_move_under_way(rows) && std::ranges::max(counts) <= std::ranges::min(counts) + 1 &&
           owned_by(rows, nodes.id(coordinator)) == 0;
  });
  wait_for_leaders(hub, live);

  const auto ids = verify_instances(*through, specs);
  check_ledger(*through, ids, hub.ledger);
  check_listing_everywhere(nodes, live, ids);
}

TEST_CASE("replicated cluster: a partition an operator moved stays there while the balancer evens the load out with "
          "the others, until it is unpinned") {
  replicated_hub hub("pinned");
  constexpr size_t a = 0, b = 1;
  const auto placed = wait_for_leaders(hub, {a, b, 2});
  const uint32_t p = placed.partitions_of(a).front();
  CHECK(cli_json(hub, b, {"cluster", "move", std::to_string(p), "c"})["pinned"] == true);

  // Once p flips, c owns 3 and a 1. Were p not pinned, the balancer would take it back to a (a
  // follows it: a warm copy); it moves one of c's others instead.
  const auto even = wait_for_table(hub, "p on c and the load even again", [&](const table_rows& rows) {
    return rows[p].owner == "c" && no_move_under_way(rows) && owned_by(rows, "a") == 2 && owned_by(rows, "b") == 2 &&
           owned_by(rows, "c") == 2;
  });
  CHECK(even[p].pinned);
  for (const auto deadline = steady::now() + 10s;; std::this_thread::sleep_for(100ms)) {
    const auto view = cli_json(hub, a, {"cluster", "partitions"});
    if (view["partitions"][p].value("pinned", false)) break;
    REQUIRE_MESSAGE(steady::now() < deadline, "node a's view does not show partition ", p, " pinned: ", view.dump());
  }
  std::this_thread::sleep_for(2s);  // ten coordinator rounds: nothing moves
  const auto later = wait_for_table(hub, "the table", [](const table_rows&) { return true; });
  for (uint32_t q = 0; q < partition_count; ++q) {
    CHECK(later[q].owner == even[q].owner);
    CHECK(later[q].epoch == even[q].epoch);
  }

  cli_json(hub, a, {"cluster", "unpin", std::to_string(p)});
  wait_for_table(hub, "p unpinned", [&](const table_rows& rows) { return !rows[p].pinned; });
}
