// Queue triggers on a real nats-server (started by the test on free ports) and a real node
// process (examples/cluster's cluster_node, one member): 10,000 messages across two kill -9s of the
// node start exactly 10,000 instances; a message delivered again starts nothing; a poison message
// is set aside while the queue goes on; bad --trigger flags are refused with a clear message.
#include "local_cluster.hpp"
#include "support/jetstream_options.hpp"
#include "support/nats_cluster.hpp"
#include "support/prometheus_sample.hpp"

#include <jetstream.hpp>

#include <doctest/doctest.h>
#include <httplib.h>

#include <map>
#include <thread>

using namespace perdure;
using namespace std::chrono_literals;
using testing_support::local_cluster;
using testing_support::nats_cluster;

namespace {

storage::jetstream_connection connect_to(const nats_cluster& servers) {
  return storage::jetstream_connection(testing_support::options_for(servers));
}

void add_stream(storage::jetstream_connection& nats, const char* name, const char* subject) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = name;
  const char* subjects[] = {subject};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  REQUIRE(js_AddStream(&info, nats.context(), &config, nullptr, &code) == NATS_OK);
  jsStreamInfo_Destroy(info);
}

void publish(storage::jetstream_connection& nats, const std::string& subject, const std::string& header,
             const std::string& id, const std::string& data) {
  natsMsg* msg = nullptr;
  REQUIRE(natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) == NATS_OK);
  natsMsgHeader_Set(msg, header.c_str(), id.c_str());
  jsPubAck* ack = nullptr;
  jsErrCode code{};
  const natsStatus s = js_PublishMsg(&ack, nats.context(), msg, nullptr, &code);
  natsMsg_Destroy(msg);
  if (ack) jsPubAck_Destroy(ack);
  REQUIRE_MESSAGE(s == NATS_OK, storage::describe("publish", s, code));
}

// The stream sequence below which every message was acked by the durable consumer (0 before it exists).
uint64_t acked_floor(storage::jetstream_connection& nats, const char* stream, const char* durable) {
  jsConsumerInfo* info = nullptr;
  jsErrCode code{};
  uint64_t floor = 0;
  if (js_GetConsumerInfo(&info, nats.context(), stream, durable, nullptr, &code) == NATS_OK) {
    floor = info->AckFloor.Stream;
    jsConsumerInfo_Destroy(info);
  }
  return floor;
}

std::map<std::string, instance_record> every_instance(client& c) {
  std::map<std::string, instance_record> all;
  instance_query query;
  query.page_size = 1000;
  do {
    auto page = c.list(query);
    for (auto& r : page.records) {
      const auto [_, inserted] = all.emplace(r.instance_id, r);
      REQUIRE_MESSAGE(inserted, r.instance_id, " listed twice");
    }
    query.continuation_token = page.continuation_token;
  } while (!query.continuation_token.empty());
  return all;
}

template <class Condition>
void wait_until(std::chrono::seconds limit, const std::string& what, Condition done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "timed out waiting for ", what);
    std::this_thread::sleep_for(100ms);
  }
}

double metric(const local_cluster& cluster, const std::string& sample) {
  httplib::Client http("127.0.0.1", cluster.http_port(0));
  auto response = http.Get("/metrics");
  REQUIRE(response);
  return testing_support::sample_value(response->body, sample);
}

}  // namespace

TEST_CASE("queue trigger: 10,000 messages across two kill -9s of the node start exactly 10,000 instances, each once") {
  nats_cluster servers(1);
  auto nats = connect_to(servers);
  add_stream(nats, "orders", "orders.new");
  local_cluster cluster({"a"}, 4,
                        {"--trigger", "subject=orders.new,orchestration=Chain,durable=fulfil,ack-wait=2,workers=16",
                         "--trigger-nats", servers.url(0)});
  cluster.enable_http();
  cluster.start(0);

  // Published over ~5 s, so that both kills fall while messages still arrive.
  constexpr int messages = 10'000;
  std::jthread publisher([&] {
    for (int i = 0; i < messages; ++i) {
      publish(nats, "orders.new", "Nats-Msg-Id", "order-" + std::to_string(i), std::to_string(i));
      if (i % 3 == 0) std::this_thread::sleep_for(1ms);
    }
  });
  // Kill -9 twice while messages are being consumed, each time restarting on the same data dir.
  for (const uint64_t kill_at : {2'500u, 6'000u}) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    uint64_t acked = 0;
    while ((acked = acked_floor(nats, "orders", "fulfil")) < kill_at) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(10ms);
    }
    MESSAGE("kill -9 after " << acked << " messages acked");
    CHECK(acked < messages);
    cluster.restart(0, 200ms);
  }
  publisher.join();

  auto c = cluster.client(0);
  wait_until(60s, "every message to be acked", [&] { return acked_floor(nats, "orders", "fulfil") >= messages; });
  std::map<std::string, instance_record> all;
  wait_until(60s, "10,000 completed instances", [&] {
    all = every_instance(*c);
    size_t completed = 0;
    for (const auto& [_, r] : all) completed += r.status == runtime_status::completed;
    return completed == messages;
  });
  REQUIRE(all.size() == messages);
  const std::string labels = "{subject=\"orders.new\",durable=\"fulfil\"}";
  MESSAGE("after the last restart: " << metric(cluster, "perdure_queue_redeliveries_total" + labels)
                                     << " redeliveries, "
                                     << metric(cluster, "perdure_queue_instances_existing_total" + labels)
                                     << " found their instance started");
  for (int i = 0; i < messages; ++i) {
    const auto r = all.find("order-" + std::to_string(i));
    REQUIRE(r != all.end());
    CHECK(r->second.output == std::to_string(i));
  }
  // Nothing is delivered and handled again later: an instance started a second time would have a
  // new creation time (a new execution).
  std::this_thread::sleep_for(3s);
  const auto again = every_instance(*c);
  REQUIRE(again.size() == messages);
  for (const auto& [id, r] : again) CHECK(r.created_at == all.at(id).created_at);
}

TEST_CASE("queue trigger: a message delivered again starts nothing, and a poison message is set aside while the "
          "queue goes on") {
  nats_cluster servers(1);
  auto nats = connect_to(servers);
  // stream= names a stream that does not exist: the node creates it.
  local_cluster cluster({"a"}, 2,
                        {"--trigger", "subject=shop.orders,orchestration=Chain,stream=shop,header=Order-Id,max-deliveries=3",
                         "--trigger-nats", servers.url(0)});
  cluster.enable_http();
  cluster.start(0);
  auto c = cluster.client(0);
  const std::string labels = "{subject=\"shop.orders\",durable=\"perdure_Chain\"}";

  publish(nats, "shop.orders", "Order-Id", "o-1", "5");
  const auto first = testing_support::wait_through_restarts(*c, "o-1", 30s);
  CHECK(first.output == "5");  // Chain passes its input through three no-op activities

  // The same id again (no Nats-Msg-Id, so the stream keeps both): the completed instance stays as it is.
  publish(nats, "shop.orders", "Order-Id", "o-1", "7");
  wait_until(30s, "the repeated message to be handled",
             [&] { return metric(cluster, "perdure_queue_instances_existing_total" + labels) == 1; });
  const auto after = c->status("o-1");
  REQUIRE(after);
  CHECK(after->created_at == first.created_at);
  CHECK(after->input == "5");
  CHECK(after->output == "5");

  // A payload that is not JSON, then an id that is not a valid instance id, then a good message:
  // the good one completes while the bad ones are retried, and they are set aside after 3 deliveries.
  publish(nats, "shop.orders", "Order-Id", "o-2", "{not json");
  publish(nats, "shop.orders", "Order-Id", "o/3", "1");
  publish(nats, "shop.orders", "Order-Id", "o-4", "1");
  CHECK(testing_support::wait_through_restarts(*c, "o-4", 30s).output == "1");
  wait_until(30s, "two poison messages",
             [&] { return metric(cluster, "perdure_queue_poison_messages_total" + labels) == 2; });
  CHECK_FALSE(c->status("o-2"));
  CHECK(metric(cluster, "perdure_queue_instances_started_total" + labels) == 2);
  CHECK(metric(cluster, "perdure_queue_redeliveries_total" + labels) == 4);  // 2 more deliveries of each
  CHECK(metric(cluster, "perdure_queue_messages_received_total" + labels) == 2 + 2 * 3 + 1);
  size_t poison_lines = 0;
  for (const auto& line : cluster.output())
    poison_lines += line.find("poison message set aside") != std::string::npos;
  CHECK(poison_lines == 2);
}

namespace {

// Runs a node with `args` and its stderr merged into stdout; returns its exit code and output.
std::pair<int, std::string> run_node(const std::vector<std::string>& args) {
  std::string command = "exec";
  for (const auto& a : std::vector<std::string>{CLUSTER_NODE_PATH} ) command += " '" + a + "'";
  for (const auto& a : args) command += " '" + a + "'";
  testing_support::child_process node({"/bin/sh", "-c", command + " 2>&1"});
  std::string out;
  while (auto line = node.read_line(30'000)) out += *line + "\n";
  return {node.wait(), out};
}

}  // namespace

TEST_CASE("queue trigger: bad --trigger flags and triggers that cannot run are refused with a clear message") {
  testing_support::scratch_dir dir;
  const auto data = (dir.path() / "data").string();
  const auto refused = [&](std::vector<std::string> args, int exit_code, const std::string& says) {
    args.insert(args.end(), {"--data", data, "--log-level", "error"});
    const auto [code, out] = run_node(args);
    CHECK_MESSAGE(code == exit_code, out);
    CHECK_MESSAGE(out.find(says) != std::string::npos, "expected '", says, "' in:\n", out);
  };
  refused({"--trigger", "subject=orders.new", "--trigger-nats", "nats://127.0.0.1:1"}, 2, "orchestration is missing");
  refused({"--trigger", "subject=a,orchestration=Chain,colour=red", "--trigger-nats", "nats://127.0.0.1:1"}, 2,
          "unknown key 'colour'");
  refused({"--trigger", "subject=a,orchestration=Chain,workers=0", "--trigger-nats", "nats://127.0.0.1:1"}, 2,
          "workers must be a whole number from 1 to 256, not '0'");
  refused({"--trigger", "subject=a,orchestration=Chain"}, 2, "--trigger needs --trigger-nats");

  nats_cluster servers(1);
  refused({"--trigger", "subject=a,orchestration=Nope", "--trigger-nats", servers.url(0)}, 1,
          "no orchestration named 'Nope' is registered");
  refused({"--trigger", "subject=nowhere,orchestration=Chain", "--trigger-nats", servers.url(0)}, 1,
          "no JetStream stream holds subject 'nowhere'");
}
